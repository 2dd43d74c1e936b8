"""A checkbox field's missing-data code on the workspace's pages (issue 12 §4): one code select beside the
group of tick boxes; choosing a code unticks the options, ticking an option clears the code, both at
once is refused beside the field."""
from datetime import date

import pytest

from registry.models import Patient, TumorAssessment
from tests import factories
from tests.workspace.instrument_pages import messages_of, record_form_url, shown_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site_a):
    return factories.make_patient(site_a, "ABC-003", birth_date=date(1960, 4, 2), alk_method_2=True)



def _stored(patient) -> tuple:
    return Patient.objects.values_list("alk_method_missing", *(f"alk_method_{code}" for code in range(1, 6))).get(
        pk=patient.pk)


def test_the_code_select_is_beside_the_group_of_tick_boxes(client, patient, coordinator):
    page = client.get(record_form_url(patient, "enrollment")).content.decode()

    block = page[page.index('id="field-alk_method"'):]
    assert block.index('name="alk_method_missing"') < block.index('id="field-alk_variant"')
    assert '<option value="NASK">NASK Not asked</option>' in block


def test_choosing_a_code_unticks_the_options(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")

    response = client.post(url, shown_values(client.get(url)) | {"alk_method_missing": "UNK"})

    assert messages_of(response) == ["Enrollment of ABC-003 saved."]
    assert _stored(patient) == ("UNK", False, False, False, False, False)
    assert Patient.history.filter(id=patient.pk).first().alk_method_missing == "UNK"
    assert shown_values(client.get(url))["alk_method_missing"] == "UNK"


def test_ticking_an_option_clears_the_code(client, patient, coordinator):
    Patient.objects.filter(pk=patient.pk).update(alk_method_2=False, alk_method_missing="NI")
    url = record_form_url(patient, "enrollment")

    client.post(url, shown_values(client.get(url)) | {"alk_method": ["4"]})

    assert _stored(patient) == ("", False, False, False, True, False)


def test_a_new_option_and_a_new_code_together_are_refused_beside_the_field(client, patient, coordinator):
    url = record_form_url(patient, "enrollment")

    response = client.post(url, shown_values(client.get(url)) | {"alk_method": ["1"], "alk_method_missing": "UNK"})

    assert ("Enter a value of &#x27;Method(s) that detected the ALK rearrangement&#x27; or a missing-data code, not "
            "both.") in response.content.decode()
    assert _stored(patient) == ("", False, True, False, False, False)


def test_a_read_only_page_shows_the_code_for_the_options(client, patient, site_a):
    Patient.objects.filter(pk=patient.pk).update(alk_method_2=False, alk_method_missing="NAVU")
    client.force_login(factories.make_user("viewer-1", role="viewer", sites=[site_a]))

    page = client.get(record_form_url(patient, "enrollment")).content.decode()

    assert "NAVU (Not available)" in page


def test_the_scan_page_saved_with_no_imaging_ticked_keeps_a_stored_code(patient):
    # The scan page (where assessments are entered) has no code select: nothing ticked leaves the code.
    from registry.workspace.scan_forms import scan_form_class

    assessment = factories.make_assessment(patient, date(2020, 6, 1), ta_scope_missing="NASK")
    form = scan_form_class()({"ta_date": "2020-06-01", "tumor_assessment_complete": "1"}, instance=assessment)

    assert form.is_valid(), form.errors
    form.save()
    assert TumorAssessment.objects.values_list("ta_scope_missing", "tumor_assessment_complete").get() == ("NASK", 1)


def test_the_scan_page_ticking_imaging_replaces_a_stored_code(patient):
    # The scan page shows the tick boxes without the code select: a ticked option replaces the code.
    from registry.workspace.scan_forms import scan_form_class

    assessment = factories.make_assessment(patient, date(2020, 6, 1), ta_scope_missing="UNK")
    form = scan_form_class()({"ta_date": "2020-06-01", "ta_scope": ["2"], "tumor_assessment_complete": "0"},
                             instance=assessment)

    assert form.is_valid(), form.errors
    form.save()
    assert TumorAssessment.objects.values_list("ta_scope_missing", "ta_scope_2").get() == ("", True)
