"""The one-pass forms of §2 and §3 (issue 14 part 4) give what the rules say at the edges where a
pass that notes several facts at once could differ from one question per pass: the exact Decimal of
a sum, which of two rows of one lesion and date counts, the order in which the non-target rule weighs
what it found, and which of two equal earlier values a lesion grows from. Every expected value is
worked out by hand in the comment above it."""
from decimal import Decimal

from registry.derive.codes import MeasurementStatus, Site
from registry.derive.recist import (
    LesionReading, complete_sum_mm, known_sum_and_completeness, known_sum_mm, measurements_by_date,
    measurements_by_date_and_lesion, nontarget_response,
)
from registry.derive.results import Response

from .builders import assessment, day, derive, line, mm, nontarget, one_line_assessments, patient, target


def reading(lesion, value, status_code=MeasurementStatus.MEASURED) -> LesionReading:
    return LesionReading(lesion=lesion, status=status_code, value_mm=None if value is None else Decimal(value))


def test_a_sum_keeps_the_decimal_places_of_its_values_and_its_exact_value():
    # 12.30 + 7.70 = 20.00: a Decimal sum from Decimal(0) keeps the two places (str "20.00"), and
    # 0.05 + 0.05 = 0.10 exactly (in binary floats 0.05 + 0.05 is 0.1000000000000000055...).
    readings = (reading(target("T1"), "12.30"), reading(target("T2"), "7.70"))
    assert str(known_sum_mm(readings)) == "20.00"
    assert str(complete_sum_mm(readings)) == "20.00"
    tiny = (reading(target("T1"), "0.05"), reading(target("T2"), "0.05"))
    assert known_sum_and_completeness(tiny) == (Decimal("0.10"), True)
    assert str(known_sum_mm(tiny)) == "0.10"


def test_a_sum_with_an_unknown_value_is_partial_and_not_complete():
    # 10.25 + 0 (disappeared) + unknown + 5 (too small) → the known values give 15.25; not complete
    lesion = target("T1")
    readings = (
        reading(lesion, "10.25"),
        LesionReading(lesion=lesion, status=MeasurementStatus.DISAPPEARED, value_mm=Decimal(0)),
        reading(lesion, None),
        LesionReading(lesion=lesion, status=MeasurementStatus.TOO_SMALL, value_mm=Decimal(5)),
    )
    assert known_sum_and_completeness(readings) == (Decimal("15.25"), False)
    assert complete_sum_mm(readings) is None
    # no readings: the empty sum 0, complete (a line without targets never stores it)
    assert known_sum_and_completeness(()) == (Decimal(0), True)


def test_of_two_rows_of_one_lesion_on_one_date_the_first_counts_in_the_index_by_date():
    # T1 on day 56 twice (12 then 30 mm): the first row counts, as in the (date, lesion) index
    rows = (mm("T1", 56, 12), mm("T1", 56, 30), mm("T2", 56, 7), mm("T1", 112, 9))
    by_date = measurements_by_date(rows)
    assert by_date[day(56)]["T1"].lm_mm == Decimal(12)
    assert by_date[day(56)]["T2"].lm_mm == Decimal(7)
    assert by_date[day(112)]["T1"].lm_mm == Decimal(9)
    keyed = measurements_by_date_and_lesion(rows)
    assert {(on, les_id): m for on, lesions in by_date.items() for les_id, m in lesions.items()} == keyed


def test_duplicate_rows_give_the_first_rows_response():
    # baseline 20 mm; day 56 recorded twice, 10 mm first then 40 mm: the first counts,
    # 10 × 10 = 100 ≤ 7 × 20 = 140 → PR, and the sum is 10 (40 mm would have been PD)
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 10), mm("T1", 56, 40)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_sum_mm == Decimal(10)
    assert results[0].target_response is Response.PR


def test_non_target_progression_outweighs_an_unknown_lesion_in_any_order():
    # §2: any lesion in unequivocal progression → PD, also when another one is not evaluated,
    # whichever of the two comes first
    progressing = LesionReading(lesion=nontarget("B1"), status=MeasurementStatus.UNEQUIVOCAL_PROGRESSION,
                                value_mm=None)
    unknown = LesionReading(lesion=nontarget("B2"), status=MeasurementStatus.NOT_EVALUATED, value_mm=None)
    assert nontarget_response((unknown, progressing), None) is Response.PD
    assert nontarget_response((progressing, unknown), None) is Response.PD


def test_non_target_unknown_lesion_outweighs_complete_response():
    # B1 disappeared (CR) and B2 without a row: a lesion without a row is unknown → NE, not CR
    gone = LesionReading(lesion=nontarget("B1"), status=MeasurementStatus.DISAPPEARED, value_mm=Decimal(0))
    no_row = LesionReading(lesion=nontarget("B2"), status=None, value_mm=None)
    assert nontarget_response((gone, no_row), None) is Response.NE
    # a node measured without a diameter cannot be told below 10 mm → NE; a bone lesion so → Non-CR/Non-PD
    node = LesionReading(lesion=nontarget("N1", site=Site.LYMPH_NODE), status=MeasurementStatus.MEASURED,
                         value_mm=None)
    bone = LesionReading(lesion=nontarget("B3", site=Site.BONE), status=MeasurementStatus.MEASURED, value_mm=None)
    assert nontarget_response((gone, node), None) is Response.NE
    assert nontarget_response((gone, bone), None) is Response.NON_CR_NON_PD


def test_non_target_of_unknown_site_below_ten_mm_makes_complete_response_unknown():
    # B1 disappeared, U1 (site coded) 6 mm: CR if U1 is a node, not otherwise → NE;
    # U1 at 12 mm is not CR whatever its site → Non-CR/Non-PD; U1 at 0 mm is CR whatever its site → CR
    gone = LesionReading(lesion=nontarget("B1"), status=MeasurementStatus.DISAPPEARED, value_mm=Decimal(0))
    unknown_site = nontarget("U1", site=None)
    assert nontarget_response((gone, reading(unknown_site, 6)), None) is Response.NE
    assert nontarget_response((gone, reading(unknown_site, 12)), None) is Response.NON_CR_NON_PD
    assert nontarget_response((gone, reading(unknown_site, 0)), None) is Response.CR


def test_a_lesion_grows_from_its_smallest_earlier_value_when_two_are_equal():
    # T1: baseline 20, day 56 15, day 112 15 (equal smallest), day 168 20; T2 stays 30.
    # sums 50, 45 (nadir), 45, 50: 10 × 50 = 500 < 12 × 45 = 540 → no PD by the sum, so no progression
    # day 224: T1 26, T2 30 → sum 56: 560 ≥ 540 and 56 − 45 = 11 ≥ 5 → PD; T1 grew 26 − 15 = 11 ≥ 5 from its
    # smallest earlier value (15, on either date), T2 0 → one progressing lesion
    # (sums: day 56 450 > 7 × 50 = 350 → not PR, SD; day 168 500 < 540 → SD)
    result = derive(patient(
        lines=[line(1, start=0)],
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 30), mm("T1", 56, 15), mm("T2", 56, 30),
                      mm("T1", 112, 15), mm("T2", 112, 30), mm("T1", 168, 20), mm("T2", 168, 30),
                      mm("T1", 224, 26), mm("T2", 224, 30)],
        assessments=[assessment(0), assessment(56), assessment(112), assessment(168), assessment(224)],
    )).lines[0]
    assert [r.target_response for r in result.assessments] == [Response.SD, Response.SD, Response.SD, Response.PD]
    assert result.assessments[3].nadir_mm == Decimal(45)
    assert result.pd_date == day(224)
    assert result.n_progressing_lesions == 1
