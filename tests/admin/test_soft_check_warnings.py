"""The admin's change forms and its REDCap import page accept a value a soft check asks about, save it
and say so in a warning message; a value of the wrong type is still a form error, nothing saved."""
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from registry.models import NgsVariant, Patient, TumorAssessment
from tests import factories

from .admin_pages import change_url, form_data_of
from .test_redcap_import_page import CONFIRM_URL, upload

FUTURE = (timezone.localdate() + timedelta(days=30)).isoformat()


@pytest.fixture(autouse=True)
def staging_dir(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"


def warnings_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request) if message.level_tag == "warning"]


def test_an_assessment_dated_in_the_future_is_saved_with_a_warning(coordinator_client, site_a):
    assessment = factories.make_assessment(factories.make_patient(site_a, "AW-1"))
    data = form_data_of(coordinator_client.get(change_url(assessment)))
    data["ta_date"] = FUTURE

    response = coordinator_client.post(change_url(assessment), data)

    assert response.status_code == 302
    (warning,) = warnings_of(response)
    assert warning.startswith("Saved, with 1 value to check: AW-1 tumor_assessment #1: Date of this imaging time point")
    assert f"{FUTURE} is in the future" in warning
    assert str(TumorAssessment.objects.get(pk=assessment.pk).ta_date) == FUTURE


def test_a_variant_allele_frequency_above_100_is_saved_with_a_warning(coordinator_client, site_a):
    variant = factories.make_variant(factories.make_biopsy(factories.make_patient(site_a, "AW-2")))
    data = form_data_of(coordinator_client.get(change_url(variant)))
    data["var_vaf"] = "120"

    response = coordinator_client.post(change_url(variant), data)

    assert response.status_code == 302
    assert "Variant allele frequency (%): 120 is above the expected maximum of 100." in warnings_of(response)[0]
    assert NgsVariant.objects.get(pk=variant.pk).var_vaf == 120


def test_a_value_of_the_wrong_type_is_a_form_error_and_nothing_is_saved(coordinator_client, site_a):
    variant = factories.make_variant(factories.make_biopsy(factories.make_patient(site_a, "AW-3")), var_vaf=5)
    data = form_data_of(coordinator_client.get(change_url(variant)))
    data["var_vaf"] = "1234567"  # more digits than the column holds

    response = coordinator_client.post(change_url(variant), data)

    assert response.status_code == 200 and response.context["adminform"].form.errors["var_vaf"]
    assert warnings_of(response) == []
    assert NgsVariant.objects.get(pk=variant.pk).var_vaf == 5


def test_the_redcap_import_preview_lists_the_warnings_and_confirming_imports_with_a_warning(
        coordinator_client, site_a):
    factories.make_patient(site_a, "AW-4")
    preview = upload(coordinator_client, site_a,
                     "record_id,redcap_repeat_instrument,redcap_repeat_instance,last_alive_date\n"
                     f"AW-4,,,{FUTURE}\n")

    assert [(w.record, w.field, w.check) for w in preview.context["result"].warnings] == [
        ("AW-4", "last_alive_date", "future_date")]
    assert 'id="import-warnings"' in preview.content.decode()

    response = coordinator_client.post(reverse(CONFIRM_URL), {"token": preview.context["token"]})

    assert response.status_code == 302
    assert f"AW-4 vital_status: Date last known alive: {FUTURE} is in the future" in warnings_of(response)[0]
    assert str(Patient.objects.get(record_id="AW-4").last_alive_date) == FUTURE
