"""§0 data-quality flags: each raised once, for the record it concerns."""
from registry.derive import quality
from registry.derive.codes import LineEndReason, MeasurementStatus, Regimen, ReportedResponse, Site, VitalStatus
from registry.derive.inputs import LesionMeasurement

from .builders import assessment, biopsy, day, derive, line, mm, patient, status, target


def flag_codes(record, **settings_fields):
    return [flag.code for flag in derive(record, **settings_fields).flags]


def test_consistent_patient_has_no_flags():
    record = patient(lines=[line(1, start=0), line(2, Regimen.LORLATINIB, start=300)],
                     lesions=[target("T1")], measurements=[mm("T1", 0, 20), mm("T1", 56, 12)],
                     assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR)],
                     vital=VitalStatus.ALIVE, last_alive_date=day(400))
    assert flag_codes(record) == []


def test_line_numbers_out_of_start_order_are_flagged_once():
    # given line 1 starting on day 100 and line 2 on day 0 → by start date they read 2, 1
    derivation = derive(patient(lines=[line(1, start=100), line(2, Regimen.LORLATINIB, start=0)]))
    assert [flag.code for flag in derivation.flags] == [quality.LINE_NUMBERS_NOT_IN_START_ORDER]
    assert derivation.flags[0].form == "treatment_line"
    assert "2, 1" in derivation.flags[0].message


def test_two_lines_starting_the_same_day_are_flagged_once():
    record = patient(lines=[line(1, start=0), line(2, Regimen.LORLATINIB, start=0)])
    assert flag_codes(record) == [quality.LINES_SAME_START]


def test_two_assessments_on_one_date_are_flagged_once():
    record = patient(lines=[line(1)], assessments=[assessment(56), assessment(56)])
    assert flag_codes(record) == [quality.ASSESSMENTS_SAME_DATE]


def test_two_biopsies_on_one_date_are_flagged_once():
    record = patient(lines=[line(1)], biopsies=[biopsy(56), biopsy(56)])
    derivation = derive(record)
    assert [(flag.code, flag.instance) for flag in derivation.flags] == [
        (quality.BIOPSIES_SAME_DATE, day(56).isoformat())]


def test_measurement_dated_on_no_assessment_is_flagged():
    record = patient(lines=[line(1)], lesions=[target("T1")], assessments=[assessment(0)],
                     measurements=[mm("T1", 0, 20), mm("T1", 57, 20)])
    derivation = derive(record)
    assert [(flag.code, flag.instance) for flag in derivation.flags] == [
        (quality.MEASUREMENT_WITHOUT_ASSESSMENT, f"T1 {day(57).isoformat()}")]


def test_measurement_naming_no_lesion_is_flagged():
    record = patient(lines=[line(1)], lesions=[target("T1")], assessments=[assessment(0)],
                     measurements=[mm("T1", 0, 20), mm("T9", 0, 20)])
    assert flag_codes(record) == [quality.MEASUREMENT_WITHOUT_LESION]


def test_target_lesion_at_a_non_measurable_site_is_flagged():
    record = patient(lines=[line(1)], lesions=[target("T1", Site.PLEURAL_EFFUSION)])
    assert flag_codes(record) == [quality.TARGET_AT_NON_MEASURABLE_SITE]


def test_target_lesion_with_status_four_or_six_is_flagged_for_each_row():
    record = patient(lines=[line(1)], lesions=[target("T1")], assessments=[assessment(0), assessment(56)],
                     measurements=[status("T1", 0, MeasurementStatus.PRESENT_NOT_MEASURED),
                                   status("T1", 56, MeasurementStatus.UNEQUIVOCAL_PROGRESSION)])
    assert flag_codes(record) == [quality.TARGET_WITH_NON_TARGET_STATUS] * 2


def test_line_ended_for_progression_without_a_pd_time_point_is_flagged():
    record = patient(lines=[line(1, end=100, line_end_reason=LineEndReason.PROGRESSION)],
                     assessments=[assessment(56, ta_reported=ReportedResponse.SD)])
    derivation = derive(record)
    assert [(flag.code, flag.instance) for flag in derivation.flags] == [
        (quality.PROGRESSION_END_WITHOUT_PD, "line 1")]


def test_line_ended_for_progression_with_a_pd_time_point_is_not_flagged():
    record = patient(lines=[line(1, end=100, line_end_reason=LineEndReason.PROGRESSION)],
                     assessments=[assessment(100, ta_reported=ReportedResponse.PD)])
    assert flag_codes(record) == []


def test_dead_without_a_death_date_is_flagged():
    assert flag_codes(patient(lines=[line(1)], vital=VitalStatus.DEAD)) == [quality.DEAD_WITHOUT_DEATH_DATE]


def test_death_date_with_another_vital_status_is_flagged():
    record = patient(lines=[line(1)], vital=VitalStatus.ALIVE, death_date=day(500))
    assert flag_codes(record) == [quality.DEATH_DATE_WITHOUT_DEAD]


def test_a_date_after_the_death_date_is_flagged():
    # given death on day 500 and a biopsy on day 510
    record = patient(lines=[line(1)], vital=VitalStatus.DEAD, death_date=day(500), biopsies=[biopsy(510)])
    derivation = derive(record)
    assert [(flag.code, flag.form) for flag in derivation.flags] == [(quality.DATE_AFTER_DEATH, "biopsy")]


def test_reported_and_derived_response_discrepancy_is_flagged():
    # given 20 → 12 (derived PR) reported as SD
    record = patient(lines=[line(1)], lesions=[target("T1")], measurements=[mm("T1", 0, 20), mm("T1", 56, 12)],
                     assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.SD)])
    derivation = derive(record)
    assert [(flag.code, flag.instance) for flag in derivation.flags] == [
        (quality.RESPONSE_DISCREPANCY, day(56).isoformat())]


def test_derivation_still_runs_on_flagged_data():
    # given a measurement of an unknown lesion alongside the real one, the response is still derived
    record = patient(lines=[line(1)], lesions=[target("T1")], assessments=[assessment(0), assessment(56)],
                     measurements=[mm("T1", 0, 20), mm("T1", 56, 12),
                                   LesionMeasurement(lm_date=day(56), lm_lesion="T9", lm_status=1)])
    derivation = derive(record)
    assert derivation.lines[0].assessments[0].overall_response.value == "PR"
    assert [flag.code for flag in derivation.flags] == [quality.MEASUREMENT_WITHOUT_LESION]
