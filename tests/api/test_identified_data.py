"""Identified data through the REST API only for those granted it (issue 10, item 3).

The record resources (patients, instruments, whole records, sync, deletions, audit, derived results)
serve identifier fields, real record IDs and real dates: investigators and viewers without the
"may export identified data" grant are refused every one of them (403, with a pointer to the
de-identified doors), and read the datasets and the study report instead. A page of a list read by
someone who may see identified data is logged as an identified export; a read of one record is not.
"""
import csv
import io
from datetime import date

import pytest
from django.utils import timezone

from registry.models import ExportDoor, IdentifiedExport, RegistryRole, Role
from tests import factories

from .api_helpers import database_state
from .conftest import token_client

REFUSAL = (
    "Your role reads de-identified data only: use /api/v1/datasets/ or the REDCap API. An administrator can "
    "grant identified data on your registry role (\"may export identified data\")."
)
SINCE = {"since": "2000-01-01T00:00:00Z"}
# Every record resource a reader may GET, with its query.
ONE_RECORD = [
    ("/api/v1/patients/P-A/", {}), ("/api/v1/patients/P-A/record/", {}), ("/api/v1/patients/P-A/derived/", {}),
    ("/api/v1/patients/P-A/vital_status/", {}), ("/api/v1/patients/P-A/treatment_line/", {}),
    ("/api/v1/patients/P-A/treatment_line/1/", {}), ("/api/v1/patients/P-A/ngs_variant/1/", {}),
]
LISTS = [("/api/v1/patients/", {}), ("/api/v1/records/", {})]
DELETIONS = [("/api/v1/deletions/", SINCE)]
RECORD_RESOURCES = ONE_RECORD + LISTS + DELETIONS
MRN = "MRN-4471-SECRET"


@pytest.fixture
def patients(site_a, site_b):
    patient = factories.make_full_patient(site_a, "P-A")
    patient.mrn, patient.birth_date = MRN, date(1957, 4, 9)
    patient.save()
    factories.make_full_patient(site_b, "P-B")


def _reader(role: str, site_a, *, granted: bool):
    user = (factories.make_user("investigator", role=Role.INVESTIGATOR) if role == "investigator"
            else factories.make_user("viewer_a", role=Role.VIEWER, sites=[site_a]))
    RegistryRole.objects.filter(user=user).update(may_export_identified=granted)
    return token_client(user)


@pytest.mark.parametrize("role", ["investigator", "viewer of A"])
def test_a_reader_without_the_grant_is_refused_every_record_resource_and_pointed_to_the_deidentified_doors(
    patients, site_a, role,
):
    api = _reader(role, site_a, granted=False)
    before = database_state()

    answers = {path: api.get(path, query) for path, query in RECORD_RESOURCES}

    assert {path: response.status_code for path, response in answers.items()} == {
        path: 403 for path, _ in RECORD_RESOURCES}
    assert {response.json()["detail"] for response in answers.values()} == {REFUSAL}
    assert not any(MRN.encode() in response.content for response in answers.values())
    assert database_state() == before
    assert IdentifiedExport.objects.count() == 0


@pytest.mark.parametrize("role", ["investigator", "viewer of A"])
def test_a_reader_without_the_grant_is_refused_the_audit_trail_and_every_write(patients, site_a, role):
    api = _reader(role, site_a, granted=False)
    before = database_state()

    audit = api.get("/api/v1/audit/", {"record": "P-A"})
    patch = api.patch("/api/v1/patients/P-A/", {"smoking": 1}, format="json", HTTP_IF_MATCH="*")
    bulk = api.post("/api/v1/records/", [{"record_id": "P-A", "smoking": 2}], format="json")

    assert (audit.status_code, audit.json()["detail"]) == (403, "Only administrators may do this.")
    expected_write = "Your role (%s) reads records and changes none." % (
        "investigator" if role == "investigator" else "viewer")
    assert (patch.status_code, patch.json()["detail"]) == (403, expected_write)
    assert (bulk.status_code, bulk.json()["detail"]) == (403, expected_write)
    assert database_state() == before


@pytest.mark.parametrize("role", ["investigator", "viewer of A"])
def test_a_reader_with_the_grant_reads_every_record_resource_of_the_sites_they_see(patients, site_a, role):
    api = _reader(role, site_a, granted=True)

    answers = {path: api.get(path, query) for path, query in RECORD_RESOURCES}

    assert {path: response.status_code for path, response in answers.items()} == {
        path: 200 for path, _ in RECORD_RESOURCES}
    assert answers["/api/v1/patients/P-A/"].json()["mrn"] == MRN
    assert answers["/api/v1/patients/P-A/"].json()["birth_date"] == "1957-04-09"
    listed = {row["record_id"] for row in answers["/api/v1/patients/"].json()["results"]}
    assert listed == ({"P-A", "P-B"} if role == "investigator" else {"P-A"})


def test_datasets_and_the_report_still_answer_a_reader_without_the_grant_deidentified(patients, site_a, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 40
    api = _reader("investigator", site_a, granted=False)

    dataset = api.get("/api/v1/datasets/patients/", {"format": "csv"})
    report = api.get("/api/v1/report/")
    identified = api.get("/api/v1/datasets/patients/", {"format": "csv", "identified": "true"})

    assert dataset.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(dataset.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert "mrn" not in rows[0] and "birth_date" not in rows[0]
    assert not {"P-A", "P-B"} & {row["record_id"] for row in rows}
    assert report.status_code == 200 and report.json()["derived_with"]["patients_visible"] == 2
    assert identified.status_code == 403
    assert identified.json()["detail"] == (
        "investigator (investigator) may export de-identified data only; an administrator can grant identified "
        "exports on the user's registry role (\"may export identified data\").")
    assert IdentifiedExport.objects.count() == 0


def test_each_page_of_a_list_read_is_logged_as_an_identified_export_and_one_record_reads_are_not(
    patients, site_a, coordinator_a,
):
    api = token_client(coordinator_a)
    started = timezone.now()

    for path, query in ONE_RECORD:
        assert api.get(path, query).status_code == 200
    assert IdentifiedExport.objects.count() == 0
    patients_page = api.get("/api/v1/patients/", {"site": "site-a"})
    records_page = api.get("/api/v1/records/")
    empty_page = api.get("/api/v1/patients/", {"updated_since": "2999-01-01T00:00:00Z"})

    assert [response.status_code for response in (patients_page, records_page, empty_page)] == [200, 200, 200]
    via = f"api: token {api.token.prefix}"
    logged = list(IdentifiedExport.objects.order_by("id").values(
        "user", "username", "door", "content", "file_format", "site_codes", "record_count", "parameters"))
    assert logged == [
        {"user": coordinator_a.pk, "username": "coordinator_a", "door": ExportDoor.API_RECORD_LIST,
         "content": "patients", "file_format": "json", "site_codes": "site-a", "record_count": 1,
         "parameters": {"query": "site=site-a", "via": via}},
        {"user": coordinator_a.pk, "username": "coordinator_a", "door": ExportDoor.API_RECORD_LIST,
         "content": "records", "file_format": "json", "site_codes": "site-a", "record_count": 1,
         "parameters": {"query": "", "via": via}},
    ]
    assert all(started <= entry.exported_at <= timezone.now() for entry in IdentifiedExport.objects.all())
    assert all(entry.exported_at.utcoffset().total_seconds() == 0 for entry in IdentifiedExport.objects.all())


def test_an_identified_dataset_read_through_the_api_is_logged(patients, administrator):
    api = token_client(administrator)

    response = api.get("/api/v1/datasets/patients/", {"format": "csv", "identified": "true"})

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row["record_id"] for row in rows} == {"P-A", "P-B"}
    entry = IdentifiedExport.objects.get()
    assert (entry.user, entry.door, entry.content, entry.file_format, entry.site_codes, entry.record_count) == (
        administrator, ExportDoor.API_DATASET, "patients", "csv", "site-a, site-b", 2)
    assert entry.parameters == {"site": None, "rows": 2, "file": "patients.csv"}
