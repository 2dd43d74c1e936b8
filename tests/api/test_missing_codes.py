"""Missing-data codes through the REST API: `"line_end": null, "line_end_missing": "UNK"` (issue 12 §4)."""
import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.api.api_helpers import database_state, if_match, problems_of


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def test_an_instance_is_answered_with_each_code_beside_its_field(coordinator_api, patient):
    TreatmentLine.objects.filter(patient=patient, line_no=1).update(line_end=None, line_end_reason=None,
                                                                   line_end_missing="UNK")

    line = coordinator_api.get("/api/v1/patients/P-A/treatment_line/1/").json()

    assert (line["line_end"], line["line_end_missing"]) == (None, "UNK")
    assert (line["line_ecog_missing"], line["line_drug_other_missing"]) == ("", "")
    assert "line_start_missing" not in line and "line_no_missing" not in line  # they date and identify the line


def test_a_code_is_written_with_a_null_value(coordinator_api, patient):
    response = coordinator_api.post("/api/v1/patients/P-A/treatment_line/", {
        "line_no": 9, "line_type": 1, "line_drug": 2, "line_start": "2024-01-01",
        "line_end": None, "line_end_missing": "UNK", "line_end_reason": 1, "line_ecog_missing": "ND",
    }, format="json")

    assert response.status_code == 201, response.content
    line = TreatmentLine.objects.get(patient=patient, line_no=9)
    assert (line.line_end, line.line_end_missing, line.line_end_reason) == (None, "UNK", 1)
    assert (line.line_ecog, line.line_ecog_missing) == (None, "ND")
    assert (response.json()["line_end"], response.json()["line_end_missing"]) == (None, "UNK")


def test_a_patch_replaces_a_value_with_a_code_and_a_code_with_a_value(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-A/", {"birth_date_missing": "ASKU"}, format="json",
                                     **if_match(coordinator_api, "P-A"))
    assert response.status_code == 200, response.content
    assert Patient.objects.values_list("birth_date", "birth_date_missing").get() == (None, "ASKU")

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"birth_date": "1960-01-01"}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 200, response.content
    assert Patient.objects.values_list("birth_date_missing", flat=True).get() == ""
    assert response.json()["birth_date_missing"] == ""


def test_a_value_and_a_code_together_are_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"birth_date": "1960-01-01", "birth_date_missing": "UNK"},
                                     format="json", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [(
        "P-A", "enrollment", "birth_date_missing",
        "A value of birth_date (1960-01-01) is sent with the missing-data code UNK; a field holds one or the other: "
        "send birth_date null with the code.",
    )]
    assert database_state() == before


def test_an_unknown_code_is_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"birth_date_missing": "LOST"}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [(
        "P-A", "enrollment", "birth_date_missing",
        "must be a missing-data code of this project (NI, UNK, NASK, ASKU, NA, NAVU, ND), or blank for none",
    )]
    assert database_state() == before


def test_a_code_for_a_field_that_dates_a_record_is_not_a_field_of_the_instrument(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/treatment_line/1/", {"line_start_missing": "UNK"},
                                     format="json", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [
        ("P-A", "treatment_line", "line_start_missing", "is not a field of the treatment_line instrument"),
    ]
    assert database_state() == before


def test_the_schema_shows_the_code_fields(coordinator_api):
    schema = coordinator_api.get("/api/schema/?format=json").json()

    line = schema["components"]["schemas"]["TreatmentLine"]["properties"]
    assert line["line_end_missing"]["enum"] == ["", "NI", "UNK", "NASK", "ASKU", "NA", "NAVU", "ND"]
    assert "line_start_missing" not in line


def test_a_patch_sending_the_field_null_removes_its_code(coordinator_api, patient):
    Patient.objects.filter(pk=patient.pk).update(birth_date=None, birth_date_missing="NASK")

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"birth_date": None}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 200, response.content
    assert Patient.objects.values_list("birth_date", "birth_date_missing").get() == (None, "")
