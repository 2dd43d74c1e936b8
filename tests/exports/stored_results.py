"""Builders for stored derivation results, written directly with the ORM: the values are worked
out by hand in each test (the export reads what is stored; it never derives)."""
from datetime import UTC, date, datetime

from registry.models import (
    AssessmentDerivation, Biopsy, BiopsyDerivation, LineDerivation, Patient, PatientDerivation, TreatmentLine,
    TumorAssessment,
)

DATA_CUTOFF = date(2024, 6, 30)
SETTINGS_SNAPSHOT = {
    "data_cutoff": "2024-06-30", "baseline_window_days": 60, "death_window_days": 182, "pfs_death_is_event": True,
    "lesion_progression_min_mm": "5", "sd_min_days": 42, "local_therapy_window_days": 60, "beyond_pd_min_days": 30,
    "biopsy_lookback_days": 30, "days_per_month": "30.4375", "study_id": "ALK-REGISTRY",
}


def make_patient_derivation(patient: Patient, **values) -> PatientDerivation:
    defaults = {
        "rules_version": 2, "settings_snapshot": SETTINGS_SNAPSHOT, "data_cutoff": DATA_CUTOFF,
        "derived_at": datetime(2024, 7, 1, 9, 0, tzinfo=UTC),
    }
    defaults.update(values)
    return PatientDerivation.objects.create(patient=patient, **defaults)


def make_line_derivation(line: TreatmentLine, **values) -> LineDerivation:
    return LineDerivation.objects.create(patient=line.patient, line=line, line_no=line.line_no, **values)


def make_assessment_derivation(assessment: TumorAssessment, line: TreatmentLine, **values) -> AssessmentDerivation:
    defaults = {"overall_response": "NE", "response_source": "derived"}
    defaults.update(values)
    return AssessmentDerivation.objects.create(
        patient=assessment.patient, assessment=assessment, line=line, line_no=line.line_no,
        ta_date=assessment.ta_date, **defaults,
    )


def make_biopsy_derivation(biopsy: Biopsy, **values) -> BiopsyDerivation:
    defaults = {"mechanism_category": "not_assessed"}
    defaults.update(values)
    return BiopsyDerivation.objects.create(patient=biopsy.patient, biopsy=biopsy, bx_date=biopsy.bx_date, **defaults)
