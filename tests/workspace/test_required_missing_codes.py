"""A required field takes a missing-data code on the workspace's pages (issue 12 §4 follow-up): its code
select is beside it, it still shows as required, and left blank without a code it is refused as before."""
from datetime import date

import pytest

from django.urls import reverse

from registry.models import TreatmentLine
from tests import factories
from tests.workspace.instrument_pages import instance_url, messages_of, record_form_url, shown_values, version_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site_a):
    patient = factories.make_patient(site_a, "ABC-003", birth_date=date(1960, 4, 2))
    factories.make_line(patient)
    return patient



def test_a_required_field_shows_its_code_select_and_stays_marked_required(client, patient, coordinator):
    page = client.get(record_form_url(patient, "enrollment")).content.decode()

    assert 'name="sex_missing"' in page
    block = page[page.index('id="field-sex"'):]
    assert block.index('class="required"') < block.index('name="sex_missing"')


def test_a_coordinator_records_an_unknown_sex(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")
    data = {name: value for name, value in shown_values(client.get(url)).items() if name != "sex"}

    response = client.post(url, data | {"sex_missing": "ASKU"})

    assert messages_of(response) == ["Enrollment of ABC-003 saved."]
    patient.refresh_from_db()
    assert (patient.sex, patient.sex_missing) == (None, "ASKU")
    # ... and the page shows the code again, the field empty.
    shown = shown_values(client.get(url))
    assert shown["sex_missing"] == "ASKU" and "sex" not in shown


def test_a_required_field_left_blank_without_a_code_is_refused_and_nothing_is_written(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")
    before = version_of(patient)
    data = {name: value for name, value in shown_values(client.get(url)).items() if name != "adv_dx_date"}

    response = client.post(url, data)

    assert '<p class="error-text" id="id_adv_dx_date_error">This field is required.</p>' in response.content.decode()
    patient.refresh_from_db()
    assert (patient.adv_dx_date, patient.adv_dx_date_missing) == (date(2020, 3, 2), "")
    assert version_of(patient) == before


def test_a_coordinator_codes_the_type_of_a_line(client, patient, coordinator):
    url = instance_url(patient, "treatment_line", 1)
    data = {name: value for name, value in shown_values(client.get(url)).items() if name != "line_type"}

    client.post(url, data | {"line_type_missing": "UNK"})

    line = TreatmentLine.objects.get(patient=patient)
    assert (line.line_type, line.line_type_missing) == (None, "UNK")


def test_the_scan_page_keeps_a_measurement_whose_status_is_coded(patient):
    # The scan page has no code select: a stored row with a coded status shows blank, and saving the scan
    # keeps it (a stored row left blank without a code is deleted, as before).
    from types import SimpleNamespace

    from registry.workspace.views.scans import _measurement_changes

    assessment = factories.make_assessment(patient, date(2020, 6, 1))
    coded = factories.make_measurement(assessment, factories.make_lesion(patient, "T1"), lm_status=None, lm_mm=None,
                                       lm_status_missing="ND")
    plain = factories.make_measurement(assessment, factories.make_lesion(patient, "T2"))
    rows = SimpleNamespace(histories=[SimpleNamespace(les_id="T1"), SimpleNamespace(les_id="T2")], typed={})
    page = SimpleNamespace(existing={"T1": coded, "T2": plain})

    saved, deleted = _measurement_changes(page, assessment, rows)

    assert (saved, deleted) == ([], [plain])


def test_the_record_home_and_the_line_page_show_a_coded_required_field_by_its_code(client, site_a, coordinator):
    patient = factories.make_patient(site_a, "ABC-004", sex=None, sex_missing="UNK")
    factories.make_line(patient, line_type=None, line_type_missing="NI", line_drug=None, line_drug_missing="ND")

    home = client.get(reverse("workspace:record", kwargs={"record_id": "ABC-004"}))
    line_page = client.get(instance_url(patient, "treatment_line", 1))

    assert (home.status_code, line_page.status_code) == (200, 200)
    assert shown_values(line_page)["line_drug_missing"] == "ND"
