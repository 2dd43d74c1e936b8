"""§4 PFS and §5 OS. Line 1 (alectinib) starts on day 0; responses are reported ones for brevity."""
from decimal import Decimal

from registry.derive.codes import ReportedResponse, Regimen, VitalStatus

from .builders import assessment, biopsy, day, derive, line, patient

PR, SD, PD, NE = ReportedResponse.PR, ReportedResponse.SD, ReportedResponse.PD, ReportedResponse.NE


def responses(*pairs):
    """Assessments from (day, reported response) pairs, after a baseline on day 0."""
    return [assessment(0)] + [assessment(on, ta_reported=reported) for on, reported in pairs]


def test_progression_is_a_pfs_event_at_the_pd_date():
    # given PR day 56, PD day 112 → event, 112 days, 112 / 30.4375 months
    result = derive(patient(lines=[line(1)], assessments=responses((56, PR), (112, PD)))).lines[0]
    assert (result.pfs_event, result.pfs_event_type, result.pfs_days) == (True, "progression", 112)
    assert result.pfs_date == day(112)
    assert result.pfs_months == Decimal(112) / Decimal("30.4375")
    assert result.pfs_censor_reason is None


def test_death_within_the_death_window_is_a_pfs_event():
    # given last adequate assessment day 56 and death on day 56 + 182 = 238 (≤ 182 days later) → event
    record = patient(lines=[line(1)], assessments=responses((56, PR)), vital=VitalStatus.DEAD, death_date=day(238))
    result = derive(record).lines[0]
    assert (result.pfs_event, result.pfs_event_type, result.pfs_days) == (True, "death", 238)


def test_death_after_the_death_window_is_censored_at_the_last_adequate_assessment():
    # given last adequate day 56 and death on day 239 (183 days later) → censored on day 56 with
    # reason death_after_missed_assessments
    record = patient(lines=[line(1)], assessments=responses((56, PR)), vital=VitalStatus.DEAD, death_date=day(239))
    result = derive(record).lines[0]
    assert (result.pfs_event, result.pfs_days, result.pfs_censor_reason) == (
        False, 56, "death_after_missed_assessments")


def test_death_window_runs_from_line_start_without_adequate_assessment():
    # given only an NE assessment and death on day 182 (182 days after the start) → event
    record = patient(lines=[line(1)], assessments=responses((56, NE)), vital=VitalStatus.DEAD, death_date=day(182))
    result = derive(record).lines[0]
    assert (result.pfs_event, result.pfs_event_type, result.pfs_days) == (True, "death", 182)


def test_death_without_progression_is_censored_when_the_setting_says_so():
    # given pfs_death_is_event = no, last adequate day 56, death day 100, no next line → cutoff
    record = patient(lines=[line(1)], assessments=responses((56, PR)), vital=VitalStatus.DEAD, death_date=day(100))
    result = derive(record, pfs_death_is_event=False).lines[0]
    assert (result.pfs_event, result.pfs_days, result.pfs_censor_reason) == (False, 56, "cutoff")


def test_next_line_started_before_progression_censors_for_new_therapy():
    # given PR day 56 and 112 on line 1, line 2 from day 200, PD on day 250 (line 2's window)
    # → line 1 censored at its last adequate assessment, day 112, reason new_therapy
    record = patient(lines=[line(1), line(2, Regimen.LORLATINIB, start=200)],
                     assessments=responses((56, PR), (112, PR), (250, PD)))
    result = derive(record).lines[0]
    assert (result.pfs_event, result.pfs_days, result.pfs_censor_reason) == (False, 112, "new_therapy")


def test_death_after_the_next_line_started_is_outside_line_follow_up():
    # given line 2 from day 200 and death on day 210 (after line 1's follow-up ended on day 200)
    # → line 1 is censored for new_therapy at day 56; line 2 has a death event at 10 days
    record = patient(lines=[line(1), line(2, Regimen.LORLATINIB, start=200)], assessments=responses((56, PR)),
                     vital=VitalStatus.DEAD, death_date=day(210))
    first, second = derive(record).lines
    assert (first.pfs_event, first.pfs_days, first.pfs_censor_reason) == (False, 56, "new_therapy")
    assert (second.pfs_event, second.pfs_event_type, second.pfs_days) == (True, "death", 10)


def test_line_without_adequate_assessment_is_censored_at_its_start():
    # given only NE assessments → censored on line_start, 0 days, no_adequate_assessment
    result = derive(patient(lines=[line(1)], assessments=responses((56, NE)))).lines[0]
    assert (result.pfs_event, result.pfs_days, result.pfs_censor_reason) == (False, 0, "no_adequate_assessment")
    assert result.pfs_date == day(0)


def test_data_after_the_cutoff_are_ignored():
    # given cut-off day 250: PR day 200 counts, PD day 300 and line 2 from day 260 are ignored
    # → censored at day 200 for cutoff (not new_therapy, not progression)
    record = patient(lines=[line(1), line(2, Regimen.LORLATINIB, start=260)],
                     assessments=responses((200, PR), (300, PD)))
    derivation = derive(record, cutoff=250)
    assert [result.line_no for result in derivation.lines] == [1]
    result = derivation.lines[0]
    assert (result.pd_date, result.pfs_event, result.pfs_days, result.pfs_censor_reason) == (
        None, False, 200, "cutoff")


def test_endpoints_are_blank_without_a_cutoff():
    result = derive(patient(lines=[line(1)], assessments=responses((56, PD))), cutoff=None).lines[0]
    assert result.pd_date == day(56)
    assert (result.pfs_days, result.pfs_event, result.os_days, result.os_event) == (None, None, None, None)


def test_death_before_the_cutoff_is_an_os_event():
    # given death on day 500, cut-off day 2000 → event after 500 days
    record = patient(lines=[line(1)], vital=VitalStatus.DEAD, death_date=day(500))
    result = derive(record).lines[0]
    assert (result.os_event, result.os_days, result.os_date) == (True, 500, day(500))


def test_death_after_the_cutoff_is_censored_at_the_cutoff():
    # given death on day 500 and cut-off day 400 → alive at the cut-off: censored, 400 days
    record = patient(lines=[line(1)], vital=VitalStatus.DEAD, death_date=day(500), last_alive_date=day(300))
    result = derive(record, cutoff=400).lines[0]
    assert (result.os_event, result.os_days, result.os_censor_reason) == (False, 400, "cutoff")


def test_last_known_alive_is_the_latest_date_across_all_records():
    # given last_alive_date day 300 but a biopsy on day 350 → censored at day 350
    record = patient(lines=[line(1, end=100)], last_alive_date=day(300), biopsies=[biopsy(350)])
    result = derive(record, cutoff=1000).lines[0]
    assert (result.os_event, result.os_days, result.os_censor_reason) == (False, 350, "last_known_alive")


def test_last_known_alive_after_the_cutoff_is_capped_at_the_cutoff():
    # given an assessment on day 1200 (after the cut-off on day 1000) → known alive at day 1000
    record = patient(lines=[line(1)], last_alive_date=day(300), assessments=[assessment(1200)])
    result = derive(record, cutoff=1000).lines[0]
    assert (result.os_event, result.os_days, result.os_censor_reason) == (False, 1000, "cutoff")


def test_os_of_a_later_line_and_of_the_patient_run_from_their_own_start():
    # given adv_dx_date day −30, line 2 from day 200, death day 500
    # → line 2 OS 300 days; patient OS 530 days, 530 / 30.4375 months
    record = patient(lines=[line(1), line(2, Regimen.LORLATINIB, start=200)], adv_dx_date=day(-30),
                     vital=VitalStatus.DEAD, death_date=day(500))
    derivation = derive(record)
    assert derivation.lines[1].os_days == 300
    assert (derivation.os_dx_event, derivation.os_dx_days) == (True, 530)
    assert derivation.os_dx_months == Decimal(530) / Decimal("30.4375")
