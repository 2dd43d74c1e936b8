"""The swimmer and waterfall plots of the study report on a small derived registry (tests/study_figure_world.py,
where every expected value is worked out from the records), through the report, the figure files, the
`study_report` command and a frozen data cut, over the sites the reader may see."""
import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from registry.models import TreatmentLine
from registry.reports.study_figures import RESPONSE_COLOURS
from registry.reports.study_report import UnknownFigure, study_figure, study_report
from registry.selectors.study_cohort import study_cohort
from registry.services.data_cuts import data_cut_freeze
from tests.study_figure_world import build_figure_world, months

from .test_plots import PNG_SIGNATURE

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    build_figure_world(site_a, site_b)


def test_the_report_draws_the_hand_worked_swimmer(world):
    swimmer = study_report()["swimmer"]

    # B-1 (669 days of follow-up) above A-1 (517)
    assert [row["record_id"] for row in swimmer["rows"]] == ["B-1", "A-1"]
    b1, a1 = swimmer["rows"]
    assert [(bar["line_no"], bar["treatment"], bar["regimen"]) for bar in a1["bars"]] == [
        (1, "alk_tki_2g", "Alectinib"), (2, "chemotherapy", "Pemetrexed + platinum")]
    assert [(bar["start_months"], bar["end_months"], bar["progression_months"], bar["ongoing"])
            for bar in a1["bars"]] == [
        (0.0, pytest.approx(months(258)), pytest.approx(months(213)), False),
        (pytest.approx(months(258)), pytest.approx(months(375)), None, False)]
    assert (a1["follow_up_months"], a1["died"]) == (pytest.approx(months(517)), True)
    assert [(bar["line_no"], bar["treatment"]) for bar in b1["bars"]] == [(1, "alk_tki_2g"), (2, "alk_tki_3g")]
    assert [(bar["start_months"], bar["end_months"], bar["progression_months"], bar["ongoing"])
            for bar in b1["bars"]] == [
        (0.0, pytest.approx(months(69)), pytest.approx(months(60)), False),
        (pytest.approx(months(79)), pytest.approx(months(669)), None, True)]
    assert (b1["follow_up_months"], b1["died"]) == (pytest.approx(months(669)), False)
    assert swimmer["patients_not_shown"] == 0


def test_the_report_draws_the_hand_worked_waterfall(world):
    waterfall = study_report()["waterfall"]

    # B-1 line 1 +25 % (PD) then A-1 line 1 -40 % (PR: the -60 % after its progression does not count);
    # the two second lines have no target lesion
    assert [(bar["record_id"], bar["line_no"], bar["best_pct_change"], bar["best_response"])
            for bar in waterfall["bars"]] == [("B-1", 1, 25.0, "PD"), ("A-1", 1, -40.0, "PR")]
    assert waterfall["lines_not_shown"] == 2
    assert {entry["key"]: entry["colour"] for entry in waterfall["responses"]}["PR"] == RESPONSE_COLOURS["PR"]


def test_the_html_report_carries_both_plots(world):
    report = study_report(figures=True)

    assert report["swimmer"]["figure_png"] and report["waterfall"]["figure_png"]
    assert "swimmer_and_waterfall" in report["methods"]


def test_a_coordinator_sees_only_the_patients_of_their_site_in_both_plots(world, coordinator_a):
    report = study_report(user=coordinator_a)

    assert [row["record_id"] for row in report["swimmer"]["rows"]] == ["A-1"]
    assert [bar["record_id"] for bar in report["waterfall"]["bars"]] == ["A-1"]
    assert report["waterfall"]["lines_not_shown"] == 1
    swimmer_svg = study_figure("swimmer", user=coordinator_a, image_format="svg").decode("utf-8")
    assert ">A-1<" in swimmer_svg and "B-1" not in swimmer_svg


def test_each_figure_is_a_file_of_its_format(world):
    assert study_figure("waterfall", image_format="png").startswith(PNG_SIGNATURE)
    assert study_figure("fig5a", image_format="png").startswith(PNG_SIGNATURE)
    svg = study_figure("swimmer", image_format="svg").decode("utf-8")
    assert svg.startswith("<?xml") and ">B-1<" in svg and ">A-1<" in svg


def test_an_unknown_figure_or_format_is_refused_by_name(world):
    with pytest.raises(UnknownFigure, match="no figure 'fig7a'; its figures are fig5a, .* swimmer, waterfall"):
        study_figure("fig7a")
    with pytest.raises(ValueError, match="png or svg, not 'pdf'"):
        study_figure("swimmer", image_format="pdf")


def test_the_study_cohort_with_the_best_changes_is_read_in_three_queries(world, django_assert_num_queries):
    # patients with their derivations; lines with theirs, the best change by a subquery (not a query
    # per line); biopsies with theirs
    with django_assert_num_queries(3):
        cohort = study_cohort()
    assert [patient.record_id for patient in cohort.patients] == ["A-1", "B-1"]


def test_a_data_cut_draws_the_plots_as_they_were_when_it_was_frozen(world):
    cut = data_cut_freeze(name="figures")
    before = study_report()
    before_svg = study_figure("swimmer", image_format="svg")
    # then B-1's lorlatinib line is given an end date: the live swimmer no longer draws it as ongoing
    TreatmentLine.objects.filter(patient__record_id="B-1", line_no=2).update(line_end=date(2021, 6, 1))
    assert study_report()["swimmer"] != before["swimmer"]

    from_cut = study_report(cut=cut)

    assert from_cut["swimmer"] == before["swimmer"] and from_cut["waterfall"] == before["waterfall"]
    assert study_figure("swimmer", cut=cut, image_format="svg") == before_svg


def test_the_command_writes_one_figure_over_the_user_s_sites(world, coordinator_a, tmp_path):
    output = tmp_path / "swimmer.svg"

    call_command("study_report", "--figure", "swimmer", "--format", "svg", "--output", str(output),
                 "--user", "coordinator_a", stdout=io.StringIO())

    svg = output.read_text(encoding="utf-8")
    assert ">A-1<" in svg and "B-1" not in svg


def test_the_command_writes_a_png_figure(world, tmp_path):
    output = tmp_path / "waterfall.png"

    call_command("study_report", "--figure", "waterfall", "--format", "png", "--output", str(output),
                 stdout=io.StringIO())

    assert output.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("arguments", [("--figure", "swimmer", "--format", "html"),
                                       ("--figure", "swimmer"),  # the default format, html
                                       ("--format", "png")])
def test_the_command_refuses_a_figure_without_an_image_format_and_writes_nothing(world, tmp_path, arguments):
    output = tmp_path / "figure"

    with pytest.raises(CommandError, match="--figure KEY goes with --format png or svg"):
        call_command("study_report", *arguments, "--output", str(output), stdout=io.StringIO())

    assert list(tmp_path.iterdir()) == []


def test_a_figure_file_costs_four_queries(world, django_assert_num_queries):
    # patients with their derivations, lines with theirs, biopsies (study_cohort), and the count of
    # visible patients for the provenance (the cut-off and months of the plot)
    with django_assert_num_queries(4):
        study_figure("swimmer", image_format="svg")
