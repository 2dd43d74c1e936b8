"""Every list and batch of the API costs a fixed number of queries, whatever the number of records."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

from .test_bulk_upsert import nested_record


@pytest.fixture
def warm(coordinator_api):
    """The token was used once (its last-use time written), as in a running sync."""
    coordinator_api.get("/api/v1/patients/")
    return coordinator_api


@pytest.mark.parametrize("count", [2, 10])
def test_a_page_of_patients_takes_five_queries(warm, site_a, django_assert_num_queries, count):
    for number in range(count):
        factories.make_full_patient(site_a, f"P-{number}")

    # 1 the token with its user, 2 the user's role (and grant), 3 their sites, 4 the page (patients with
    # site and version joined, one row more than the page to know whether there is a next one), 5 the
    # identified-export log's row of the page.
    with django_assert_num_queries(5):
        response = warm.get("/api/v1/patients/", {"ordering": "-updated_at"})
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [2, 10])
def test_a_page_of_whole_records_takes_twelve_queries(warm, site_a, django_assert_num_queries, count):
    for number in range(count):
        factories.make_full_patient(site_a, f"P-{number}")

    # The five of a page of patients (its log row included), then one per repeating instrument (7) for
    # the page's patients.
    with django_assert_num_queries(5 + 7):
        response = warm.get("/api/v1/records/", {"updated_since": "2000-01-01T00:00:00Z"})
    assert len(response.json()["results"]) == count


def _bulk_queries(client, prefix: str, count: int) -> int:
    records = [nested_record(f"{prefix}-{number}") for number in range(count)]
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/records/", records, format="json")
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def test_a_bulk_upsert_of_20_records_costs_the_queries_of_5(warm, site_a):
    # The token, role, sites; the records named (locked, in id order, then their versions); the
    # import's fixed queries per chunk of each instrument; the versions after.
    assert _bulk_queries(warm, "FEW", 5) == _bulk_queries(warm, "MANY", 20)


def test_a_repeated_bulk_upsert_of_20_records_costs_the_queries_of_5(warm, site_a):
    _bulk_queries(warm, "FEW", 5)
    _bulk_queries(warm, "MANY", 20)

    assert _bulk_queries(warm, "FEW", 5) == _bulk_queries(warm, "MANY", 20)
