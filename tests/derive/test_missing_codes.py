"""Rules §0 (v2): a missing-data code makes its field unknown, never "absent", and is flagged.
Line 1 (alectinib) starts on day 0, baseline on day 0; the cut-off is day 2000 unless given."""
from registry.derive import quality
from registry.derive.codes import ReportedResponse, VitalStatus
from registry.derive.results import Response

from .builders import NO, YES, assessment, day, derive, line, mm, patient, target


def _flags(record) -> list[str]:
    return [flag.code for flag in derive(record).flags]


def stable_target_with(new_lesion_fields: dict, *, day_56_mm=20):
    # T1 (lung target) 20 mm at baseline and `day_56_mm` on day 56; the day-56 assessment's new lesions as given.
    return patient(
        lines=[line(1, start=0)], lesions=[target("T1")], measurements=[mm("T1", 0, 20), mm("T1", 56, day_56_mm)],
        assessments=[assessment(0), assessment(56, **new_lesion_fields)],
    )


def test_a_coded_new_lesion_field_makes_a_stable_assessment_not_evaluable():
    # T1 20 → 20: target SD. New lesions coded UNK: unknown, so the overall response is NE, not SD
    # (a blank field would count as no new lesion and give SD).
    coded = derive(stable_target_with({"ta_new_lesion_missing": "UNK"})).lines[0].assessments[0]
    blank = derive(stable_target_with({})).lines[0].assessments[0]

    assert (coded.target_response, coded.new_lesions, coded.overall_response) == (Response.SD, None, Response.NE)
    assert (blank.new_lesions, blank.overall_response) == (False, Response.SD)


def test_a_coded_new_lesion_field_keeps_a_progression_the_targets_give():
    # T1 20 → 30: 10 × 30 = 300 ≥ 12 × 20 = 240 and 30 − 20 = 10 ≥ 5 mm → target PD, so overall PD
    # whatever the new lesions; their count is unknown, so the number of progressing lesions is blank.
    result = derive(stable_target_with({"ta_new_lesion_missing": "NASK"}, day_56_mm=30)).lines[0]

    assert result.assessments[0].overall_response is Response.PD
    assert result.pd_date == day(56)
    assert result.n_progressing_lesions is None


def test_a_coded_new_lesion_field_makes_a_reported_response_not_evaluable_too():
    # No lesion rows on day 56: the response is the reported PR; with new lesions unknown it is NE.
    record = patient(lines=[line(1, start=0)],
                     assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR,
                                                            ta_new_lesion_missing="UNK")])

    assert derive(record).lines[0].assessments[0].overall_response is Response.NE
    assert _flags(record) == [quality.NEW_LESIONS_CODED]


def test_a_coded_line_end_leaves_continued_beyond_progression_blank():
    # Reported PD on day 56 (pd_date). A blank line_end means ongoing: it ran on to the cut-off
    # (day 2000), 1944 > 30 days → continued. A coded end is unknown: how long it ran on is unknown.
    def line_one(**line_fields):
        record = patient(lines=[line(1, start=0, **line_fields)],
                         assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PD)])
        return record, derive(record).lines[0]

    _, ongoing = line_one()
    record, coded = line_one(line_end_missing="UNK")
    _, answered = line_one(line_end_missing="UNK", line_beyond_pd=NO)

    assert (ongoing.continued_beyond_pd, ongoing.beyond_pd_days) == (True, 1944)
    assert (coded.pd_date, coded.continued_beyond_pd, coded.beyond_pd_days) == (day(56), None, None)
    assert answered.continued_beyond_pd is False
    assert _flags(record) == [quality.LINE_END_CODED]


def test_a_coded_line_end_still_ends_the_window_at_the_next_line_start():
    # Line 1 (end coded) from day 0, line 2 from day 200; a reported PD on day 150 is in line 1's window.
    record = patient(lines=[line(1, start=0, line_end_missing="UNK"), line(2, start=200)],
                     assessments=[assessment(0), assessment(150, ta_reported=ReportedResponse.PD),
                                  assessment(300, ta_reported=ReportedResponse.PD)])

    first, second = derive(record).lines

    assert (first.pd_date, first.next_line_start, second.pd_date) == (day(150), day(200), day(300))


def test_a_coded_death_date_of_a_dead_patient_censors_overall_survival_at_last_known_alive():
    # Dead, date of death UNK, last known alive day 300, line 1 from day 0 → OS censored at day 300
    # (300 days), not an event; the flag is the coded one, not "dead without a date of death".
    record = patient(lines=[line(1, start=0)], vital=VitalStatus.DEAD, death_date_missing="UNK",
                     last_alive_date=day(300))

    result = derive(record).lines[0]

    assert (result.os_event, result.os_days, result.os_censor_reason) == (False, 300, "last_known_alive")
    assert _flags(record) == [quality.DEATH_DATE_CODED]


def test_every_coded_flag_has_a_label():
    for code in (quality.NEW_LESIONS_CODED, quality.LINE_END_CODED, quality.DEATH_DATE_CODED):
        assert quality.FLAG_LABELS[code]


def test_a_yes_new_lesion_is_not_affected_by_the_codes():
    # ta_new_lesion yes (a value, no code): PD by new lesions as before.
    result = derive(stable_target_with({"ta_new_lesion": YES, "ta_new_count": 1})).lines[0]
    assert result.assessments[0].overall_response is Response.PD
