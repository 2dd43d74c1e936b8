"""Every REST and REDCap API answer says `Cache-Control: no-store`: they carry patient data, which no
browser or proxy cache may keep. Errors and 304s too; ETags still work for a client's own copy."""
import pytest
from django.test import Client

from tests import factories
from tests.redcap.client import RedcapClient
from tests.redcap.conftest import make_token

from .conftest import token_client


@pytest.fixture
def api(administrator, site_a):
    factories.make_full_patient(site_a, "P-1")
    return token_client(administrator)


REST_READS = [
    "/api/v1/patients/",
    "/api/v1/patients/P-1/",
    "/api/v1/patients/P-1/record/",
    "/api/v1/patients/P-1/derived/",
    "/api/v1/patients/P-1/vital_status/",
    "/api/v1/patients/P-1/treatment_line/",
    "/api/v1/patients/P-1/treatment_line/1/",
    "/api/v1/records/",
    "/api/v1/deletions/?since=2020-01-01T00:00:00Z",
    "/api/v1/audit/?record=P-1",
    "/api/v1/datasets/",
    "/api/v1/datasets/lines/?identified=true",
    "/api/v1/report/",
    "/api/schema/",
]


@pytest.mark.parametrize("url", REST_READS)
def test_a_rest_api_read_is_not_stored(api, url):
    response = api.get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/patients/NOBODY/", 404),
    ("/api/v1/no-such-thing/", 404),
    ("/api/v1/patients/?updated_since=yesterday", 400),
])
def test_a_rest_api_error_is_not_stored(api, url, status):
    response = api.get(url)

    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


def test_an_unauthenticated_rest_api_answer_is_not_stored(db):
    response = Client().get("/api/v1/patients/")

    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_a_rest_api_write_answer_is_not_stored(api):
    etag = api.get("/api/v1/patients/P-1/")["ETag"]

    response = api.patch("/api/v1/patients/P-1/treatment_line/1/", {"line_ecog": 2}, format="json",
                         HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_304_keeps_its_etag_and_is_not_stored(api):
    etag = api.get("/api/v1/patients/P-1/record/")["ETag"]

    response = api.get("/api/v1/patients/P-1/record/", HTTP_IF_NONE_MATCH=etag)

    assert (response.status_code, response["ETag"], response["Cache-Control"]) == (304, etag, "no-store")


def test_a_redcap_api_export_and_a_redcap_api_error_are_not_stored(client, administrator, site_a):
    factories.make_patient(site_a, "P-1")
    redcap = RedcapClient(client)

    export = redcap(make_token(administrator), "record", format="json")
    refused = redcap("0" * 32, "record", format="json")

    assert (export.status, export.response["Cache-Control"]) == (200, "no-store")
    assert (refused.status, refused.response["Cache-Control"]) == (401, "no-store")

