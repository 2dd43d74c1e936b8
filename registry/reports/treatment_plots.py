"""The swimmer and waterfall plots of the study report, drawn from the rows of
registry/reports/study_figures.py (which says what each bar and marker means) as PNG or SVG bytes.

Drawn like the Kaplan-Meier figures (registry/reports/plots.py): a Figure on its own Agg canvas, no
pyplot, fixed colours, the legend above the axes under the title.
"""
from __future__ import annotations

from collections import defaultdict

from .plots import Figure, new_figure
from .study_figures import (
    RECIST_PD_PERCENT, RECIST_PR_PERCENT, RESPONSE_COLOURS, RESPONSES, TREATMENT_CLASSES, TREATMENT_LABELS,
)

from matplotlib.patches import Patch  # noqa: E402, I001 - after .plots, which sets MPLCONFIGDIR first

# One patient's row of the swimmer is this high, whatever the number of patients, so that record
# IDs and markers stay readable: the figure grows with the cohort instead (73 patients: about 14 in).
SWIMMER_ROW_INCHES = 0.17
SWIMMER_MARGINS_INCHES = 2.0
SWIMMER_WIDTH_INCHES = 8.0
WATERFALL_SIZE_INCHES = (8.0, 5.0)
MARKER_COLOUR = "#000000"
FOLLOW_UP_COLOUR = "#888888"
NO_RESPONSE_COLOUR = "#cccccc"


def _empty(figure: Figure, title: str, message: str) -> Figure:
    axes = figure.add_subplot()
    axes.set_title(title, loc="left")
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return figure


def swimmer_figure(swimmer: dict, *, title: str, dpi: int = 150) -> Figure:
    """`swimmer` is study_figures.swimmer()'s dict: its rows top to bottom in their order."""
    rows = swimmer["rows"]
    figure = new_figure(SWIMMER_WIDTH_INCHES, SWIMMER_MARGINS_INCHES + SWIMMER_ROW_INCHES * max(len(rows), 4), dpi=dpi)
    if not rows:
        return _empty(figure, title, "No patient of cohorts 1 and 2 with a derived follow-up to show.")
    axes = figure.add_subplot()

    # Bars grouped by treatment class, one barh call each, so that each class has one legend entry.
    bars = defaultdict(lambda: ([], [], []))  # treatment → (row positions, lefts, widths)
    progressions, deaths, ongoing, follow_up = ([], []), ([], []), ([], []), []
    for position, row in enumerate(rows):
        for bar in row["bars"]:
            positions, lefts, widths = bars[bar["treatment"]]
            positions.append(position)
            lefts.append(bar["start_months"])
            widths.append(bar["end_months"] - bar["start_months"])
            if bar["progression_months"] is not None:
                progressions[0].append(bar["progression_months"])
                progressions[1].append(position)
            if bar["ongoing"]:
                ongoing[0].append(bar["end_months"])
                ongoing[1].append(position)
        last_end = max(bar["end_months"] for bar in row["bars"])
        if row["follow_up_months"] > last_end:
            follow_up.append((position, last_end, row["follow_up_months"]))
        if row["died"]:
            deaths[0].append(row["follow_up_months"])
            deaths[1].append(position)

    if follow_up:
        axes.hlines([p for p, _, _ in follow_up], [s for _, s, _ in follow_up], [e for _, _, e in follow_up],
                    color=FOLLOW_UP_COLOUR, linewidth=0.8, label="Follow-up off treatment", zorder=1)
    for key, label, colour in TREATMENT_CLASSES:
        if key in bars:
            positions, lefts, widths = bars[key]
            axes.barh(positions, widths, left=lefts, height=0.64, color=colour, edgecolor="white", linewidth=0.4,
                      label=label, zorder=2)
    if progressions[0]:
        axes.plot(*progressions, linestyle="none", marker="D", markersize=3.6, markerfacecolor="white",
                  markeredgecolor=MARKER_COLOUR, markeredgewidth=0.9, label="Progression", zorder=3)
    if deaths[0]:
        axes.plot(*deaths, linestyle="none", marker="X", markersize=5.5, color=MARKER_COLOUR,
                  markeredgecolor="white", markeredgewidth=0.4, label="Death", zorder=3)
    if ongoing[0]:
        axes.plot(*ongoing, linestyle="none", marker=">", markersize=4.5, color=MARKER_COLOUR,
                  label="Treatment ongoing at the end of follow-up", zorder=3)

    axes.set_yticks(range(len(rows)), [row["record_id"] for row in rows], fontsize=6)
    axes.set_ylim(len(rows) - 0.4, -0.6)  # first row on top
    axes.set_xlim(0, max(row["follow_up_months"] for row in rows) * 1.04 or 1.0)
    axes.set_xlabel("Months from the start of the index line (the second-generation ALK-TKI that progressed)")
    axes.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    # Treatments first, then the markers (matplotlib would list the markers' lines before the bars).
    handles, labels = axes.get_legend_handles_labels()
    order = sorted(range(len(handles)), key=lambda index: labels[index] not in TREATMENT_LABELS.values())
    figure.legend([handles[index] for index in order], [labels[index] for index in order], loc="outside upper left",
                  frameon=False, fontsize="small", ncols=3, title=title, title_fontsize="large", alignment="left")
    return figure


def waterfall_figure(waterfall: dict, *, title: str, dpi: int = 150) -> Figure:
    """`waterfall` is study_figures.waterfall()'s dict: one bar per line, left to right in its order."""
    bars = waterfall["bars"]
    figure = new_figure(*WATERFALL_SIZE_INCHES, dpi=dpi)
    if not bars:
        return _empty(figure, title, "No line with a measured change of the target sum to show.")
    axes = figure.add_subplot()

    colours = [RESPONSE_COLOURS.get(bar["best_response"], NO_RESPONSE_COLOUR) for bar in bars]
    axes.bar(range(len(bars)), [bar["best_pct_change"] for bar in bars], width=0.8, color=colours, zorder=2)
    # Every response in the legend, drawn or not, so that the colours read the same in every report;
    # Non-CR/Non-PD (a line without target lesions, which has no bar) and no best response only when drawn.
    drawn = {bar["best_response"] for bar in bars}
    legend = [Patch(facecolor=colour, label=label) for key, label, colour in RESPONSES
              if key in drawn or key != "NON-CR/NON-PD"]
    legend += [Patch(facecolor=NO_RESPONSE_COLOUR, label="No best response")] * bool(drawn - set(RESPONSE_COLOURS))

    axes.axhline(0, color="#000000", linewidth=0.8, zorder=3)
    for percent, meaning in ((RECIST_PR_PERCENT, "partial response"), (RECIST_PD_PERCENT, "progression")):
        # Over the bars: the thresholds are what the reader compares each bar with.
        axes.axhline(percent, color="#222222", linewidth=0.9, linestyle=(0, (4, 3)), zorder=3)
        axes.annotate(f"{percent:+d} % ({meaning})".replace("-", "\u2212"), xy=(1, percent),
                      xycoords=("axes fraction", "data"), xytext=(-2, 3), textcoords="offset points", ha="right",
                      va="bottom", fontsize="x-small", color="#222222", zorder=4,
                      bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    heights = [bar["best_pct_change"] for bar in bars]
    axes.set_ylim(min(-100.0, min(heights)) - 5, max(RECIST_PD_PERCENT + 15.0, max(heights) + 10))
    axes.set_xlim(-0.8, len(bars) - 0.2)
    axes.set_xticks([])
    axes.set_xlabel(f"Lines ({len(bars)}), from the largest increase to the largest decrease")
    axes.set_ylabel("Best change of the target sum from baseline (%)")
    axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.legend(handles=legend, loc="outside upper left", frameon=False, fontsize="small", ncols=3, title=title,
                  title_fontsize="large", alignment="left")
    return figure
