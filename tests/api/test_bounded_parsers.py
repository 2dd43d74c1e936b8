"""Bounded parsing at every REST door: JSON nested deeper than 64 levels is a 400 that says at which
byte, before any parser builds it; malformed CSV is a 400 naming the line; nothing is written."""
import base64

import pytest

from tests import factories
from tests.records.malformed_csv import MALFORMED_CSV

from .api_helpers import database_state, if_match, problems_of

TOO_DEEP = "[" * 65 + "]" * 65  # the 65th "[" opens level 65
TOO_DEEP_DETAIL = "JSON nested deeper than 64 levels (at byte 65)."


@pytest.fixture
def patients(site_a):
    factories.make_patient(site_a, "P-1", vital=1)
    factories.make_patient(site_a, "P-2", vital=1)


def send(client, method: str, path: str, body: str, content_type="application/json", **headers):
    return client.generic(method, path, body, content_type=content_type, **headers)


JSON_DOORS = {
    "patient patch": ("PATCH", "/api/v1/patients/P-1/"),
    "instrument create": ("POST", "/api/v1/patients/P-1/treatment_line/"),
    "vital status patch": ("PATCH", "/api/v1/patients/P-1/vital_status/"),
    "nested records upsert": ("POST", "/api/v1/records/"),
    "flat JSON upsert": ("POST", "/api/v1/records/flat/"),
}


@pytest.mark.parametrize("door", JSON_DOORS)
def test_json_nested_65_levels_is_a_400_naming_the_byte_at_every_json_door(coordinator_api, patients, door):
    method, path = JSON_DOORS[door]
    headers = if_match(coordinator_api, "P-1") if method == "PATCH" else {}
    before = database_state()

    response = send(coordinator_api, method, path, TOO_DEEP, **headers)

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP_DETAIL}
    assert database_state() == before


@pytest.mark.parametrize("door", JSON_DOORS)
def test_json_nested_64_levels_passes_the_depth_check_and_is_refused_for_what_it_is(
    coordinator_api, patients, door,
):
    method, path = JSON_DOORS[door]
    headers = if_match(coordinator_api, "P-1") if method == "PATCH" else {}
    before = database_state()

    response = send(coordinator_api, method, path, "[" * 64 + "]" * 64, **headers)

    assert response.status_code == 400
    assert "nested deeper" not in str(response.json())
    assert database_state() == before


def test_brackets_inside_strings_do_not_count_towards_the_depth(coordinator_api, patients):
    before = database_state()
    body = '{"vital": 1, "death_date": "' + "[\\\"{" * 100 + '"}'

    response = send(coordinator_api, "PATCH", "/api/v1/patients/P-1/vital_status/", body,
                    **if_match(coordinator_api, "P-1"))

    assert response.status_code == 400
    assert problems_of(response) == [("P-1", "vital_status", "death_date", "is not a date in YYYY-MM-DD format")]
    assert database_state() == before


def test_a_cursor_nested_too_deep_is_a_400_about_the_cursor(coordinator_api, patients):
    cursor = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")

    response = coordinator_api.get("/api/v1/patients/", {"cursor": cursor})

    assert response.status_code == 400
    assert problems_of(response) == [("", "", "cursor", "is not a cursor this API sent (take `next` as it is)")]


@pytest.mark.parametrize("kind", MALFORMED_CSV)
def test_the_flat_csv_upsert_refuses_a_malformed_csv_naming_the_line_and_writes_nothing(
    coordinator_api, patients, kind,
):
    text, _, reason = MALFORMED_CSV[kind]
    before = database_state()

    response = send(coordinator_api, "POST", "/api/v1/records/flat/", text, content_type="text/csv")

    assert response.status_code == 400
    assert problems_of(response) == [("", "", "", reason)]
    assert database_state() == before
