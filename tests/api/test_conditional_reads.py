"""Conditional reads (RFC 9110 §13.1.2): a site mirroring its records sends the ETag it holds in
If-None-Match and gets 304 Not Modified, with no body, while the record is unchanged; a change
through any door makes the held ETag stale, and the next read answers 200 with the new copy."""
import pytest

from tests import factories
from tests.admin.admin_pages import change_url, form_data_of

from .api_helpers import if_match

READS = [
    "/api/v1/patients/P-A/",
    "/api/v1/patients/P-A/record/",
    "/api/v1/patients/P-A/vital_status/",
    "/api/v1/patients/P-A/treatment_line/",
    "/api/v1/patients/P-A/treatment_line/1/",
    "/api/v1/patients/P-A/lesion_measurement/",
]


@pytest.fixture
def patient(site_a):
    return factories.make_full_patient(site_a, "P-A")


@pytest.mark.parametrize("url", READS)
def test_the_held_etag_of_an_unchanged_record_answers_304_without_a_body(coordinator_api, patient, url):
    held = coordinator_api.get(url)["ETag"]

    again = coordinator_api.get(url, HTTP_IF_NONE_MATCH=held)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == held


@pytest.mark.parametrize("url", READS)
def test_after_a_change_the_held_etag_answers_200_with_the_new_version(coordinator_api, patient, url):
    held = coordinator_api.get(url)["ETag"]
    changed = coordinator_api.patch("/api/v1/patients/P-A/", {"smoking": 1}, format="json",
                                    **if_match(coordinator_api, "P-A"))
    assert changed.status_code == 200

    again = coordinator_api.get(url, HTTP_IF_NONE_MATCH=held)

    assert again.status_code == 200
    assert again["ETag"] == changed["ETag"] != held
    assert again.json()


def test_a_change_in_the_admin_also_makes_the_held_etag_stale(coordinator_api, patient, client, administrator):
    held = coordinator_api.get("/api/v1/patients/P-A/")["ETag"]
    client.force_login(administrator)
    data = form_data_of(client.get(change_url(patient)))
    data["mrn"] = "from the admin"
    assert client.post(change_url(patient), data).status_code == 302

    again = coordinator_api.get("/api/v1/patients/P-A/", HTTP_IF_NONE_MATCH=held)

    assert again.status_code == 200
    assert again.json()["mrn"] == "from the admin"


@pytest.mark.parametrize("header, expected", [
    ("*", 304),                      # any current representation
    ('"0.0", {held}', 304),          # a list: one of them is current
    ("W/{held}", 304),               # If-None-Match compares weakly
    ('"0.0"', 200),                  # a version this record never had
    ("{held_unquoted}", 200),        # an ETag is a quoted string: unquoted text matches nothing
])
def test_if_none_match_lists_star_and_weak_tags(coordinator_api, patient, header, expected):
    held = coordinator_api.get("/api/v1/patients/P-A/")["ETag"]

    response = coordinator_api.get("/api/v1/patients/P-A/",
                                   HTTP_IF_NONE_MATCH=header.format(held=held, held_unquoted=held.strip('"')))

    assert response.status_code == expected


def test_a_304_never_reveals_a_record_of_another_site(coordinator_api, site_b):
    factories.make_full_patient(site_b, "P-B")

    response = coordinator_api.get("/api/v1/patients/P-B/", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404


def test_a_deleted_instance_is_a_404_even_with_a_held_etag(administrator_api, patient):
    url = "/api/v1/patients/P-A/biopsy/1/"
    held = administrator_api.get(url)["ETag"]
    deleted = administrator_api.delete(url, HTTP_IF_MATCH=held)
    assert deleted.status_code == 204

    response = administrator_api.get(url, HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404
