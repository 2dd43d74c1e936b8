"""The swimmer and waterfall images: drawn from the rows given, in their order and colours, as PNG
or SVG; an empty plot says why it is empty."""
from matplotlib.colors import to_hex

from registry.reports.plots import figure_bytes
from registry.reports.study_figures import RESPONSES, TREATMENT_CLASSES
from registry.reports.treatment_plots import swimmer_figure, waterfall_figure

from .test_plots import PNG_SIGNATURE


def bar(line_no, start, end, treatment="alk_tki_2g", progression=None, ongoing=False):
    return {"line_no": line_no, "regimen": "Alectinib", "treatment": treatment, "start_months": start,
            "end_months": end, "progression_months": progression, "ongoing": ongoing}


SWIMMER = {
    "rows": [
        {"record_id": "P-LONG", "cohort": 1, "follow_up_months": 30.0, "died": False,
         "bars": [bar(1, 0.0, 10.0, progression=8.0), bar(2, 10.0, 30.0, "alk_tki_3g", ongoing=True)]},
        {"record_id": "P-SHORT", "cohort": 2, "follow_up_months": 12.0, "died": True,
         "bars": [bar(2, 0.0, 6.0, progression=5.5), bar(3, 6.0, 9.0, "chemotherapy")]},
    ],
    "patients_not_shown": 0,
}
WATERFALL = {
    "bars": [
        {"record_id": "P-1", "line_no": 1, "regimen": "Alectinib", "treatment": "alk_tki_2g", "index_line": True,
         "best_pct_change": 25.0, "best_response": "PD"},
        {"record_id": "P-2", "line_no": 2, "regimen": "Alectinib", "treatment": "alk_tki_2g", "index_line": True,
         "best_pct_change": -10.0, "best_response": "SD"},
        {"record_id": "P-3", "line_no": 2, "regimen": "Lorlatinib", "treatment": "alk_tki_3g", "index_line": False,
         "best_pct_change": -100.0, "best_response": "CR"},
    ],
}


def test_the_swimmer_draws_one_row_per_patient_top_down_with_its_bars_and_markers():
    figure = swimmer_figure(SWIMMER, title="Swimmer", dpi=60)
    (axes,) = figure.axes

    # rows top down in the given order: P-LONG at y 0 on top (the y axis is inverted)
    assert [label.get_text() for label in axes.get_yticklabels()] == ["P-LONG", "P-SHORT"]
    assert axes.yaxis_inverted()
    # bars: (row, left, width, colour) per treatment class, as given
    colours = {key: colour for key, _, colour in TREATMENT_CLASSES}
    drawn = sorted((round(patch.get_y() + patch.get_height() / 2), patch.get_x(), patch.get_width(),
                    to_hex(patch.get_facecolor())) for patch in axes.patches)
    assert drawn == [(0, 0.0, 10.0, colours["alk_tki_2g"].lower()), (0, 10.0, 20.0, colours["alk_tki_3g"].lower()),
                     (1, 0.0, 6.0, colours["alk_tki_2g"].lower()), (1, 6.0, 3.0, colours["chemotherapy"].lower())]
    markers = {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in axes.lines}
    assert markers["Progression"] == [(8.0, 0), (5.5, 1)]
    assert markers["Death"] == [(12.0, 1)]
    assert markers["Treatment ongoing at the end of follow-up"] == [(30.0, 0)]
    # P-SHORT's follow-up off treatment, from its last bar (9) to its death (12)
    (follow_up,) = axes.collections
    assert [segment.tolist() for segment in follow_up.get_segments()] == [[[9.0, 1.0], [12.0, 1.0]]]
    # legend: the treatments drawn, then the markers
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "ALK-TKI, second generation", "ALK-TKI, third generation", "Chemotherapy", "Follow-up off treatment",
        "Progression", "Death", "Treatment ongoing at the end of follow-up"]


def test_the_waterfall_draws_one_bar_per_line_in_order_coloured_by_best_response_with_the_recist_lines():
    figure = waterfall_figure(WATERFALL, title="Waterfall", dpi=60)
    (axes,) = figure.axes

    colours = {key: colour.lower() for key, _, colour in RESPONSES}
    assert [(patch.get_x() + patch.get_width() / 2, patch.get_height(), to_hex(patch.get_facecolor()))
            for patch in axes.patches] == [(0.0, 25.0, colours["PD"]), (1.0, -10.0, colours["SD"]),
                                           (2.0, -100.0, colours["CR"])]
    horizontal = sorted(line.get_ydata()[0] for line in axes.lines)
    assert horizontal == [-30, 0, 20]
    # the five RECIST responses in the legend, drawn or not (Non-CR/Non-PD only when drawn)
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "Complete response (CR)", "Partial response (PR)", "Stable disease (SD)", "Progressive disease (PD)",
        "Not evaluable (NE)"]


def test_both_plots_are_written_as_png_and_as_svg_with_record_ids_as_text():
    swimmer_svg = figure_bytes(swimmer_figure(SWIMMER, title="Swimmer", dpi=60), "svg").decode("utf-8")
    waterfall_png = figure_bytes(waterfall_figure(WATERFALL, title="Waterfall", dpi=60), "png")

    assert ">P-LONG<" in swimmer_svg and ">P-SHORT<" in swimmer_svg
    assert waterfall_png.startswith(PNG_SIGNATURE)


def test_an_empty_plot_says_why_it_is_empty():
    swimmer = swimmer_figure({"rows": [], "patients_not_shown": 3}, title="Swimmer", dpi=60)
    waterfall = waterfall_figure({"bars": []}, title="Waterfall", dpi=60)

    assert [text.get_text() for text in swimmer.axes[0].texts] == [
        "No patient of cohorts 1 and 2 with a derived follow-up to show."]
    assert [text.get_text() for text in waterfall.axes[0].texts] == [
        "No line with a measured change of the target sum to show."]
    assert figure_bytes(swimmer, "png").startswith(PNG_SIGNATURE)
