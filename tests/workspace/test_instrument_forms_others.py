"""The other instrument pages: local therapy, a lesion on its own, a biopsy with its NGS variants, and the
record's two forms (enrollment, vital status): each saves one instance and shows an error."""
from datetime import date

import pytest

from registry.models import Biopsy, Lesion, LocalTherapy, NgsVariant, Patient
from tests import factories
from tests.workspace.instrument_pages import (
    instance_url, messages_of, page_data, record_form_url, record_url, rows_data, shown_values, version_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site_a):
    return factories.make_patient(site_a, "ABC-003", birth_date=date(1960, 4, 2))



def _history_of(model, instance):
    return [(row.history_change_reason, row.history_user) for row in model.history.filter(id=instance.pk)]


def test_coordinator_adds_a_local_therapy(client, patient, coordinator):
    before = version_of(patient)
    data = page_data(patient, {"lt_date": "2021-06-14", "lt_type": "1", "lt_site": "3", "lt_intent": "2",
                               "local_therapy_complete": "2"})

    response = client.post(instance_url(patient, "local_therapy"), data)

    assert (response.status_code, response["Location"]) == (302, record_url(patient))
    assert messages_of(response) == ["Local therapy 1 of ABC-003 saved."]
    therapy = LocalTherapy.objects.get(patient=patient)
    assert (therapy.redcap_repeat_instance, therapy.lt_date, therapy.lt_type, therapy.lt_site, therapy.lt_intent,
            therapy.local_therapy_complete) == (1, date(2021, 6, 14), 1, 3, 2, 2)
    assert _history_of(LocalTherapy, therapy) == [("workspace", coordinator)]
    assert version_of(patient) != before


def test_a_local_therapy_date_not_written_iso_is_refused_beside_its_field(client, patient, coordinator):
    data = page_data(patient, {"lt_date": "14/06/2021", "lt_type": "1", "local_therapy_complete": "0"})

    response = client.post(instance_url(patient, "local_therapy"), data)

    html = response.content.decode()
    assert '<p class="error-text" id="id_lt_date_error">Enter the date as YYYY-MM-DD, e.g. 2024-03-31.</p>' in html
    assert '<a href="#id_lt_date">' in html
    assert not LocalTherapy.objects.exists()


def test_coordinator_changes_a_lesion_on_its_own_page(client, patient, coordinator):
    lesion = factories.make_lesion(patient, "L1-T1", les_line=1, les_site=1)
    url = instance_url(patient, "lesion", lesion.redcap_repeat_instance)
    before = version_of(patient)

    response = client.post(url, shown_values(client.get(url)) | {"les_site": "2"})

    assert messages_of(response) == ["Lesion 1 of ABC-003 saved."]
    lesion.refresh_from_db()
    assert lesion.les_site == 2
    assert _history_of(Lesion, lesion)[0] == ("workspace", coordinator)  # newest first
    assert version_of(patient) != before


def test_a_lesion_identifier_another_lesion_has_is_refused(client, patient, coordinator):
    factories.make_lesion(patient, "L1-T1")
    lesion = factories.make_lesion(patient, "L1-T2")
    url = instance_url(patient, "lesion", lesion.redcap_repeat_instance)

    response = client.post(url, shown_values(client.get(url)) | {"les_id": "L1-T1"})

    assert "This patient already has a lesion with this identifier." in response.content.decode()
    lesion.refresh_from_db()
    assert lesion.les_id == "L1-T2"


def test_coordinator_adds_a_biopsy_with_its_ngs_variant(client, patient, coordinator):
    before = version_of(patient)
    data = page_data(patient, {"bx_date": "2022-01-25", "bx_specimen": "2", "bx_ngs": "1",
                               "bx_ngs_panel": "Guardant360, 74 genes", "biopsy_complete": "1"}) | rows_data(
        "variants", [{"var_gene": "ALK", "var_kind": "1", "var_protein": "G1202R", "var_vaf": "3.2"}, {}])

    response = client.post(instance_url(patient, "biopsy"), data)

    assert messages_of(response) == ["Biopsy 1 of ABC-003 saved: 1 NGS variant added."]
    biopsy = Biopsy.objects.get(patient=patient)
    assert (biopsy.bx_date, biopsy.bx_specimen, biopsy.bx_ngs_panel) == (date(2022, 1, 25), 2, "Guardant360, 74 genes")
    variant = NgsVariant.objects.get(patient=patient)
    assert (variant.biopsy, variant.var_gene, variant.var_protein, str(variant.var_vaf),
            variant.ngs_variant_complete) == (biopsy, "ALK", "G1202R", "3.200", 1)
    assert _history_of(Biopsy, biopsy) == [("workspace", coordinator)]
    assert _history_of(NgsVariant, variant) == [("workspace", coordinator)]
    assert version_of(patient) != before


def test_a_variant_without_its_gene_is_named_in_the_summary_and_nothing_is_written(client, patient, coordinator):
    data = page_data(patient, {"bx_date": "2022-01-25", "bx_specimen": "1", "biopsy_complete": "0"}) | rows_data(
        "variants", [{"var_kind": "3", "var_partner": "EML4"}])

    response = client.post(instance_url(patient, "biopsy"), data)

    html = response.content.decode()
    summary_entry = "NGS variant row 1 — Gene (HGNC symbol): This field is required."
    assert f'<a href="#id_variants-0-var_gene">{summary_entry}</a>' in html
    assert (Biopsy.objects.count(), NgsVariant.objects.count()) == (0, 0)


def test_an_ngs_variant_opens_on_its_biopsy_page(client, patient, coordinator):
    biopsy = factories.make_biopsy(patient)
    variant = factories.make_variant(biopsy)

    response = client.get(instance_url(patient, "ngs_variant", variant.redcap_repeat_instance))

    assert response["Location"] == instance_url(patient, "biopsy", biopsy.redcap_repeat_instance)


def test_coordinator_records_a_death_on_the_vital_status_form(client, patient, coordinator):
    url = record_form_url(patient, "vital_status")
    page = client.get(url)
    # Only this form's fields: the enrollment's are on their own page.
    assert "sex" not in page.context["form"].fields and "death_date" in page.context["form"].fields
    before = version_of(patient)

    response = client.post(url, shown_values(page) | {
        "last_alive_date": "2024-02-01", "vital": "2", "death_date": "2024-02-03", "death_cause": "1",
        "vital_status_complete": "2"})

    assert messages_of(response) == ["Vital status of ABC-003 saved."]
    patient.refresh_from_db()
    assert (patient.vital, patient.death_date, patient.death_cause, patient.sex) == (2, date(2024, 2, 3), 1, 2)
    assert Patient.history.filter(id=patient.pk).first().history_change_reason == "workspace"
    assert version_of(patient) != before


def test_death_details_show_only_for_a_dead_patient(client, patient, coordinator):
    url = record_form_url(patient, "vital_status")
    hidden = client.post(url, page_data(patient, {"vital": "1"}) | {"_branching": "1"}).content.decode()
    shown = client.post(url, page_data(patient, {"vital": "2"}) | {"_branching": "1"}).content.decode()

    assert 'data-hidden="death_cause death_date"' in hidden
    assert 'data-hidden=""' in shown


def test_a_death_before_birth_is_refused_beside_its_field(client, patient, coordinator):
    url = record_form_url(patient, "vital_status")

    response = client.post(url, shown_values(client.get(url)) | {"vital": "2", "death_date": "1959-12-31"})

    assert ('<p class="error-text" id="id_death_date_error">The date of death (1959-12-31) cannot be before the date '
            'of birth (1960-04-02).</p>') in response.content.decode()
    patient.refresh_from_db()
    assert (patient.vital, patient.death_date) == (None, None)


def test_coordinator_corrects_the_enrollment(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")
    before = version_of(patient)

    response = client.post(url, shown_values(client.get(url)) | {"alk_method": ["1", "3"], "stage_dx": "4"})

    assert messages_of(response) == ["Enrollment of ABC-003 saved."]
    patient.refresh_from_db()
    ticked = (patient.alk_method_1, patient.alk_method_2, patient.alk_method_3)
    assert (ticked, patient.stage_dx) == ((True, False, True), 4)
    assert version_of(patient) != before


def test_an_advanced_diagnosis_before_birth_is_refused_and_nothing_is_written(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")
    before = version_of(patient)

    response = client.post(url, shown_values(client.get(url)) | {"adv_dx_date": "1950-01-01"})

    html = response.content.decode()
    assert 'id="id_adv_dx_date_error"' in html and '<a href="#id_adv_dx_date">' in html
    patient.refresh_from_db()
    assert patient.adv_dx_date == date(2020, 3, 2)
    assert version_of(patient) == before


def test_a_death_date_left_for_a_patient_said_alive_is_kept_when_the_coordinator_says_so(client, patient, coordinator):
    url = record_form_url(patient, "vital_status")
    data = shown_values(client.get(url)) | {"vital": "1", "death_date": "2024-02-03"}

    asked = client.post(url, data)

    assert asked.context["save"].hidden_values == ["death_date"]
    patient.refresh_from_db()
    assert patient.death_date is None

    kept = client.post(url, data | {"hidden_values": "keep"})

    assert kept.status_code == 302
    patient.refresh_from_db()
    assert (patient.vital, patient.death_date) == (1, date(2024, 2, 3))
