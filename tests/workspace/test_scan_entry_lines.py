"""Which line(s) a scan belongs to (rules §1), read with registry/derive's windows and baselines; no database."""
from datetime import date

from registry.derive import AnalysisSettings
from registry.derive.inputs import PatientRecord, TreatmentLine, TumorAssessment
from registry.workspace.scan_entry import BASELINE, FOLLOW_UP, ScanLine, membership_text, scan_lines

LINES = (
    TreatmentLine(line_no=1, line_type=1, line_drug=2, line_start=date(2024, 1, 10)),
    TreatmentLine(line_no=2, line_type=1, line_drug=7, line_start=date(2024, 5, 6)),
)
RECORD = PatientRecord(record_id="R", lines=LINES, assessments=(TumorAssessment(ta_date=date(2024, 1, 5)),))
SETTINGS = AnalysisSettings()  # baseline window 60 days


def test_a_scan_on_the_next_lines_start_day_is_the_follow_up_of_one_and_the_baseline_of_the_other():
    lines = scan_lines(RECORD, date(2024, 5, 6), SETTINGS)
    assert lines == (ScanLine(1, FOLLOW_UP, date(2024, 1, 10)), ScanLine(2, BASELINE, date(2024, 5, 6)))
    assert membership_text(lines) == "This scan belongs to line 1 (follow-up) and line 2 (baseline)."


def test_a_scan_before_a_lines_start_is_its_baseline_only_while_no_later_scan_is_closer():
    # 2024-04-20 is 16 days before line 2 starts (≤ 60): line 1's follow-up and line 2's baseline.
    assert [line.role for line in scan_lines(RECORD, date(2024, 4, 20), SETTINGS)] == [FOLLOW_UP, BASELINE]
    # With a scan on 2024-05-01 already stored, the latest one before the start is line 2's baseline (§1).
    later = PatientRecord(record_id="R", lines=LINES, assessments=(TumorAssessment(ta_date=date(2024, 5, 1)),))
    assert [line.role for line in scan_lines(later, date(2024, 4, 20), SETTINGS)] == [FOLLOW_UP]


def test_a_scan_on_a_lines_start_day_is_its_baseline_not_a_follow_up():
    # §1: an assessment on the start day is baseline, not follow-up (the window opens after the start).
    record = PatientRecord(record_id="R", lines=LINES[:1])
    assert scan_lines(record, date(2024, 1, 10), SETTINGS) == (ScanLine(1, BASELINE, date(2024, 1, 10)),)


def test_a_scan_long_before_every_line_belongs_to_none():
    assert scan_lines(RECORD, date(2023, 1, 1), SETTINGS) == ()
    assert membership_text(()).startswith("This scan belongs to no line")
