"""Enrolling a new patient from the workspace."""
import pytest
from django.urls import reverse

from registry.models import Patient, Role
from tests import factories

ENROLMENT = {"sex": "2", "adv_dx_date": "2024-02-03", "histology": "1", "enrollment_complete": "1"}


def enrol(client, user, **data):
    client.force_login(user)
    return client.post(reverse("workspace:record_new"), {**ENROLMENT, **data})


@pytest.mark.django_db
def test_the_form_proposes_the_next_record_id_of_the_coordinators_site(client, site_a, coordinator_a):
    factories.make_patient(site_a, f"{site_a.id}-7")
    client.force_login(coordinator_a)

    html = client.get(reverse("workspace:record_new")).content.decode()

    assert f'value="{site_a.id}-8"' in html
    assert "site-a — Hospital A" in html


@pytest.mark.django_db
def test_a_coordinator_of_two_sites_chooses_the_site_and_gets_its_proposal(client, site_a, site_b):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    client.force_login(coordinator)

    html = client.get(reverse("workspace:record_new"), {"site": site_b.id}).content.decode()

    assert f'value="{site_b.id}-1"' in html
    assert f'<option value="{site_b.id}" selected>' in html


@pytest.mark.django_db
def test_enrolling_creates_the_record_through_the_workspace_door_and_opens_its_home_page(
        client, site_a, coordinator_a):
    response = enrol(client, coordinator_a, site=site_a.id, record_id=f"{site_a.id}-1", mrn="H-1")

    patient = Patient.objects.get(record_id=f"{site_a.id}-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:record", args=[patient.record_id])
    assert patient.site == site_a and patient.mrn == "H-1" and patient.adv_dx_date.isoformat() == "2024-02-03"
    history = patient.history.get()
    assert (history.history_change_reason, history.history_user) == ("workspace", coordinator_a)
    followed = client.get(response["Location"])
    assert f"Record {patient.record_id} enrolled at site-a." in followed.content.decode()


@pytest.mark.django_db
def test_an_enrolment_with_errors_is_shown_again_and_writes_nothing(client, site_a, coordinator_a):
    response = enrol(client, coordinator_a, site=site_a.id, record_id="has space", adv_dx_date="03/02/2024")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in html
    assert "Enter the date as YYYY-MM-DD" in html
    assert "A record ID may contain only letters" in html
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_record_id_taken_in_another_letter_case_is_refused(client, site_a, coordinator_a):
    factories.make_patient(site_a, "WU-001")

    response = enrol(client, coordinator_a, site=site_a.id, record_id="wu-001")

    assert response.status_code == 200
    assert "A record with this ID exists already" in response.content.decode()
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_coordinator_cannot_enrol_at_another_site(client, site_a, site_b, coordinator_a):
    response = enrol(client, coordinator_a, site=site_b.id, record_id="X-1")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR, None])
def test_readers_and_users_without_a_role_get_no_enrolment_form(client, site_a, role):
    user = factories.make_user(role=role, sites=[site_a] if role == Role.VIEWER else [])
    client.force_login(user)

    assert client.get(reverse("workspace:record_new")).status_code == 403
    assert enrol(client, user, site=site_a.id, record_id="X-1").status_code == 403
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_choosing_another_site_answers_that_sites_proposal_alone_for_htmx(client, site_a, site_b):
    coordinator = factories.make_user(role=Role.COORDINATOR, sites=[site_a, site_b])
    factories.make_patient(site_b, f"{site_b.id}-4")
    client.force_login(coordinator)

    response = client.get(reverse("workspace:record_new"), {"site": site_b.id}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith("<div") and "<form" not in html
    assert 'id="field-record_id"' in html and f'value="{site_b.id}-5"' in html
