"""A checkbox field's missing-data code in the admin (issue 12 §4): its select at the end of the line of
its options; a ticked option and a code together are refused and nothing is written."""
from django.urls import reverse

from registry.models import Patient, TumorAssessment
from tests import factories

from .admin_pages import change_url, form_data_of

OPTIONS = tuple(f"alk_method_{code}" for code in range(1, 6))


def _lines(response) -> list[tuple[str, ...]]:
    return [tuple(line.fields) for fieldset in response.context["adminform"] for line in fieldset]


def test_the_code_ends_the_line_of_the_options(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)

    assert (*OPTIONS, "alk_method_missing") in _lines(coordinator_client.get(change_url(patient)))
    assert (*(f"ta_scope_{code}" for code in range(1, 6)), "ta_scope_missing") in _lines(
        coordinator_client.get(change_url(assessment)))


def test_a_coordinator_enters_a_checkbox_code_through_the_admin(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    data = form_data_of(coordinator_client.get(change_url(patient)))

    response = coordinator_client.post(change_url(patient), data | {"alk_method_missing": "NASK"})

    assert response.status_code == 302
    assert Patient.objects.values_list("alk_method_missing", *OPTIONS).get() == ("NASK", *[False] * 5)
    assert Patient.history.filter(id=patient.pk).first().alk_method_missing == "NASK"
    # The audit trail names the change on the enrollment form.
    trail = coordinator_client.get(reverse("admin:registry_patient_audit_trail", args=[patient.pk]))
    newest = trail.context["page_obj"].object_list[0]
    assert newest.instrument == "enrollment"
    assert "alk_method_missing" in [change.field for change in newest.changes]


def test_a_ticked_option_and_a_code_together_are_refused_and_nothing_is_written(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    assessment = factories.make_assessment(patient)
    data = form_data_of(coordinator_client.get(change_url(assessment)))
    history = TumorAssessment.history.count()

    response = coordinator_client.post(change_url(assessment), data | {"ta_scope_2": "on", "ta_scope_missing": "UNK"})

    assert response.status_code == 200
    assert ("ta_scope has a ticked option and a missing-data code; a checkbox field holds ticked options or a code, "
            "never both.") in response.content.decode()
    assert TumorAssessment.objects.values_list("ta_scope_2", "ta_scope_missing").get() == (False, "")
    assert TumorAssessment.history.count() == history
