"""Kaplan-Meier PNGs: valid images, rendered without a display or a writable home directory."""
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from registry.reports.plots import figure_bytes, kaplan_meier_figure, kaplan_meier_png
from registry.reports.statistics import SurvivalGroup

from .reference_data import MAINTAINED, NONMAINTAINED

# Once, on SQLite: the rendering of figures from given numbers.
pytestmark = pytest.mark.one_database("sqlite")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def png_size(png: bytes) -> tuple[int, int]:
    # The IHDR chunk follows the signature: length (4), type (4), then width and height.
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_kaplan_meier_png_is_a_png_of_the_requested_size():
    # given the figure is 7 inches wide and 4.6 + 0.45 per group high, at 100 dpi → 700 × 550
    png = kaplan_meier_png([MAINTAINED, NONMAINTAINED], title="AML", x_label="Weeks",
                           at_risk_times=(0, 20, 40, 60), dpi=100)
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (700, 550)


def test_the_legend_and_a_long_group_label_leave_the_curves_alone():
    # Figs. 6C/6D as they were drawn: the legend inside the axes ran over the y axis, and the group
    # labels of the numbers-at-risk table, written beside it, took the width from the curves.
    long_label = SurvivalGroup("Third-generation ALK-TKI, no ALK resistance mutation", NONMAINTAINED.durations,
                               NONMAINTAINED.events)
    figure = kaplan_meier_figure([MAINTAINED, long_label], title="Fig. 6C: PFS", at_risk_times=(0, 24, 48), dpi=100)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    curves, table = figure.axes
    curves_box = curves.get_window_extent(renderer)
    (legend,) = figure.legends

    # the legend is above the axes (touching neither the curves nor the axis)
    assert legend.get_window_extent(renderer).y0 >= curves_box.y1
    # the curves take most of the 7-inch width (they had about half of it)
    assert curves_box.width >= 0.85 * figure.bbox.width
    # each group's label heads its row inside the table's area, not left of it
    labels = [text for text in table.texts if text.get_text() == long_label.label]
    assert len(labels) == 1
    label_box = labels[0].get_window_extent(renderer)
    assert label_box.x0 >= table.get_window_extent(renderer).x0 - 1
    assert label_box.x1 <= figure.bbox.width
    # the numbers at risk are readable: at least matplotlib's "small" size (8.33 pt at the default 10)
    numbers = [text for text in table.texts if text.get_text().isdigit()]
    assert len(numbers) == 6 and min(text.get_fontsize() for text in numbers) >= 8


def test_a_figure_is_written_as_png_or_svg_with_its_text_kept_as_text():
    figure = kaplan_meier_figure([MAINTAINED, NONMAINTAINED], title="AML", at_risk_times=(0, 24), dpi=60)

    svg = figure_bytes(figure, "svg").decode("utf-8")

    assert svg.startswith("<?xml") and "<svg" in svg
    assert ">Maintained (n=11, events=7)<" in svg  # a legend entry, editable text
    assert figure_bytes(figure, "png").startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="png or svg, not 'gif'"):
        figure_bytes(figure, "gif")


def test_the_svg_is_the_same_bytes_for_the_same_input():
    def draw():
        figure = kaplan_meier_figure([MAINTAINED], title="AML", at_risk_times=(0, 24), dpi=60)
        return figure_bytes(figure, "svg")
    assert draw() == draw()


def test_kaplan_meier_png_is_the_same_bytes_for_the_same_input():
    def draw():
        return kaplan_meier_png([MAINTAINED, NONMAINTAINED], title="AML", at_risk_times=(0, 24, 48), dpi=60)
    assert draw() == draw()


def test_kaplan_meier_png_draws_an_empty_subgroup_without_crashing():
    empty = SurvivalGroup("no patients", durations=(), events=())
    censored = SurvivalGroup("no events", durations=(3.0, 6.5), events=(False, False))
    png = kaplan_meier_png([empty, censored], title="demo subgroup", at_risk_times=(0, 6), dpi=60)
    assert png.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("at_risk_times", [(), (12, 0), (-1, 5), (0, 0, 5)])
def test_kaplan_meier_png_rejects_at_risk_times_that_are_not_increasing_from_zero(at_risk_times):
    with pytest.raises(ValueError, match="at_risk_times must be non-empty, increasing"):
        kaplan_meier_png([MAINTAINED], title="AML", at_risk_times=at_risk_times)


def test_kaplan_meier_png_needs_a_group():
    with pytest.raises(ValueError, match="at least one group"):
        kaplan_meier_png([], title="AML", at_risk_times=(0,))


def test_plots_render_with_a_read_only_home_and_no_display():
    # given a fresh interpreter whose home cannot be written even by root (/proc), no DISPLAY and
    # no MPLCONFIGDIR: the module picks a private config dir before importing matplotlib, so
    # matplotlib neither warns about an unwritable cache directory nor needs a display; and it
    # never imports pyplot.
    script = (
        "import os, sys\n"
        "from registry.reports.plots import kaplan_meier_png\n"
        "from registry.reports.statistics import SurvivalGroup\n"
        "group = SurvivalGroup('g', durations=(1, 2, 3), events=(True, False, True))\n"
        "png = kaplan_meier_png([group], title='t', at_risk_times=(0, 2), dpi=40)\n"
        "print('matplotlib.pyplot' in sys.modules, os.environ['MPLCONFIGDIR'],"
        " png[:8] == b'\\x89PNG\\r\\n\\x1a\\n')\n"
    )
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"DISPLAY", "WAYLAND_DISPLAY", "MPLCONFIGDIR", "MPLBACKEND",
                                  "XDG_CONFIG_HOME", "XDG_CACHE_HOME"}}
    environment.update(HOME="/proc", PYTHONWARNINGS="default")
    completed = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "Matplotlib created a temporary" not in completed.stderr
    assert "is not a writable directory" not in completed.stderr
    pyplot_imported, config_dir, is_png = completed.stdout.split()
    assert pyplot_imported == "False"  # Figure + FigureCanvasAgg: no global pyplot state
    assert Path(config_dir).name.startswith("registry-matplotlib-")
    assert is_png == "True"
