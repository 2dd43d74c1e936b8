"""Deleting an instance from the record home page, with a reason kept in the audit trail."""
from datetime import date

import pytest
from django.urls import reverse

from registry.models import LesionMeasurement, Role, TumorAssessment
from registry.services.instances import instance_save
from registry.services.patient_versions import current_versions
from tests import factories


@pytest.fixture
def scan(site_a):
    """A scan of 2024-03-01 with two lesion measurements."""
    patient = factories.make_patient(site_a, "P-D")
    assessment = factories.make_assessment(patient, date(2024, 3, 1))
    for les_id in ("L1-T1", "L1-T2"):
        factories.make_measurement(assessment, factories.make_lesion(patient, les_id))
    return assessment


def delete_url(record_id="P-D", form="tumor_assessment", instance=1):
    return reverse("workspace:instance_delete", args=[record_id, form, instance])


def post(client, user, reason, version=None, **kwargs):
    client.force_login(user)
    if version is None:
        version = current_versions([TumorAssessment.objects.get().patient_id]).popitem()[1]
    return client.post(delete_url(**kwargs), {"reason": reason, "record_version": version})


@pytest.mark.django_db
def test_the_confirmation_names_the_scan_and_its_measurements(client, scan, coordinator_a):
    client.force_login(coordinator_a)

    html = client.get(delete_url()).content.decode()

    assert "Tumour assessment 2024-03-01 and its 2 lesion measurements" in html
    assert 'name="reason"' in html and 'name="record_version"' in html


@pytest.mark.django_db
def test_deleting_keeps_the_reason_in_the_history_of_the_scan_and_of_each_measurement(
        client, scan, coordinator_a):
    response = post(client, coordinator_a, "Entered in the wrong record")

    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:record", args=["P-D"])
    assert not TumorAssessment.objects.exists() and not LesionMeasurement.objects.exists()
    deleted = [*TumorAssessment.history.filter(history_type="-"), *LesionMeasurement.history.filter(history_type="-")]
    assert len(deleted) == 3
    assert {row.history_change_reason for row in deleted} == {"workspace: Entered in the wrong record"}
    assert {row.history_user for row in deleted} == {coordinator_a}


@pytest.mark.django_db
def test_the_admin_audit_trail_shows_the_reason_beside_the_door(client, scan, coordinator_a):
    post(client, coordinator_a, "Duplicate of scan 2")

    html = client.get(reverse("admin:registry_patient_audit_trail", args=[scan.patient_id])).content.decode()

    assert "workspace: Duplicate of scan 2" in html


@pytest.mark.django_db
@pytest.mark.parametrize("reason, error", [
    ("   ", "Say why this is deleted"),
    ("x" * 501, "Ensure this value has at most 500 characters"),
])
def test_a_missing_or_too_long_reason_deletes_nothing(client, scan, coordinator_a, reason, error):
    response = post(client, coordinator_a, reason)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert TumorAssessment.objects.count() == 1 and LesionMeasurement.objects.count() == 2
    assert not TumorAssessment.history.filter(history_type="-").exists()


@pytest.mark.django_db
def test_a_change_made_meanwhile_refuses_the_deletion_and_names_who_made_it(client, scan, coordinator_a):
    loaded_version = current_versions([scan.patient_id])[scan.patient_id]
    other = factories.make_user("other_coordinator", role=Role.COORDINATOR, sites=[scan.patient.site])
    scan.ta_reported = 2
    instance_save(instance=scan, user=other, door="workspace")

    response = post(client, coordinator_a, "Duplicate", version=loaded_version)

    html = response.content.decode()
    assert response.status_code == 200
    assert "this record was changed while you were editing it" in html
    assert "other_coordinator" in html
    assert TumorAssessment.objects.count() == 1 and LesionMeasurement.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["enrollment", "vital_status", "no_such_form"])
def test_the_non_repeating_forms_are_not_deleted_here(client, scan, coordinator_a, form):
    client.force_login(coordinator_a)

    assert client.get(delete_url(form=form)).status_code == 404


@pytest.mark.django_db
def test_readers_may_not_delete_and_another_sites_coordinator_gets_404(client, scan, site_b):
    viewer = factories.make_user(role=Role.VIEWER, sites=[scan.patient.site])
    stranger = factories.make_user(role=Role.COORDINATOR, sites=[site_b])

    assert post(client, viewer, "no").status_code == 403
    assert post(client, stranger, "no").status_code == 404
    client.force_login(viewer)
    assert client.get(delete_url(instance=99)).status_code == 403
    assert TumorAssessment.objects.count() == 1 and LesionMeasurement.objects.count() == 2
