"""Shared by the API tests: the database as a comparable snapshot, and reading answers."""
from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, PatientVersion, TreatmentLine,
    TumorAssessment,
)
from registry.records.flat_export import flat_rows

RECORD_MODELS = (Patient, TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant)


def database_state() -> tuple:
    """Every record as its flat export, every version, and how many audit-trail rows each table has:
    equal before and after a refused request when nothing at all was written."""
    return (
        list(flat_rows(Patient.objects.all())),
        sorted(PatientVersion.objects.values_list("patient_id", "number")),
        tuple(model.history.count() for model in RECORD_MODELS),
    )


def problems_of(response) -> list[tuple]:
    """(record, instrument, field, reason) of each error of a 4xx answer."""
    return [(e["record"], e["instrument"], e["field"], e["reason"]) for e in response.json().get("errors", [])]


def if_match(client, record_id: str) -> dict:
    """The If-Match header for the record's current version, as a GET gives it."""
    response = client.get(f"/api/v1/patients/{record_id}/")
    assert response.status_code == 200, response.content
    return {"HTTP_IF_MATCH": response["ETag"]}
