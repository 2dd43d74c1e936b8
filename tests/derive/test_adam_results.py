"""What the ADaM-style datasets read (rules §8 v2): a line's baseline sum and the date of its best
response, and the nadir each assessment's percent change is measured from. Line 1 starts on day 0."""
from decimal import Decimal

from registry.derive.codes import MeasurementStatus, ReportedResponse
from registry.derive.results import Response

from .builders import assessment, day, derive, line, mm, nontarget, patient, status, target


def _line_one(**records):
    records.setdefault("lines", [line(1, start=0)])
    return derive(patient(**records)).lines[0]


def test_the_baseline_sum_and_each_nadir_are_kept():
    # given baseline 30 + 20 = 50 mm, then 40 (nadir 50), 45 (nadir 40), 35 (nadir 40: 45 is more)
    result = _line_one(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 30), mm("T2", 0, 20), mm("T1", 56, 25), mm("T2", 56, 15),
                      mm("T1", 112, 28), mm("T2", 112, 17), mm("T1", 168, 20), mm("T2", 168, 15)],
        assessments=[assessment(0), assessment(56), assessment(112), assessment(168)],
    )

    assert result.baseline_sum_mm == Decimal(50)
    assert [a.target_sum_mm for a in result.assessments] == [Decimal(40), Decimal(45), Decimal(35)]
    assert [a.nadir_mm for a in result.assessments] == [Decimal(50), Decimal(40), Decimal(40)]
    # pct_change_nadir is measured from that nadir: (35 − 40) / 40 = −12.5 %
    assert result.assessments[2].pct_change_nadir == Decimal("-12.5")


def test_an_unknown_follow_up_sum_does_not_lower_the_nadir():
    # given baseline 50; day 56 T2 not evaluated (sum unknown); day 112 48 → nadir still the baseline 50
    result = _line_one(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 30), mm("T2", 0, 20), mm("T1", 56, 10),
                      status("T2", 56, MeasurementStatus.NOT_EVALUATED), mm("T1", 112, 28), mm("T2", 112, 20)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )

    assert [a.target_sum_mm for a in result.assessments] == [None, Decimal(48)]
    assert [a.nadir_mm for a in result.assessments] == [Decimal(50), Decimal(50)]


def test_no_baseline_sum_without_a_known_value_of_every_target_or_without_targets():
    # T2 not measured at the baseline → incomplete → no baseline sum, and no nadir after it
    incomplete = _line_one(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 30), mm("T1", 56, 20), mm("T2", 56, 10)],
        assessments=[assessment(0), assessment(56)],
    )
    # only a non-target lesion: no target sum at all (not 0)
    no_targets = _line_one(
        lesions=[nontarget("N1")], measurements=[mm("N1", 0, 30), mm("N1", 56, 30)],
        assessments=[assessment(0), assessment(56)],
    )

    assert (incomplete.baseline_sum_mm, incomplete.assessments[0].nadir_mm) == (None, None)
    assert incomplete.assessments[0].target_sum_mm == Decimal(30)
    assert no_targets.baseline_sum_mm is None


def test_the_best_response_date_is_the_first_assessment_with_the_best_response():
    # given PR day 56, PR day 112, PD day 168 → PR, first on day 56
    result = _line_one(assessments=[
        assessment(0), assessment(56, ta_reported=ReportedResponse.PR),
        assessment(112, ta_reported=ReportedResponse.PR), assessment(168, ta_reported=ReportedResponse.PD),
    ])

    assert (result.best_response, result.best_response_date) == (Response.PR, day(56))


def test_the_best_response_date_counts_an_early_sd_as_not_evaluable():
    # given SD day 20 (< 42: counts NE), NE day 60 → best NE, first counted NE on day 20
    early = _line_one(assessments=[assessment(0), assessment(20, ta_reported=ReportedResponse.SD),
                                   assessment(60, ta_reported=ReportedResponse.NE)])
    # given SD day 20 (NE), SD day 50 (counts) → best SD, on day 50, not the earlier one
    later = _line_one(assessments=[assessment(0), assessment(20, ta_reported=ReportedResponse.SD),
                                   assessment(50, ta_reported=ReportedResponse.SD)])

    assert (early.best_response, early.best_response_date) == (Response.NE, day(20))
    assert (later.best_response, later.best_response_date) == (Response.SD, day(50))


def test_no_best_response_date_without_follow_up():
    result = _line_one(assessments=[assessment(0)])

    assert (result.best_response, result.best_response_date) == (None, None)
