"""The study report's survival statistics on the demo cohort equal R's survival package.

R's numbers are not computed here: fixtures/reference/demo_survival_r.csv is what
fixtures/reference/demo_survival.R printed (survfit, survdiff, coxph with Efron ties) on
fixtures/reference/demo_survival_input.csv, which `manage.py r_parity_input` rebuilt from the
exported analysis datasets (fixtures/reference/README.md). scripts/test re-runs the R script and
fails when its output differs from the committed file.
"""
import csv
import math
from pathlib import Path

import pytest
from django.db import transaction

from registry.reports.r_parity import exported_survival_input, read_csv
from registry.reports.study_report import study_report
from tests.demo_world import demo_cohort_put_back

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
R_INPUT = REFERENCE / "demo_survival_input.csv"
R_OUTPUT = REFERENCE / "demo_survival_r.csv"

# The tests read the module's world only, but pytest-django sets up the test database for marked tests.
pytestmark = pytest.mark.django_db

MEDIAN_TOLERANCE_MONTHS = 1e-9
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def demo_world(demo_cohort_snapshot, django_db_blocker, tmp_path_factory):
    """The demo cohort as `load_demo` leaves it (tests/demo_world.py), its report and its rebuilt
    survival input, in a transaction rolled back when the module ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo_cohort_put_back(demo_cohort_snapshot)
        built = {
            "report": {comparison["key"]: comparison for comparison in study_report()["survival"]},
            "input": exported_survival_input(tmp_path_factory.mktemp("r_parity_exports")),
        }
        yield built
        transaction.set_rollback(True)


def _r_output() -> dict:
    """{(comparison, group, statistic, time): value}; R's NA as None."""
    with R_OUTPUT.open(newline="", encoding="utf-8") as file:
        return {
            (row["comparison"], row["group"], row["statistic"], row["time"]):
                None if row["value"] == "NA" else float(row["value"])
            for row in csv.DictReader(file)
        }


R = _r_output()
COMPARISONS = sorted({comparison for comparison, *_ in R})


def _close(report_value, r_value, tolerance) -> bool:
    if r_value is None or report_value is None:
        return report_value is None and r_value is None
    return math.isclose(float(report_value), r_value, rel_tol=0, abs_tol=tolerance)


def test_the_stored_r_input_is_what_the_demo_cohorts_export_gives_now(demo_world):
    # If this fails, the demo cohort or the derivations changed: regenerate with scripts/r-parity
    # (fixtures/reference/README.md) and review the new R output.
    assert demo_world["input"] == read_csv(R_INPUT)


def test_r_output_covers_every_survival_comparison_of_the_report(demo_world):
    assert COMPARISONS == sorted(demo_world["report"])
    assert len(COMPARISONS) == 10


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_group_sizes_events_medians_and_their_limits_equal_rs_survfit(demo_world, comparison):
    groups = demo_world["report"][comparison]["groups"]
    for number, group in enumerate(groups, start=1):
        r = {statistic: R[comparison, str(number), statistic, ""]
             for statistic in ("n", "events", "median", "median_lower", "median_upper")}
        assert (group["n"], group["events"]) == (r["n"], r["events"]), (comparison, number)
        unrounded = group["unrounded"]
        lower, upper = unrounded["median_ci_months"]
        for name, ours, theirs in (("median", unrounded["median_months"], r["median"]),
                                   ("lower", lower, r["median_lower"]), ("upper", upper, r["median_upper"])):
            assert _close(ours, theirs, MEDIAN_TOLERANCE_MONTHS), (comparison, number, name, ours, theirs)


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_numbers_at_risk_equal_rs_summary_at_the_reports_times(demo_world, comparison):
    for number, group in enumerate(demo_world["report"][comparison]["groups"], start=1):
        assert group["at_risk"], (comparison, number)
        for months, at_risk in group["at_risk"].items():
            # the report's times are whole months ("6.0"); R printed them as "6"
            r_time = f"{float(months):g}"
            assert at_risk == R[comparison, str(number), "n_risk", r_time], (comparison, number, months)


@pytest.mark.parametrize("comparison", COMPARISONS)
def test_log_rank_and_cox_equal_rs_survdiff_and_coxph_with_efron_ties(demo_world, comparison):
    report = demo_world["report"][comparison]
    log_rank, cox = report["log_rank"], report["cox"]
    assert cox["ties"] == "efron"
    r = {statistic: R[comparison, "", statistic, ""] for statistic in (
        "logrank_chisq", "logrank_p", "cox_hr", "cox_lower", "cox_upper", "cox_p")}
    assert _close(log_rank["unrounded"]["chi_square"], r["logrank_chisq"], TOLERANCE)
    assert _close(log_rank["p"], r["logrank_p"], TOLERANCE)
    assert _close(cox["unrounded"]["hazard_ratio"], r["cox_hr"], TOLERANCE)
    assert _close(cox["unrounded"]["ci"][0], r["cox_lower"], TOLERANCE)
    assert _close(cox["unrounded"]["ci"][1], r["cox_upper"], TOLERANCE)
    assert _close(cox["p"], r["cox_p"], TOLERANCE)


def test_the_four_plateau_medians_are_rs(demo_world):
    # Figs. 5E and 6C: the third-generation group's PFS curve sits at exactly 0.5 until a later
    # drop, so R prints the midpoint of the flat; Figs. 5F and 6D: its OS curve ends at 0.5, so R
    # prints the time it got there. The expected values are read off the R input by hand below.
    rows = read_csv(R_INPUT)

    def group_2(comparison):
        return sorted((float(row["months"]), row["status"]) for row in rows
                      if row["comparison"] == comparison and row["group"] == "2")

    for comparison in ("fig5e", "fig6c"):
        times = group_2(comparison)
        # 8 patients, all with an event (status 1): S falls by 1/8 at each; after the 4th event
        # S = 4/8 = 0.5 and stays until the 5th; R's median is the midpoint of those two times.
        assert [status for _, status in times] == ["1"] * 8
        midpoint = (times[3][0] + times[4][0]) / 2
        assert demo_world["report"][comparison]["groups"][1]["unrounded"]["median_months"] == midpoint
        assert R[comparison, "2", "median", ""] == pytest.approx(midpoint, abs=MEDIAN_TOLERANCE_MONTHS)
        assert demo_world["report"][comparison]["groups"][1]["median_months"] == f"{midpoint:.1f}"
    for comparison in ("fig5f", "fig6d"):
        times = group_2(comparison)
        expected = _time_the_curve_reaches_one_half_and_ends_there(times)
        assert demo_world["report"][comparison]["groups"][1]["unrounded"]["median_months"] == expected
        assert R[comparison, "2", "median", ""] == pytest.approx(expected, abs=MEDIAN_TOLERANCE_MONTHS)


def _time_the_curve_reaches_one_half_and_ends_there(times: list[tuple[float, str]]) -> float:
    # The product-limit estimate in exact fractions, so that "exactly 0.5" is not a rounding matter.
    from fractions import Fraction

    survival, at_risk, reached = Fraction(1), len(times), None
    for time, status in times:
        if status == "1":
            survival *= Fraction(at_risk - 1, at_risk)
            if survival == Fraction(1, 2) and reached is None:
                reached = time
            assert survival >= Fraction(1, 2), "the curve is to end at 0.5, not below"
        at_risk -= 1
    assert survival == Fraction(1, 2) and reached is not None
    return reached
