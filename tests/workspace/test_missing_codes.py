"""Missing-data codes on the workspace's instrument pages: a code select beside each codable field;
saving a value clears the code and choosing a code clears the value (issue 12 §4)."""
from datetime import date

import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.workspace.instrument_pages import (
    instance_url, messages_of, record_form_url, shown_values,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site_a):
    patient = factories.make_patient(site_a, "ABC-003", birth_date=date(1960, 4, 2))
    factories.make_line(patient)
    return patient



def test_the_code_select_is_beside_a_codable_field_and_not_beside_one_that_dates_the_record(
        client, patient, coordinator):
    page = client.get(instance_url(patient, "treatment_line", 1)).content.decode()

    assert 'name="line_end_missing"' in page
    assert '<option value="UNK">UNK Unknown</option>' in page
    assert 'name="line_start_missing"' not in page
    # beside its field: inside the line_end field's block
    block = page[page.index('id="field-line_end"'):]
    assert block.index('name="line_end_missing"') < block.index('id="field-line_end_reason"')


def test_a_coordinator_records_an_unknown_death_date(client, patient, coordinator):
    url = record_form_url(patient, "vital_status")

    response = client.post(url, shown_values(client.get(url)) | {
        "vital": "2", "death_date": "", "death_date_missing": "UNK", "vital_status_complete": "1"})

    assert messages_of(response) == ["Vital status of ABC-003 saved."]
    patient.refresh_from_db()
    assert (patient.vital, patient.death_date, patient.death_date_missing) == (2, None, "UNK")
    assert Patient.history.filter(id=patient.pk).first().death_date_missing == "UNK"


def test_saving_a_value_clears_the_code(client, patient, coordinator):
    Patient.objects.filter(pk=patient.pk).update(vital=2, death_date_missing="UNK")
    url = record_form_url(patient, "vital_status")
    shown = shown_values(client.get(url))
    assert shown["death_date_missing"] == "UNK"  # the page shows the stored code

    client.post(url, shown | {"death_date": "2024-02-03"})

    patient.refresh_from_db()
    assert (patient.death_date, patient.death_date_missing) == (date(2024, 2, 3), "")


def test_choosing_a_code_clears_the_value(client, patient, coordinator):
    url = instance_url(patient, "treatment_line", 1)
    TreatmentLine.objects.filter(patient=patient).update(line_ecog=1)

    client.post(url, shown_values(client.get(url)) | {"line_ecog_missing": "ND"})

    line = TreatmentLine.objects.get(patient=patient)
    assert (line.line_ecog, line.line_ecog_missing) == (None, "ND")


def test_a_new_value_and_a_new_code_together_are_refused_beside_the_field(client, patient, coordinator):
    url = instance_url(patient, "treatment_line", 1)

    response = client.post(url, shown_values(client.get(url)) | {"line_ecog": "1", "line_ecog_missing": "ND"})

    assert ("Enter a value of &#x27;ECOG performance status at start of line&#x27; or a missing-data code, not both."
            in response.content.decode())
    line = TreatmentLine.objects.get(patient=patient)
    assert (line.line_ecog, line.line_ecog_missing) == (None, "")


def test_a_read_only_page_shows_the_code_for_the_value(client, patient, site_a):
    TreatmentLine.objects.filter(patient=patient).update(line_end_missing="NAVU")
    client.force_login(factories.make_user("viewer-1", role="viewer", sites=[site_a]))

    page = client.get(instance_url(patient, "treatment_line", 1)).content.decode()

    assert "NAVU (Not available)" in page


def test_the_scan_page_saving_a_value_replaces_a_stored_code(client, patient, coordinator):
    # The scan page has no code select: a new-lesion answer typed there replaces the stored code.
    from registry.models import TumorAssessment
    from registry.workspace.scan_forms import scan_form_class

    assessment = factories.make_assessment(patient, date(2020, 6, 1), ta_new_lesion_missing="ASKU")
    form = scan_form_class()(
        {"ta_date": "2020-06-01", "ta_new_lesion": "0", "tumor_assessment_complete": "0"}, instance=assessment)

    assert form.is_valid(), form.errors
    form.save()
    assert TumorAssessment.objects.values_list("ta_new_lesion", "ta_new_lesion_missing").get() == (0, "")
