"""A required field takes a missing-data code through the REST API: `"line_type": null, "line_type_missing":
"UNK"` (issue 12 §4 follow-up); a required field null without a code is refused as before."""
import pytest

from registry.models import Patient, TreatmentLine
from tests import factories
from tests.api.api_helpers import database_state, if_match, problems_of


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def test_a_new_line_of_coded_type_and_drug_is_stored_and_read_back(coordinator_api, patient):
    response = coordinator_api.post("/api/v1/patients/P-A/treatment_line/", {
        "line_no": 9, "line_type": None, "line_type_missing": "UNK", "line_drug_missing": "NI",
        "line_start": "2024-01-01",
    }, format="json")

    assert response.status_code == 201, response.content
    line = TreatmentLine.objects.get(patient=patient, line_no=9)
    assert (line.line_type, line.line_type_missing, line.line_drug, line.line_drug_missing) == (None, "UNK", None, "NI")
    read = coordinator_api.get(f"/api/v1/patients/P-A/treatment_line/{line.redcap_repeat_instance}/").json()
    assert (read["line_type"], read["line_type_missing"], read["line_drug"], read["line_drug_missing"]) == (
        None, "UNK", None, "NI")


def test_a_patch_codes_the_sex_and_a_value_replaces_the_code(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-A/", {"sex": None, "sex_missing": "ASKU"}, format="json",
                                     **if_match(coordinator_api, "P-A"))
    assert response.status_code == 200, response.content
    assert Patient.objects.values_list("sex", "sex_missing").get() == (None, "ASKU")

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"sex": 2}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 200, response.content
    assert Patient.objects.values_list("sex", "sex_missing").get() == (2, "")


def test_a_required_field_null_without_a_code_is_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"sex": None}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [("P-A", "enrollment", "sex", "is required but is blank")]
    assert database_state() == before


def test_a_new_line_without_its_type_or_a_code_is_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.post("/api/v1/patients/P-A/treatment_line/", {
        "line_no": 9, "line_drug": 2, "line_start": "2024-01-01",
    }, format="json")

    assert response.status_code == 400
    assert [problem[2:] for problem in problems_of(response)] == [
        ("line_type", "is required, and the request does not give it")]  # the message it had before
    assert database_state() == before


def test_the_schema_lets_a_required_codable_field_be_null_and_says_why(coordinator_api):
    schema = coordinator_api.get("/api/schema/?format=json").json()

    line = schema["components"]["schemas"]["TreatmentLine"]
    assert line["properties"]["line_type_missing"]["enum"] == ["", "NI", "UNK", "NASK", "ASKU", "NA", "NAVU", "ND"]
    assert line["properties"]["line_type"]["nullable"] is True
    assert "line_type_missing" in line["properties"]["line_type"]["description"]
    assert "line_type" not in line.get("required", [])
    assert "line_start" in line["required"]  # it dates the line: required, no code
