"""Incremental sync for a site mirroring its records: updated_since, cursor pages, the deletion feed."""
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Patient, Role
from tests import factories

from .api_helpers import if_match
from .conftest import token_client


def record_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["record_id"] for row in response.json()["results"]]


def test_updated_since_lists_records_any_of_whose_instruments_a_door_wrote_since(coordinator_api, site_a):
    for number in range(3):
        factories.make_full_patient(site_a, f"P-{number}")
    since = timezone.now()
    coordinator_api.patch("/api/v1/patients/P-1/treatment_line/1/", {"line_ecog": 1}, format="json",
                          **if_match(coordinator_api, "P-1"))

    response = coordinator_api.get("/api/v1/records/", {"updated_since": since.isoformat()})

    assert record_ids(response) == ["P-1"]
    assert response.json()["results"][0]["treatment_line"][0]["line_ecog"] == 1


def test_cursor_pages_cover_every_record_once_in_order(coordinator_api, site_a):
    for number in range(7):
        factories.make_patient(site_a, f"P-{number}")
    seen, url = [], "/api/v1/patients/?page_size=3&ordering=-record_id"

    while url:
        page = coordinator_api.get(url)
        seen += record_ids(page)
        url = page.json()["next"]

    assert seen == [f"P-{number}" for number in reversed(range(7))]


def test_pages_ordered_by_update_time_are_stable_when_times_are_equal(coordinator_api, site_a):
    coordinator_api.post("/api/v1/records/", [{"record_id": f"P-{n}", "sex": 1, "adv_dx_date": "2020-01-01"}
                                              for n in range(5)], format="json")  # one import: one time
    seen, url = [], "/api/v1/records/?page_size=2&ordering=updated_at"

    while url:
        page = coordinator_api.get(url)
        seen += record_ids(page)
        url = page.json()["next"]

    assert sorted(seen) == [f"P-{n}" for n in range(5)] and len(seen) == 5


def test_the_deletion_feed_has_deleted_instances_and_records(coordinator_api, administrator_api, site_a):
    factories.make_full_patient(site_a, "P-1")
    factories.make_full_patient(site_a, "P-2")
    since = timezone.now()
    coordinator_api.delete("/api/v1/patients/P-1/biopsy/1/", **if_match(coordinator_api, "P-1"))
    administrator_api.delete("/api/v1/patients/P-2/", **if_match(administrator_api, "P-2"))

    response = coordinator_api.get("/api/v1/deletions/", {"since": since.isoformat()})

    assert sorted((row["record_id"], row["instrument"], row["instance"]) for row in response.json()["results"]) == [
        ("P-1", "biopsy", 1), ("P-1", "ngs_variant", 1), ("P-2", None, None),
    ]


def test_a_record_moved_to_another_site_is_gone_from_the_old_sites_mirror_without_naming_the_new_one(site_a, site_b):
    coordinator = token_client(factories.make_user(role=Role.COORDINATOR, sites=[site_a]))
    patient = factories.make_patient(site_a, "P-1")
    since = timezone.now()
    patient.site = site_b
    patient._change_reason = "moved by an administrator"
    patient.save()

    response = coordinator.get("/api/v1/deletions/", {"since": since.isoformat()})

    assert [(row["record_id"], row["instrument"]) for row in response.json()["results"]] == [("P-1", None)]
    assert b"site-b" not in response.content


def test_a_deleted_instance_created_again_with_its_number_is_not_reported(coordinator_api, site_a):
    factories.make_full_patient(site_a, "P-1")
    since = timezone.now() - timedelta(seconds=1)
    coordinator_api.delete("/api/v1/patients/P-1/local_therapy/1/", **if_match(coordinator_api, "P-1"))
    coordinator_api.post("/api/v1/records/", [{"record_id": "P-1", "local_therapy": [
        {"redcap_repeat_instance": 1, "lt_date": "2021-01-05", "lt_type": 1}]}], format="json")

    response = coordinator_api.get("/api/v1/deletions/", {"since": since.isoformat()})

    assert response.json()["results"] == []


@pytest.mark.parametrize("cohort, expected", [("1", ["P-1"]), ("2", [])])
def test_the_cohort_filter_reads_the_stored_derivation(coordinator_api, site_a, cohort, expected):
    from registry.models import PatientDerivation

    patient = factories.make_patient(site_a, "P-1")
    factories.make_patient(site_a, "P-2")
    PatientDerivation.objects.create(patient=patient, rules_version=1, settings_snapshot={}, derived_at=timezone.now(),
                                     cohort=1)

    assert record_ids(coordinator_api.get("/api/v1/patients/", {"cohort": cohort})) == expected
    assert Patient.objects.count() == 2


def _follow(client, url: str, params: dict) -> tuple[list[tuple], int]:
    """Every deletion the feed gives from `url`, following `next`; and how many pages it took."""
    rows, pages = [], 0
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        pages += 1
        body = response.json()
        rows += [(row["record_id"], row["instrument"], row["instance"]) for row in body["results"]]
        if body["next"] is None:
            return rows, pages
        response = client.get(body["next"])


def test_the_deletion_feed_comes_a_page_at_a_time_with_nothing_skipped_or_repeated(
        coordinator_api, administrator_api, site_a):
    # Three records each lose their biopsy (and with it its variant: 2 deletions a record), and two
    # whole records go: 3 × 2 + 2 = 8 deletions; pages of 3 give 3 + 3 + 2.
    for number in range(5):
        factories.make_full_patient(site_a, f"P-{number}")
    since = timezone.now()
    for number in range(3):
        coordinator_api.delete(f"/api/v1/patients/P-{number}/biopsy/1/", **if_match(coordinator_api, f"P-{number}"))
    for number in (3, 4):
        administrator_api.delete(f"/api/v1/patients/P-{number}/", **if_match(administrator_api, f"P-{number}"))
    whole, _ = _follow(coordinator_api, "/api/v1/deletions/", {"since": since.isoformat()})

    paged, pages = _follow(coordinator_api, "/api/v1/deletions/", {"since": since.isoformat(), "page_size": 3})

    assert len(whole) == 8 and len(set(whole)) == 8
    assert paged == whole
    assert pages == 3


@pytest.mark.parametrize("params, field", [
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "10001"}, "page_size"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "WyIyMDI0LTAxLTAxVDAwOjAwOjAwIiwgIlAiLCAiIiwgMF0"}, "cursor"),  # a time without its zone
])
def test_a_bad_page_size_or_cursor_of_the_deletion_feed_is_a_400(coordinator_api, params, field):
    response = coordinator_api.get("/api/v1/deletions/", {"since": "2024-01-01T00:00:00Z", **params})

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
