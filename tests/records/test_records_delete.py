"""records_delete: whole records, all or nothing, administrators only, each row in the audit trail."""
import pytest
from django.core.exceptions import PermissionDenied

from registry.models import LesionMeasurement, Patient, TreatmentLine
from registry.selectors.audit_trail import audit_trail
from registry.services.records import records_delete
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_administrator_deletes_whole_records_and_every_row_is_audited(site_a, administrator):
    factories.make_full_patient(site_a, "P-1")
    factories.make_full_patient(site_a, "P-2")

    deleted = records_delete(record_ids=["P-1", "P-1"], user=administrator, door="redcap api")

    assert deleted == ["P-1"]
    assert list(Patient.objects.values_list("record_id", flat=True)) == ["P-2"]
    assert TreatmentLine.objects.count() == 1 and LesionMeasurement.objects.count() == 1
    deletions = [entry for entry in audit_trail(record_ids=["P-1"]) if entry.action == "deleted"]
    # the patient row and each of its instrument instances, every one with its user and door
    assert {entry.instrument for entry in deletions} >= {"enrollment", "treatment_line", "lesion_measurement"}
    assert {(entry.user, entry.door) for entry in deletions} == {("administrator", "redcap api")}


def test_an_unknown_record_deletes_nothing(site_a, administrator):
    factories.make_full_patient(site_a, "P-1")

    with pytest.raises(LookupError, match="No record with the ID P-404"):
        records_delete(record_ids=["P-1", "P-404"], user=administrator)

    assert Patient.objects.filter(record_id="P-1").exists()


def test_a_coordinator_may_not_delete_records(site_a, coordinator_a):
    factories.make_full_patient(site_a, "P-1")

    with pytest.raises(PermissionDenied):
        records_delete(record_ids=["P-1"], user=coordinator_a)

    assert Patient.objects.filter(record_id="P-1").exists()
