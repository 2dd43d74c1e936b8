"""SAS transport (xpt) through the REST dataset download, live and from a data cut (the service and the
command line: tests/exports/test_xpt.py; the admin's export jobs: tests/admin/test_export_jobs_xpt.py).
Offered for the ADaM datasets only; another dataset is refused with a clear error and nothing
is written (no file, no identified-export log entry)."""
import pytest

from registry.models import IdentifiedExport
from registry.services.data_cuts import data_cut_freeze
from tests import factories
from tests.api.conftest import token_client
from tests.data_cut_world import build_cut_world
from tests.exports.exported import read_xpt_bytes
from tests.exports.populated import make_derived_patient


@pytest.fixture
def patient(site_a):
    return make_derived_patient(site_a, "A-1")


def test_the_dataset_list_offers_xpt_for_the_adam_datasets_only(investigator_api, db):
    response = investigator_api.get("/api/v1/datasets/")

    formats = {dataset["name"]: dataset["formats"] for dataset in response.json()["results"]}
    assert "xpt" in formats["endpoints"]
    assert "xpt" not in formats["lines"] and "xpt" not in formats["enrollment"]
    assert formats["lines"] == ["csv", "xlsx", "sav", "dta", "parquet"]


def test_endpoints_download_as_xpt(administrator_api, patient):
    response = administrator_api.get("/api/v1/datasets/endpoints/", {"format": "xpt", "identified": "true"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-sas-xport"
    data, meta = read_xpt_bytes(b"".join(response.streaming_content))
    assert meta.table_name == "ADTTE" and "PARAMCD" in meta.column_names
    assert list(data["PARAMCD"][:2]) == ["PFS", "OS"]


def test_xpt_of_another_dataset_is_a_400_naming_the_format_and_logs_nothing(administrator_api, patient):
    response = administrator_api.get("/api/v1/datasets/lines/", {"format": "xpt", "identified": "true"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == ("format", "xpt")
    assert error["reason"].startswith("xpt (SAS transport, ADaM) is offered for endpoints")
    assert IdentifiedExport.objects.count() == 0


def test_a_data_cut_gives_endpoints_as_xpt_and_refuses_lines(site_a, site_b):
    build_cut_world(site_a, site_b)
    data_cut_freeze(name="2024-analysis")
    client = token_client(factories.make_user("admin", superuser=True))

    endpoints = client.get("/api/v1/datasets/endpoints/", {"cut": "2024-analysis", "format": "xpt",
                                                           "identified": "true"})
    lines = client.get("/api/v1/datasets/lines/", {"cut": "2024-analysis", "format": "xpt", "identified": "true"})

    assert endpoints.status_code == 200
    assert read_xpt_bytes(b"".join(endpoints.streaming_content))[1].table_name == "ADTTE"
    assert lines.status_code == 400
    assert lines.json()["errors"][0]["field"] == "format"
