"""Missing-data codes in the admin: each codable field's code beside it on the change pages, and the
database's rule (a value or a code, not both) refused as a form error (issue 12 §4)."""

from registry.models import Patient, TreatmentLine
from tests import factories

from .admin_pages import change_url, form_data_of


def _lines(response) -> list[tuple[str, ...]]:
    return [tuple(line.fields) for fieldset in response.context["adminform"] for line in fieldset]


def test_the_code_is_on_the_line_of_its_field(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    line = factories.make_line(patient)

    patient_lines = _lines(coordinator_client.get(change_url(patient)))
    line_lines = _lines(coordinator_client.get(change_url(line)))

    assert ("death_date", "death_date_missing") in patient_lines
    assert ("line_end", "line_end_missing") in line_lines
    assert ("line_start",) in line_lines  # it dates the line: no code
    assert ("sex", "sex_missing") in patient_lines  # required: a value or a code


def test_an_administrator_enters_a_code_through_the_admin(coordinator_client, site_a):
    patient = factories.make_patient(site_a, vital=2)
    data = form_data_of(coordinator_client.get(change_url(patient)))

    response = coordinator_client.post(change_url(patient), data | {"death_date": "", "death_date_missing": "UNK"})

    assert response.status_code == 302
    assert Patient.objects.values_list("death_date", "death_date_missing").get() == (None, "UNK")
    assert Patient.history.filter(id=patient.pk).first().death_date_missing == "UNK"


def test_a_value_and_a_code_together_are_refused_and_nothing_is_written(coordinator_client, site_a):
    line = factories.make_line(factories.make_patient(site_a))
    data = form_data_of(coordinator_client.get(change_url(line)))

    response = coordinator_client.post(change_url(line), data | {
        "line_end": "2021-01-01", "line_end_missing": "UNK"})

    assert response.status_code == 200
    assert "line_end holds a value and a missing-data code; it can hold only one of them." in (
        response.content.decode())
    assert TreatmentLine.objects.values_list("line_end", "line_end_missing").get() == (None, "")


def test_a_value_typed_in_an_inline_row_replaces_the_stored_code(coordinator_client, site_a):
    # The patient page's treatment-line inline shows no code column: a value typed there replaces a code.
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_ecog_missing="ND")
    data = form_data_of(coordinator_client.get(change_url(patient)))

    response = coordinator_client.post(change_url(patient), data | {"treatment_lines-0-line_ecog": "1"})

    assert response.status_code == 302
    assert TreatmentLine.objects.values_list("line_ecog", "line_ecog_missing").get() == (1, "")
