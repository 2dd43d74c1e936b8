"""The timeline's layout, computed without a database (unsaved model instances and a pure derivation)."""
from datetime import date

from registry import derive
from registry.derive import inputs
from registry.models import Patient, TreatmentLine
from registry.workspace.timeline import LABEL_WIDTH, RIGHT_MARGIN, WIDTH, timeline_layout


def layout(patient, lines, today=date(2024, 6, 30), cutoff=None):
    record = inputs.PatientRecord(record_id=patient.record_id, adv_dx_date=patient.adv_dx_date, lines=tuple(
        inputs.TreatmentLine(line_no=line.line_no, line_type=line.line_type, line_drug=line.line_drug,
                             line_start=line.line_start, line_end=line.line_end) for line in lines))
    live = derive.derive_patient(record, derive.AnalysisSettings(data_cutoff=today))
    return timeline_layout(patient=patient, lines=lines, assessments=[], biopsies=[], local_therapies=[],
                           live=live, today=today, analysis_cutoff=cutoff)


def test_the_axis_runs_from_the_advanced_diagnosis_to_today_with_quarter_ticks_under_two_years():
    patient = Patient(record_id="T-1", adv_dx_date=date(2023, 2, 15))
    line = TreatmentLine(pk=1, line_no=1, line_type=1, line_drug=2, line_start=date(2023, 3, 1))

    drawn = layout(patient, [line])

    assert (drawn.start, drawn.end) == (date(2023, 2, 15), date(2024, 6, 30))
    # 2023-04-01 .. 2024-04-01 every quarter: 5 ticks, years labelled alone.
    assert [tick.label for tick in drawn.ticks] == ["2023-04", "2023-07", "2023-10", "2024", "2024-04"]
    assert drawn.ticks[0].x > LABEL_WIDTH and drawn.ticks[-1].x < WIDTH - RIGHT_MARGIN


def test_a_short_line_has_its_label_beside_the_bar_and_a_long_one_inside():
    patient = Patient(record_id="T-2", adv_dx_date=date(2018, 1, 1))
    short = TreatmentLine(pk=1, line_no=1, line_type=1, line_drug=1, line_start=date(2018, 1, 10),
                          line_end=date(2018, 2, 10))
    long = TreatmentLine(pk=2, line_no=2, line_type=1, line_drug=7, line_start=date(2018, 2, 11))

    drawn = layout(patient, [short, long])

    first, second = drawn.bars
    assert (first.label, first.label_inside) == ("Crizotinib", False)
    assert first.label_x > first.x + first.width  # to the right of its bar
    assert (second.label, second.label_inside, second.ongoing) == ("Lorlatinib", True, True)
    assert second.x + second.width == WIDTH - RIGHT_MARGIN  # an ongoing line runs to today
