"""REST `?cut=NAME` on the dataset endpoint: the cut's rows, the same bytes each time, under the
live access and de-identification rules."""
import pytest

from registry.models import Role
from registry.services.data_cuts import data_cut_freeze
from tests import factories
from tests.api.conftest import token_client
from tests.data_cut_world import SITE_A_RECORDS, build_cut_world, change_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    return build_cut_world(site_a, site_b)


def _body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_csv_and_parquet_from_a_cut_are_byte_identical_after_changes(world, site_a, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    data_cut_freeze(name="2024-analysis")
    client = token_client(factories.make_user("admin", superuser=True))
    first = {
        file_format: _body(client.get("/api/v1/datasets/endpoints/", {"cut": "2024-analysis", "format": file_format}))
        for file_format in ("csv", "parquet")
    }

    change_everything(site_a)

    for file_format, body in first.items():
        assert _body(client.get("/api/v1/datasets/endpoints/", {"cut": "2024-analysis", "format": file_format})) == body
    assert _body(client.get("/api/v1/datasets/endpoints/", {"format": "csv"})) != first["csv"]


def test_a_coordinator_gets_only_their_site_s_records_of_the_cut(world, site_a):
    data_cut_freeze(name="2024-analysis")
    coordinator = token_client(factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a]))

    body = _body(coordinator.get("/api/v1/datasets/patients/", {"cut": "2024-analysis", "identified": "true"}))

    assert [line.split(",")[0] for line in body.decode().splitlines()[1:]] == SITE_A_RECORDS


def test_an_investigator_without_the_grant_is_refused_identified_data_from_a_cut_too(world):
    data_cut_freeze(name="2024-analysis")
    investigator = token_client(factories.make_user("investigator", role=Role.INVESTIGATOR))

    response = investigator.get("/api/v1/datasets/patients/", {"cut": "2024-analysis", "identified": "true"})

    assert response.status_code == 403


def test_an_unknown_cut_is_a_404_naming_it(world, administrator):
    # As an unknown dataset: the thing the address asks for does not exist.
    for url in ("/api/v1/datasets/lines/", "/api/v1/report/"):
        response = token_client(administrator).get(url, {"cut": "2023"})

        assert response.status_code == 404
        assert response.json()["detail"] == "No data cut named '2023'."
