"""A checkbox field's missing-data code through the REST API (issue 12 §4): its options as before
(`"alk_method___1": 0` ...) and its code beside them, `"alk_method_missing": "UNK"`, the options then all 0."""
import pytest

from registry.models import Patient, TumorAssessment
from tests import factories
from tests.api.api_helpers import database_state, if_match, problems_of

OPTIONS = [f"alk_method___{code}" for code in range(1, 6)]


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def _stored() -> tuple:
    return Patient.objects.values_list("alk_method_missing", *(f"alk_method_{code}" for code in range(1, 6))).get()


def test_the_code_is_answered_after_the_options_which_are_all_0(coordinator_api, patient):
    Patient.objects.filter(pk=patient.pk).update(**{f"alk_method_{code}": False for code in range(1, 6)},
                                                 alk_method_missing="UNK")

    answer = coordinator_api.get("/api/v1/patients/P-A/").json()

    names = list(answer)
    assert names[names.index("alk_method___5") + 1] == "alk_method_missing"
    assert [answer[name] for name in OPTIONS] == [0] * 5
    assert answer["alk_method_missing"] == "UNK"
    assert "alk_method___unk" not in answer  # the flat format's column is not the API's


def test_a_patch_replaces_the_options_with_a_code_and_a_ticked_option_replaces_the_code(coordinator_api, patient):
    response = coordinator_api.patch("/api/v1/patients/P-A/", {"alk_method_missing": "NASK"}, format="json",
                                     **if_match(coordinator_api, "P-A"))
    assert response.status_code == 200, response.content
    assert _stored() == ("NASK", False, False, False, False, False)

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"alk_method___3": 1}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 200, response.content
    assert _stored() == ("", False, False, True, False, False)
    assert response.json()["alk_method_missing"] == ""


def test_a_code_with_a_ticked_option_is_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"alk_method___2": 1, "alk_method_missing": "UNK"},
                                     format="json", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [(
        "P-A", "enrollment", "alk_method_missing",
        "A ticked option (alk_method___2) is sent with the missing-data code UNK; a checkbox field holds ticked "
        "options or a code: send its options 0 with the code.",
    )]
    assert database_state() == before


def test_an_unknown_checkbox_code_is_a_400_and_nothing_is_written(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"alk_method_missing": "unk"}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert problems_of(response) == [(
        "P-A", "enrollment", "alk_method_missing",
        "must be a missing-data code of this project (NI, UNK, NASK, ASKU, NA, NAVU, ND), or blank for none",
    )]
    assert database_state() == before


def test_a_put_of_the_answer_keeps_the_code_and_a_put_without_it_clears_it(coordinator_api, patient):
    coordinator_api.patch("/api/v1/patients/P-A/", {"alk_method_missing": "ND"}, format="json",
                          **if_match(coordinator_api, "P-A"))
    answer = coordinator_api.get("/api/v1/patients/P-A/").json()

    again = coordinator_api.put("/api/v1/patients/P-A/", answer, format="json", **if_match(coordinator_api, "P-A"))
    assert again.status_code == 200, again.content
    assert _stored()[0] == "ND"

    without = {name: value for name, value in answer.items() if name != "alk_method_missing"}
    response = coordinator_api.put("/api/v1/patients/P-A/", without, format="json", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 200, response.content
    assert _stored() == ("", False, False, False, False, False)  # a PUT replaces the whole form


def test_an_assessment_is_created_with_a_code_for_its_imaging(coordinator_api, patient):
    response = coordinator_api.post("/api/v1/patients/P-A/tumor_assessment/", {
        "ta_date": "2024-05-02", "ta_scope_missing": "NAVU"}, format="json")

    assert response.status_code == 201, response.content
    assert TumorAssessment.objects.get(ta_date="2024-05-02").ta_scope_missing == "NAVU"
    assert response.json()["ta_scope_missing"] == "NAVU"


def test_the_schema_lists_the_checkbox_code_with_the_projects_codes():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="registry.api.schema_urls").get_schema(request=None, public=True)

    enrollment = schema["components"]["schemas"]["Patient"]["properties"]
    assert enrollment["alk_method_missing"]["enum"] == ["", "NI", "UNK", "NASK", "ASKU", "NA", "NAVU", "ND"]
    assert "alk_method___unk" not in enrollment


def test_the_flat_rows_endpoint_takes_a_checkbox_code_column_and_its_schema_lists_it(coordinator_api, site_a):
    from drf_spectacular.generators import SchemaGenerator

    response = coordinator_api.post("/api/v1/records/flat/", [
        {"record_id": "NEW-1", "sex": "1", "adv_dx_date": "2021-02-03", "alk_method___unk": "1"}], format="json")
    schema = SchemaGenerator(urlconf="registry.api.schema_urls").get_schema(request=None, public=True)

    assert response.status_code in (200, 201), response.content
    assert Patient.objects.get(record_id="NEW-1").alk_method_missing == "UNK"
    rows = schema["paths"]["/api/v1/records/flat/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "alk_method___unk" in rows["items"]["properties"]
