"""Kaplan-Meier figures for the study report, rendered to PNG or SVG bytes without a display.

The curves and the numbers-at-risk table are drawn from `statistics.kaplan_meier`, so the figure
shows exactly the numbers the report's tables print (lifelines' own add_at_risk_counts counts
patients at risk *after* t, which would disagree with the tables at a tick that is an event time).

Rendering uses a `matplotlib.figure.Figure` on its own `FigureCanvasAgg`: no pyplot, so no global
current figure, no backend switch (`matplotlib.use`) and nothing shared between threads or requests
except matplotlib's font cache.
"""
from __future__ import annotations

import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Sequence


def _private_matplotlib_config_dir() -> str:
    # matplotlib keeps its font cache in MPLCONFIGDIR, by default under the home directory. A
    # service account's home is often read-only, and matplotlib then warns and rebuilds the cache
    # in a fresh temporary directory on every start. A per-user directory under the system temp
    # dir is reused across processes; it must be ours and not writable by others (the cache is
    # read back), else a private one is made. It also keeps a user's matplotlibrc out of the
    # report's figures.
    uid = os.getuid() if hasattr(os, "getuid") else None
    candidate = Path(tempfile.gettempdir()) / f"registry-matplotlib-{uid if uid is not None else 'user'}"
    try:
        candidate.mkdir(mode=0o700, exist_ok=True)
        status = candidate.lstat()
        owned = uid is None or status.st_uid == uid
        private = not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if stat.S_ISDIR(status.st_mode) and owned and private:
            return str(candidate)
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="registry-matplotlib-")


# Before matplotlib is first imported: it reads MPLCONFIGDIR once, at import. A value already set
# (by the deployment, or a developer) is respected.
if not os.environ.get("MPLCONFIGDIR"):
    os.environ["MPLCONFIGDIR"] = _private_matplotlib_config_dir()

import matplotlib  # noqa: E402 - needs MPLCONFIGDIR first
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from .statistics import SurvivalGroup, kaplan_meier  # noqa: E402

# SVG: text stays text (an investigator edits the labels of a figure for a paper, and a browser finds
# them), and the element ids come from a fixed salt rather than a random one, so that the same inputs
# give the same file. Set once for the process: only the report draws with matplotlib, and these are
# read when a figure is saved, so a per-call rc_context would be shared state between threads anyway.
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "registry-study-report"})

# Okabe-Ito colours: distinguishable with colour-vision deficiency and in greyscale print, and fixed
# here so that a matplotlibrc cannot change the figure.
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
# A Kaplan-Meier figure is 7 inches wide and this high, plus as much again per group (its legend entry
# and its rows of the numbers-at-risk table).
KAPLAN_MEIER_HEIGHT_INCHES = 4.6
KAPLAN_MEIER_HEIGHT_PER_GROUP_INCHES = 0.45

# The image formats a figure is downloaded in, with their content types.
IMAGE_CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def new_figure(width_inches: float, height_inches: float, *, dpi: int) -> Figure:
    """A figure on its own Agg canvas (no pyplot), laid out by matplotlib's constrained layout."""
    figure = Figure(figsize=(width_inches, height_inches), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_bytes(figure: Figure, image_format: str) -> bytes:
    """The figure as a PNG or an SVG file. Deterministic for the same figure and matplotlib version:
    no software name or date in the file's metadata."""
    buffer = io.BytesIO()
    if image_format == "png":
        figure.savefig(buffer, format="png", metadata={"Software": None})
    elif image_format == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    else:
        raise ValueError(f"A figure is drawn as {' or '.join(IMAGE_CONTENT_TYPES)}, not {image_format!r}")
    return buffer.getvalue()


def kaplan_meier_png(
    groups: Sequence[SurvivalGroup],
    *,
    title: str,
    x_label: str = "Months",
    at_risk_times: Sequence[float],
    dpi: int = 150,
) -> bytes:
    """PNG of kaplan_meier_figure (same arguments)."""
    return figure_bytes(kaplan_meier_figure(groups, title=title, x_label=x_label, at_risk_times=at_risk_times,
                                            dpi=dpi), "png")


def kaplan_meier_figure(
    groups: Sequence[SurvivalGroup],
    *,
    title: str,
    x_label: str = "Months",
    at_risk_times: Sequence[float],
    dpi: int = 150,
) -> Figure:
    """The groups' Kaplan-Meier step curves, censoring ticks, a legend above the axes and a
    numbers-at-risk table under them at `at_risk_times` (also the x-axis ticks).

    Preconditions: at least one group; `at_risk_times` non-empty, increasing and ≥ 0. An empty
    group draws no curve but keeps its row of zeros in the table.

    Layout: the legend sits above the axes under the title, never over a curve or an axis; each row
    of the table is headed by its group's label, written over the row (not beside it, where a long
    label took the width from the curves).
    """
    if not groups:
        raise ValueError("kaplan_meier_png needs at least one group")
    ticks = tuple(float(time) for time in at_risk_times)
    if not ticks or any(time < 0 for time in ticks) or list(ticks) != sorted(set(ticks)):
        raise ValueError(f"at_risk_times must be non-empty, increasing and ≥ 0, got {at_risk_times!r}")

    summaries = [kaplan_meier(group, at_risk_times=ticks) for group in groups]
    longest = max((max(group.durations) for group in groups if group.n), default=0.0)
    x_max = max(ticks[-1], longest) * 1.02 or 1.0
    rows = len(groups)

    figure = new_figure(7.0, KAPLAN_MEIER_HEIGHT_INCHES + KAPLAN_MEIER_HEIGHT_PER_GROUP_INCHES * rows, dpi=dpi)
    grid = figure.add_gridspec(2, 1, height_ratios=(4.0, 0.35 + 0.5 * rows))
    curves = figure.add_subplot(grid[0])
    table = figure.add_subplot(grid[1], sharex=curves)

    for index, (group, summary) in enumerate(zip(groups, summaries)):
        colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
        legend = f"{group.label} (n={summary.n}, events={summary.events})"
        if summary.n == 0:
            curves.plot([], [], color=colour, label=legend)
            continue
        # A curve ends at its group's last follow-up time, as in R's plot.survfit.
        curves.step(summary.times, summary.survival, where="post", color=colour, linewidth=1.6,
                    label=legend)
        censored = [duration for duration, event in zip(group.durations, group.events) if not event]
        curves.plot(censored, [summary.survival_at(time) for time in censored], linestyle="none",
                    marker="|", markersize=9, markeredgewidth=1.3, color=colour)

    curves.set_ylabel("Survival probability")
    curves.set_ylim(-0.02, 1.04)
    curves.set_xlim(0, x_max)
    curves.set_xticks(ticks)
    curves.set_xlabel(x_label)
    curves.grid(True, color="#dddddd", linewidth=0.6)
    # Above the axes, outside them (constrained layout makes room), headed by the title: a figure
    # title beside an outside legend would share its band of the figure and overlap it.
    figure.legend(*curves.get_legend_handles_labels(), loc="outside upper left", frameon=False, fontsize="small",
                  title=title, title_fontsize="large", alignment="left")

    # Numbers at risk: one row per group, first group on top, one column per tick; the group's label
    # over its row, from the left edge of the axes, in the group's colour.
    label_x = blended_transform_factory(table.transAxes, table.transData)
    for index, (group, summary) in enumerate(zip(groups, summaries)):
        row = rows - 1 - index
        colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
        table.text(0, row + 0.45, group.label, transform=label_x, ha="left", va="center", fontsize="small",
                   color=colour)
        for time, count in zip(summary.at_risk_times, summary.numbers_at_risk):
            table.text(time, row, str(count), ha="center", va="center", fontsize="small", color=colour)
    table.set_ylim(-0.4, rows - 0.2)
    table.set_yticks([])
    table.set_title("Number at risk", loc="left", fontsize="small", fontweight="bold")
    table.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for spine in table.spines.values():
        spine.set_visible(False)
    return figure

