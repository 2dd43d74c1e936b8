"""Who may open and save the instrument pages: coordinators change their sites' records only (another
site's record is 'not found'), viewers and investigators get the same pages read-only and cannot post,
identifier fields are left out for users without the identified grant."""
from datetime import date

import pytest
from django.urls import reverse

from registry.models import RegistryRole, Role, TreatmentLine
from tests import factories
from tests.workspace.instrument_pages import instance_url, page_data, record_form_url, rows_data, version_of

pytestmark = pytest.mark.django_db

LINE_2 = {"line_no": "2", "line_type": "1", "line_drug": "3", "line_start": "2021-05-01",
          "treatment_line_complete": "0"}


@pytest.fixture
def patient(site_a):
    patient = factories.make_patient(site_a, "ABC-003", mrn="MRN-778812", birth_date=date(1960, 4, 2))
    factories.make_line(patient, line_end=date(2021, 4, 2), line_end_reason=1)  # alectinib, ended by progression
    return patient


def _line_url(patient) -> str:
    return instance_url(patient, "treatment_line", TreatmentLine.objects.get(patient=patient).redcap_repeat_instance)


def test_a_coordinator_of_another_site_finds_no_such_record(client, patient, site_b):
    client.force_login(factories.make_user(role=Role.COORDINATOR, sites=[site_b]))
    before = version_of(patient)

    for url in (_line_url(patient), instance_url(patient, "treatment_line"), record_form_url(patient, "vital_status")):
        assert client.get(url).status_code == 404
    posted = client.post(instance_url(patient, "treatment_line"), page_data(patient, LINE_2) | rows_data("lesions", []))

    assert posted.status_code == 404
    assert TreatmentLine.objects.filter(patient=patient).count() == 1
    assert version_of(patient) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.INVESTIGATOR])
def test_viewers_and_investigators_read_the_page_without_a_form_and_cannot_post(client, patient, site_a, role):
    client.force_login(factories.make_user(role=role, sites=[site_a]))
    before = version_of(patient)

    page = client.get(_line_url(patient))

    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" not in html.split('<main id="main"')[1]  # the only form is the nav's log-out button
    # Codes as their labels, dates ISO.
    assert "<dt>Regimen</dt><dd>Alectinib</dd>" in html
    assert "<dt>End date (blank while ongoing)</dt><dd>2021-04-02</dd>" in html
    assert "<dt>Reason the line ended</dt><dd>Progression</dd>" in html
    assert "Other regimen, specify" not in html  # hidden by branching logic: no value to show
    posted = client.post(_line_url(patient), page_data(patient, LINE_2 | {"line_no": "1"}) | rows_data("lesions", []))
    assert posted.status_code == 403
    assert client.get(instance_url(patient, "treatment_line")).status_code == 403
    assert TreatmentLine.objects.get(patient=patient).line_drug == 2
    assert version_of(patient) == before


def test_anonymous_users_are_sent_to_log_in(client, patient):
    response = client.get(_line_url(patient))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))


def test_identifier_fields_are_left_out_without_the_identified_grant(client, patient, site_a):
    viewer = factories.make_user(role=Role.VIEWER, sites=[site_a])
    client.force_login(viewer)

    html = client.get(record_form_url(patient, "enrollment")).content.decode()

    assert "MRN-778812" not in html and "1960-04-02" not in html
    assert "Hospital medical record number" not in html and "Date of birth" not in html

    RegistryRole.objects.filter(user=viewer).update(may_export_identified=True)
    client.force_login(viewer)  # a new request computes the user's access again
    html = client.get(record_form_url(patient, "enrollment")).content.decode()
    assert "<dt>Hospital medical record number</dt><dd>MRN-778812</dd>" in html
    assert "<dt>Date of birth</dt><dd>1960-04-02</dd>" in html


def test_coordinators_see_and_edit_identifier_fields(client, patient, coordinator_a):
    client.force_login(coordinator_a)

    form = client.get(record_form_url(patient, "enrollment")).context["form"]

    assert {"mrn", "birth_date"} <= set(form.fields)


@pytest.mark.parametrize("form", ["tumor_assessment", "lesion_measurement", "no_such_form", "enrollment"])
def test_forms_that_are_not_entered_here_are_not_found(client, patient, coordinator_a, form):
    client.force_login(coordinator_a)

    assert client.get(instance_url(patient, form)).status_code == 404
    assert client.get(instance_url(patient, form, 1)).status_code == 404


@pytest.mark.parametrize("form", ["treatment_line", "lesion", "no_such_form"])
def test_a_record_form_is_only_enrollment_or_vital_status(client, patient, coordinator_a, form):
    client.force_login(coordinator_a)

    assert client.get(record_form_url(patient, form)).status_code == 404
