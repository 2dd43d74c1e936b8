"""A required field takes a missing-data code in the admin (issue 12 §4 follow-up); left blank without a
code it is refused with the form's own message, and nothing is written."""
from registry.models import Patient, TreatmentLine
from tests import factories

from .admin_pages import change_url, form_data_of


def test_a_coordinator_codes_the_sex_through_the_admin(coordinator_client, site_a):
    patient = factories.make_patient(site_a)
    data = form_data_of(coordinator_client.get(change_url(patient)))

    response = coordinator_client.post(change_url(patient), data | {"sex": "", "sex_missing": "NASK"})

    assert response.status_code == 302
    assert Patient.objects.values_list("sex", "sex_missing").get() == (None, "NASK")
    assert Patient.history.filter(id=patient.pk).first().sex_missing == "NASK"


def test_a_required_field_blank_without_a_code_is_refused_and_nothing_is_written(coordinator_client, site_a):
    line = factories.make_line(factories.make_patient(site_a))
    before = TreatmentLine.objects.values_list("line_drug", "line_drug_missing").get()
    data = form_data_of(coordinator_client.get(change_url(line)))

    response = coordinator_client.post(change_url(line), data | {"line_drug": "", "line_drug_missing": ""})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["line_drug"] == ["This field is required."]
    assert TreatmentLine.objects.values_list("line_drug", "line_drug_missing").get() == before


def test_an_inline_row_without_a_code_column_keeps_a_stored_code_of_a_required_field(coordinator_client, site_a):
    # The patient page's treatment-line inline shows line_type but not its code: saved unchanged, the row's
    # blank line_type keeps the stored code (it is not "blank without a code").
    patient = factories.make_patient(site_a)
    factories.make_line(patient, line_type=None, line_type_missing="UNK")
    data = form_data_of(coordinator_client.get(change_url(patient)))

    response = coordinator_client.post(change_url(patient), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert TreatmentLine.objects.values_list("line_type", "line_type_missing").get() == (None, "UNK")


def test_the_change_lists_show_rows_whose_required_fields_are_coded(coordinator_client, site_a):
    patient = factories.make_patient(site_a, sex=None, sex_missing="UNK")
    factories.make_line(patient, line_type=None, line_type_missing="NI")

    patients = coordinator_client.get("/admin/registry/patient/")
    lines = coordinator_client.get("/admin/registry/treatmentline/")

    assert (patients.status_code, lines.status_code) == (200, 200)
    assert len(patients.context["cl"].result_list) == 1 and len(lines.context["cl"].result_list) == 1
