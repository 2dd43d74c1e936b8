"""Malformed requests: a clear 4xx in the one error shape, and nothing written — never a 500.

Each kind: malformed JSON, wrong JSON types, unknown fields, invalid codes, dates in the wrong
format, oversized bodies, text no database can store, and bad query parameters.
"""
import json

import pytest

from tests import factories

from .api_helpers import database_state, if_match, problems_of


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


def post_json(client, path, body: str, **headers):
    return client.generic("POST", path, body, content_type="application/json", **headers)


def patch_json(client, path, body: str, **headers):
    return client.generic("PATCH", path, body, content_type="application/json", **headers)


BAD_BODIES = {
    "malformed JSON": '{"sex": 1,',
    "a list instead of an object": "[1, 2]",
    "a string instead of an object": '"hello"',
    "NaN is not JSON": '{"lm_mm": NaN}',
}


@pytest.mark.parametrize("kind", BAD_BODIES)
def test_a_body_that_is_not_a_json_object_is_a_400_and_writes_nothing(coordinator_api, patient, kind):
    before = database_state()

    response = patch_json(coordinator_api, "/api/v1/patients/P-A/", BAD_BODIES[kind],
                          **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert database_state() == before


@pytest.mark.parametrize("body", ["[", '[{"record_id": "P-A"', "{}", '"records"', "[1,,2]"])
def test_a_bulk_body_that_is_not_a_json_list_is_a_400_and_writes_nothing(coordinator_api, patient, body):
    before = database_state()

    response = post_json(coordinator_api, "/api/v1/records/", body)

    assert response.status_code == 400
    assert "detail" in response.json()
    assert database_state() == before


WRONG_VALUES = [
    ("wrong type: a string code", {"smoking": "never"}, "smoking", "must be a whole-number code"),
    ("wrong type: a boolean code", {"smoking": True}, "smoking", "must be a whole-number code"),
    ("wrong type: a list", {"mrn": ["a"]}, "mrn", "must be a string, not a list"),
    ("wrong type: a number date", {"birth_date": 19600101}, "birth_date", "must be a date"),
    ("unknown field", {"favourite_colour": "blue"}, "favourite_colour", "is not a field of the enrollment instrument"),
    ("invalid code", {"smoking": 7}, "smoking", "is not a code of this field"),
    ("date in the wrong format", {"birth_date": "01/02/1960"}, "birth_date", "is not a date in YYYY-MM-DD format"),
    ("not a calendar date", {"birth_date": "1960-02-30"}, "birth_date", "is not a real calendar date"),
    ("too long", {"mrn": "x" * 51}, "mrn", "is longer than the 50 characters"),
    ("a NUL character", {"mrn": "a\u0000b"}, "mrn", "contains a NUL character"),
    ("a checkbox as null", {"alk_method___1": None}, "alk_method___1", "must be 1 (ticked) or 0"),
    ("a checkbox code out of range", {"alk_method___1": 2}, "alk_method___1", "is not a checkbox value"),
    ("a required field erased", {"sex": None}, "sex", "is required but is blank"),
    ("a cross-field rule", {"birth_date": "2021-01-01"}, "adv_dx_date", "cannot be before the date of birth"),
    ("record_id changed", {"record_id": "P-Z"}, "record_id", "cannot be changed"),
    ("site changed", {"site": "site-b"}, "site", "never moves to another site"),
]


@pytest.mark.parametrize("kind, body, field, reason", WRONG_VALUES, ids=[kind for kind, *_ in WRONG_VALUES])
def test_a_refused_value_is_a_400_naming_record_field_value_and_reason_and_writes_nothing(
    coordinator_api, patient, kind, body, field, reason,
):
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", body, format="json", **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(error["record"], error["field"]) for error in errors] == [("P-A", field)]
    assert reason in errors[0]["reason"]
    assert set(errors[0]) == {"record", "instrument", "instance", "field", "value", "reason"}
    assert database_state() == before


def test_every_problem_of_an_instance_is_answered_at_once(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.post("/api/v1/patients/P-A/treatment_line/", {
        "line_no": "two", "line_type": 9, "line_drug": 2, "line_start": "2021-13-01", "line_colour": "red",
    }, format="json")

    assert response.status_code == 400
    assert sorted(field for _, _, field, _ in problems_of(response)) == [
        "line_colour", "line_no", "line_start", "line_type",
    ]
    assert database_state() == before


def test_a_lesion_measurement_naming_no_assessment_of_the_patient_is_refused(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.post("/api/v1/patients/P-A/lesion_measurement/", {
        "lm_date": "1999-01-01", "lm_lesion": "L1-T1", "lm_status": 1, "lm_mm": 12.5,
    }, format="json")

    assert response.status_code == 400
    assert problems_of(response) == [
        ("P-A", "lesion_measurement", "lm_date", "no tumor assessment of this patient is dated 1999-01-01"),
    ]
    assert database_state() == before


def test_a_bulk_upsert_reports_every_problem_of_every_record_and_writes_nothing(coordinator_api, patient):
    before = database_state()
    records = [
        {"record_id": "NEW-1", "sex": 3, "adv_dx_date": "2021-02-30"},
        # line_no -1: not a positive integer (0 would be accepted with a warning: the dictionary's min of 1 is
        # a soft check).
        {"record_id": "P-A", "smoking": "yes", "treatment_line": [{"redcap_repeat_instance": 1, "line_no": -1}]},
        {"record_id": "NEW-2", "sex": 1, "adv_dx_date": "2021-01-01", "biopsy": [{"bx_date": "2021-01-02"}]},
        {"sex": 1},
    ]

    response = coordinator_api.post("/api/v1/records/", records, format="json")

    assert response.status_code == 400
    found = {(record, field) for record, _, field, _ in problems_of(response)}
    assert found == {
        ("NEW-1", "sex"), ("NEW-1", "adv_dx_date"), ("P-A", "smoking"), ("P-A", "line_no"),
        ("NEW-2", "redcap_repeat_instance"), ("", "record_id"),
    }
    assert database_state() == before


def test_a_body_over_the_limit_is_a_413_before_it_is_read(coordinator_api, patient, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = database_state()

    response = coordinator_api.patch("/api/v1/patients/P-A/", {"mrn": "x" * 2000}, format="json",
                                     **if_match(coordinator_api, "P-A"))

    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert database_state() == before


@pytest.mark.parametrize("path, content_type", [("/api/v1/records/", "application/json"),
                                                 ("/api/v1/records/flat/", "text/csv")])
def test_a_bulk_body_over_its_limit_is_a_413(coordinator_api, patient, settings, path, content_type):
    settings.REGISTRY_API_BULK_MAX_BYTES = 100
    before = database_state()
    body = json.dumps([{"record_id": "P-A", "mrn": "x" * 200}]) if content_type == "application/json" else (
        "record_id,mrn\nP-A," + "x" * 200 + "\n")

    response = coordinator_api.generic("POST", path, body, content_type=content_type)

    assert response.status_code == 413
    assert database_state() == before


def test_a_content_type_the_endpoint_does_not_read_is_a_415(coordinator_api, patient):
    response = coordinator_api.generic("POST", "/api/v1/records/", "record_id\nP-A\n", content_type="text/plain")

    assert response.status_code == 415
    assert set(response.json()) == {"detail"}


def test_flat_records_with_a_nul_character_are_refused_before_the_database_sees_them(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.generic("POST", "/api/v1/records/flat/", "record_id,mrn\nP-A,a\u0000b\n",
                                       content_type="text/csv")

    assert response.status_code == 400
    assert ("P-A", "", "mrn", "contains a NUL character, which no field can hold") in problems_of(response)
    assert database_state() == before


def test_a_lone_surrogate_in_a_string_is_refused_and_answered_in_valid_json(coordinator_api, patient):
    before = database_state()

    response = patch_json(coordinator_api, "/api/v1/patients/P-A/", '{"mrn": "a\\ud800b"}',
                          **if_match(coordinator_api, "P-A"))

    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "is not valid Unicode text (it holds a lone surrogate)"
    assert database_state() == before


BAD_PARAMETERS = [
    ("/api/v1/patients/", {"updated_since": "yesterday"}, "updated_since"),
    ("/api/v1/patients/", {"updated_since": "2024-05-01T00:00:00"}, "updated_since"),
    ("/api/v1/patients/", {"cohort": "3"}, "cohort"),
    ("/api/v1/patients/", {"ordering": "mrn"}, "ordering"),
    ("/api/v1/patients/", {"page_size": "0"}, "page_size"),
    ("/api/v1/patients/", {"cursor": "not-a-cursor"}, "cursor"),
    ("/api/v1/patients/", {"site": "a\u0000b"}, "site"),
    ("/api/v1/records/", {"updated_since": "0001-01-01T00:00:00+05:00"}, "updated_since"),
    ("/api/v1/deletions/", {}, "since"),
    ("/api/v1/datasets/lines/", {"format": "docx"}, "format"),
]


@pytest.mark.parametrize("path, parameters, name", BAD_PARAMETERS)
def test_a_malformed_query_parameter_is_a_400_naming_it(coordinator_api, patient, path, parameters, name):
    response = coordinator_api.get(path, parameters)

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [name]


@pytest.mark.parametrize("path", ["/api/v1/patients/no%20such/", "/api/v1/patients/P-A/treatment_line/99999999999/",
                                  "/api/v1/patients/P-A/treatment_line/0/", "/api/v1/nothing/",
                                  "/api/v1/patients/P-A/treatment_line/7/"])
def test_paths_that_name_nothing_are_a_json_404(coordinator_api, patient, path):
    response = coordinator_api.get(path)

    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_bulk_upsert_with_a_stale_version_is_a_412_and_writes_nothing(coordinator_api, patient):
    before = database_state()

    response = coordinator_api.post("/api/v1/records/", [{"record_id": "P-A", "version": "1.0", "smoking": 1}],
                                    format="json")

    assert response.status_code == 412
    assert problems_of(response)[0][:3] == ("P-A", "enrollment", "version")
    assert database_state() == before
