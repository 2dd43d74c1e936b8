"""Every door that writes a record changes its version (the REST API's ETag); reads do not."""
import io

from django.db import transaction

from registry.models import Patient, PatientVersion
from registry.services.patient_versions import (
    current_versions, patients_lock, patients_version_bump, record_version, records_version_bump,
)
from tests import factories
from tests.admin.admin_pages import change_url, form_data_of


def version_of(patient) -> str:
    return current_versions([patient.id])[patient.id]


def test_a_patient_never_written_through_a_door_is_at_its_first_version(site_a):
    patient = factories.make_patient(site_a, "P-1")

    assert version_of(patient) == f"{patient.id}.1"
    assert not PatientVersion.objects.exists()


def test_each_bump_adds_one_and_stamps_the_time_in_one_statement(site_a, django_assert_num_queries):
    patient = factories.make_patient(site_a, "P-1")

    with django_assert_num_queries(1):  # INSERT ... SELECT ... ON CONFLICT DO UPDATE
        patients_version_bump([patient.id])
    first_stamp = PatientVersion.objects.get(patient=patient).changed_at
    patients_version_bump([patient.id])

    stored = PatientVersion.objects.get(patient=patient)
    assert version_of(patient) == f"{patient.id}.3"
    assert stored.changed_at >= first_stamp


def test_a_queryset_of_ids_bumps_as_its_subquery_and_deleted_patients_are_skipped(site_a):
    kept = factories.make_patient(site_a, "P-1")
    gone = factories.make_patient(site_a, "P-2")
    gone_id = gone.id
    gone.delete()

    patients_version_bump(Patient.objects.filter(record_id__in=["P-1", "P-2"]).values_list("id", flat=True))
    patients_version_bump([gone_id])

    assert list(PatientVersion.objects.values_list("patient_id", "number")) == [(kept.id, 2)]


def test_an_instrument_instance_bumps_its_patients_version(site_a):
    patient = factories.make_full_patient(site_a, "P-1")

    records_version_bump(patient.treatment_lines.get(), patient)

    assert version_of(patient) == f"{patient.id}.2"


def test_locking_returns_the_current_versions_of_existing_patients_only(site_a):
    one = factories.make_patient(site_a, "P-1")
    two = factories.make_patient(site_a, "P-2")
    patients_version_bump([two.id])

    with transaction.atomic():
        locked = patients_lock([two.id, one.id, 999_999])

    assert locked == {one.id: record_version(one.id, 1), two.id: record_version(two.id, 2)}


def test_saving_a_patient_in_the_admin_changes_its_version(client, administrator, site_a):
    patient = factories.make_full_patient(site_a, "P-1")
    client.force_login(administrator)
    data = form_data_of(client.get(change_url(patient)))
    data["smoking"] = "1"

    response = client.post(change_url(patient), data)

    assert response.status_code == 302
    assert version_of(patient) == f"{patient.id}.2"


def test_opening_a_patient_in_the_admin_leaves_its_version(client, administrator, site_a):
    patient = factories.make_full_patient(site_a, "P-1")
    client.force_login(administrator)

    client.get(change_url(patient))

    assert version_of(patient) == f"{patient.id}.1"


def test_deleting_an_instrument_instance_in_the_admin_changes_its_patients_version(client, administrator, site_a):
    patient = factories.make_full_patient(site_a, "P-1")
    line = patient.treatment_lines.get()
    client.force_login(administrator)

    response = client.post(f"/admin/registry/treatmentline/{line.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert version_of(patient) == f"{patient.id}.2"


def test_a_redcap_import_that_writes_a_record_changes_its_version_and_a_repeat_does_not(site_a):
    from registry.services.records import records_import

    source = b"record_id,sex,adv_dx_date\nP-1,1,2020-01-01\n"
    records_import(source=io.BytesIO(source), file_format="csv", site=site_a, user=None)
    patient = Patient.objects.get(record_id="P-1")
    written = version_of(patient)

    records_import(source=io.BytesIO(source), file_format="csv", site=site_a, user=None)

    assert written == f"{patient.id}.2"
    assert version_of(patient) == written
