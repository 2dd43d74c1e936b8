"""No oracle: whatever a coordinator asks about another site's record, the answer is, byte for byte,
the answer about a record that does not exist. Each test asks about site B's record B-1, deletes
it, and asks again: the two answers must be equal (same status, same body), so that no request
tells whether the record exists, its internal id, its version or its site.

Creating a record whose ID another site's record has is refused (IDs are unique in the registry):
that tells the ID is taken, which the issue accepts, and nothing else."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from registry.models import Patient
from registry.services.records import records_delete
from tests import factories
from tests.api.api_helpers import database_state
from tests.redcap.client import RedcapClient
from tests.redcap.conftest import make_token

VERSION = "{patient_id}.1"  # what a guess of the record's first version looks like


def _answer(response) -> tuple[int, bytes]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, content


def _ask_before_and_after_deletion(site_b, ask) -> tuple[tuple, tuple]:
    """`ask(version)` about B-1 while it exists at site B, then once it no longer exists; nothing is
    written by either request."""
    patient = factories.make_full_patient(site_b, "B-1")
    version = VERSION.format(patient_id=patient.id)
    state = database_state()
    existing = _answer(ask(version))
    assert database_state() == state
    records_delete(record_ids=["B-1"], user=None)
    missing = _answer(ask(version))
    return existing, missing


REST_REQUESTS = {
    "read the patient": lambda api, v: api.get("/api/v1/patients/B-1/"),
    "read the whole record": lambda api, v: api.get("/api/v1/patients/B-1/record/"),
    "read the derived results": lambda api, v: api.get("/api/v1/patients/B-1/derived/"),
    "read the vital status": lambda api, v: api.get("/api/v1/patients/B-1/vital_status/"),
    "read a conditional patient": lambda api, v: api.get("/api/v1/patients/B-1/", HTTP_IF_NONE_MATCH=f'"{v}"'),
    "change the patient with its version": lambda api, v: api.patch(
        "/api/v1/patients/B-1/", {"mrn": "X"}, format="json", HTTP_IF_MATCH=f'"{v}"'),
    "change the patient without a version": lambda api, v: api.patch(
        "/api/v1/patients/B-1/", {"mrn": "X"}, format="json"),
    "replace the vital status with its version": lambda api, v: api.put(
        "/api/v1/patients/B-1/vital_status/", {"vital": 1}, format="json", HTTP_IF_MATCH=f'"{v}"'),
    "delete the patient with its version": lambda api, v: api.delete(
        "/api/v1/patients/B-1/", HTTP_IF_MATCH=f'"{v}"'),
    "list an instrument": lambda api, v: api.get("/api/v1/patients/B-1/treatment_line/"),
    "read an instance": lambda api, v: api.get("/api/v1/patients/B-1/treatment_line/1/"),
    "create an instance with the version": lambda api, v: api.post(
        "/api/v1/patients/B-1/treatment_line/", {"line_number": 2}, format="json", HTTP_IF_MATCH=f'"{v}"'),
    "change an instance with the version": lambda api, v: api.patch(
        "/api/v1/patients/B-1/treatment_line/1/", {"line_number": 2}, format="json", HTTP_IF_MATCH=f'"{v}"'),
    "delete an instance with the version": lambda api, v: api.delete(
        "/api/v1/patients/B-1/biopsy/1/", HTTP_IF_MATCH=f'"{v}"'),
    "dry-run a bulk upsert naming the version": lambda api, v: api.post(
        "/api/v1/records/?dry_run=true", [{"record_id": "B-1", "version": v, "mrn": "X"}], format="json"),
    "bulk upsert naming the version": lambda api, v: api.post(
        "/api/v1/records/", [{"record_id": "B-1", "version": v, "mrn": "X"}], format="json"),
}


@pytest.mark.parametrize("request_name", list(REST_REQUESTS))
def test_the_rest_api_answers_about_another_sites_record_as_about_none(request_name, coordinator_api, site_a, site_b):
    ask = REST_REQUESTS[request_name]

    existing, missing = _ask_before_and_after_deletion(site_b, lambda version: ask(coordinator_api, version))

    assert existing == missing
    assert existing[0] == (412 if "bulk upsert" in request_name else 404)


def test_a_stale_version_for_another_sites_record_is_answered_without_its_version_or_id(coordinator_api, site_a,
                                                                                         site_b):
    factories.make_patient(site_b, "B-1")
    state = database_state()

    response = coordinator_api.post("/api/v1/records/?dry_run=true", [{"record_id": "B-1", "version": "0.9"}],
                                    format="json")

    assert response.status_code == 412
    assert response.json() == {
        "detail": "Record B-1 names a version, but there is no record with this ID at a site you see.",
        "errors": [{"record": "B-1", "instrument": "enrollment", "instance": None, "field": "version", "value": "0.9",
                    "reason": "names a version, but there is no record with this ID at a site you see"}],
    }
    assert database_state() == state


def test_a_stale_version_of_a_record_the_caller_sees_still_names_its_current_version(coordinator_api, site_a):
    patient = factories.make_patient(site_a, "A-1")

    response = coordinator_api.post("/api/v1/records/?dry_run=true", [{"record_id": "A-1", "version": "0.9"}],
                                    format="json")

    assert response.status_code == 412
    assert response.json()["errors"][0]["reason"] == (
        f"was changed since version 0.9: it is at version {patient.id}.1 now; read it again, then send your change"
    )


def test_creating_another_sites_record_id_over_rest_says_it_is_taken_and_nothing_else(coordinator_api, site_a,
                                                                                      site_b):
    factories.make_patient(site_b, "B-1", mrn="SECRET")
    state = database_state()

    created = coordinator_api.post("/api/v1/patients/", {"record_id": "B-1", "sex": 1, "adv_dx_date": "2021-01-01"},
                                   format="json")
    upserted = coordinator_api.post("/api/v1/records/", [{"record_id": "B-1", "sex": 1, "adv_dx_date": "2021-01-01"}],
                                    format="json")

    assert (created.status_code, created.json()) == (409, {"detail": (
        "A record with the ID B-1 exists already (record IDs are unique in the registry, ignoring letter case); "
        "nothing was written.")})
    assert upserted.status_code == 400
    assert [error["reason"] for error in upserted.json()["errors"]] == [
        "A record with the ID B-1 exists already (record IDs are unique in the registry, ignoring letter case)"]
    assert "site-b" not in created.content.decode() + upserted.content.decode()
    assert database_state() == state


REDCAP_REQUESTS = {
    "export the record": lambda token: {"token": token, "content": "record", "format": "json", "records": "B-1"},
    "export the record as csv": lambda token: {"token": token, "content": "record", "format": "csv",
                                               "records[0]": "B-1", "fields[0]": "mrn"},
    "export the record by filter logic": lambda token: {"token": token, "content": "record", "format": "json",
                                                        "filterLogic": "[record_id] = 'B-1'"},
    "delete the record": lambda token: {"token": token, "content": "record", "action": "delete",
                                        "records[0]": "B-1", "returnFormat": "json"},
}


@pytest.mark.parametrize("request_name", list(REDCAP_REQUESTS))
def test_the_redcap_api_answers_about_another_sites_record_as_about_none(request_name, client, coordinator_a,
                                                                         site_b):
    token = make_token(coordinator_a)

    existing, missing = _ask_before_and_after_deletion(
        site_b, lambda v: client.post("/redcap/api/", data=REDCAP_REQUESTS[request_name](token)))

    assert existing == missing


def test_a_redcap_import_of_another_sites_record_id_says_it_is_taken_and_nothing_else(client, coordinator_a, site_b):
    factories.make_patient(site_b, "B-1", mrn="SECRET")
    state = database_state()

    answer = RedcapClient(client)(make_token(coordinator_a), "record", format="json", returnFormat="json",
                                  data='[{"record_id": "B-1", "mrn": "MINE"}]')

    assert answer.status == 400
    assert answer.json() == {"error": (
        '"B-1","record_id","B-1","A record with the ID B-1 exists already (record IDs are unique in the registry, '
        'ignoring letter case) (item 1)"')}
    assert database_state() == state
    assert Patient.objects.get().mrn == "SECRET"


TAKEN_B1 = "A record with the ID B-1 exists already (record IDs are unique in the registry, ignoring letter case)"


def test_the_admin_upload_refuses_another_sites_record_id_naming_nothing_of_it(client, coordinator_a, site_a, site_b,
                                                                               settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    factories.make_patient(site_b, "B-1", mrn="SECRET", vital=1)
    client.force_login(coordinator_a)
    state = database_state()

    response = client.post(reverse("admin:registry_patient_import_redcap"), {
        "file": SimpleUploadedFile("vital.csv", b"record_id,redcap_repeat_instrument,redcap_repeat_instance,vital\n"
                                                b"B-1,,,2\n", content_type="text/csv"),
        "site": site_a.id, "overwrite_behavior": "normal",
    })

    assert [(p.record, p.field, p.reason) for p in response.context["result"].problems] == [
        ("B-1", "record_id", TAKEN_B1)]
    assert "site-b" not in response.content.decode()
    assert database_state() == state


def test_the_import_command_refuses_another_sites_record_id_naming_nothing_of_it(coordinator_a, site_a, site_b,
                                                                                 tmp_path):
    factories.make_patient(site_b, "B-1", mrn="SECRET")
    path = tmp_path / "b.csv"
    path.write_text("record_id,mrn\nB-1,MINE\n")
    output, errors = io.StringIO(), io.StringIO()
    state = database_state()

    with pytest.raises(CommandError):
        call_command("import_records", str(path), "--site", "site-a", "--user", "coordinator_a", stdout=output,
                     stderr=errors)

    printed = output.getvalue() + errors.getvalue()
    assert TAKEN_B1 in printed
    assert "site-b" not in printed and "SECRET" not in printed
    assert database_state() == state
