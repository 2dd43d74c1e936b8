"""Who may read and change what through the REST API: roles × patients at sites A and B × endpoints.

A token of a site A user never reads, lists, filters, syncs, exports, audits or changes site B's
patients, in any way: not by URL, not by a filter naming site B, not by `updated_since`, not through
the bulk upserts. Refused writes leave the database as it was, and their answers never name the
other site. One rule decides (registry/selectors/access.py), as in the admin (tests/admin/test_access_matrix.py).
The record resources serve identified data: roles that read de-identified data only (here the
investigator and the viewer, who lack the grant) are refused them whatever the site (403), and read the
datasets and the report.
"""
import csv
import io

import pytest

from registry.models import Patient, TreatmentLine
from registry.services.patient_versions import current_versions
from tests import factories
from tests.access_roles import (  # noqa: F401 - world is a fixture
    CHANGES, IDENTIFIED, SEES, WRITERS, matrix, roles, user_for, world,
)

from .api_helpers import database_state
from .conftest import token_client

# Once, on SQLite: the access rules are decided in Python over the same querysets on both.
pytestmark = pytest.mark.one_database("sqlite")



@pytest.fixture
def api(world, request):
    """A token client of the parametrized role."""
    return token_client(user_for(request.node.callspec.params["role"], world))


def read_status(role: str, site: str) -> int:
    if role not in IDENTIFIED:  # no role, or de-identified data only
        return 403
    return 200 if site in SEES[role] else 404


def write_status(role: str, site: str, success: int = 200) -> int:
    """A write: done by whoever changes the site; forbidden (403) to a role that changes nothing, at
    any site; for a writer of other sites the record is not there (404)."""
    if role not in WRITERS:
        return 403
    return success if site in CHANGES[role] else 404


def version_header(patient) -> dict:
    """The record's real current version: a refusal must come from the access rule, not a stale ETag."""
    return {"HTTP_IF_MATCH": f'"{current_versions([patient.id])[patient.id]}"'}


def assert_never_names_site_b(response, role: str) -> None:
    if "B" not in SEES[role]:
        assert b"site-b" not in response.content and b"Hospital B" not in response.content


# ------------------------------------------------------------------ reading one record


READ_PATHS = ["", "record/", "derived/", "vital_status/", "treatment_line/", "treatment_line/1/",
              "lesion_measurement/", "ngs_variant/1/"]


@roles
@matrix
@pytest.mark.parametrize("path", READ_PATHS)
def test_a_record_and_its_instruments_are_read_only_by_those_who_see_its_site(api, world, role, site, path):
    response = api.get(f"/api/v1/patients/P-{site}/{path}")

    assert response.status_code == read_status(role, site)
    assert_never_names_site_b(response, role)


# ------------------------------------------------------------------ lists, filters, sync


def listed(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["record_id"] for row in response.json()["results"]}


@roles
@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/v1/records/"])
@pytest.mark.parametrize("filters", [{}, {"site": "site-a"}, {"site": "site-b"},
                                     {"updated_since": "2000-01-01T00:00:00Z"}, {"ordering": "-updated_at"}])
def test_lists_and_their_filters_hold_only_visible_patients(api, world, role, path, filters):
    response = api.get(path, filters)

    if role not in IDENTIFIED:
        assert response.status_code == 403
        return
    wanted = {f"P-{site}" for site in SEES[role]}
    if "site" in filters:
        wanted &= {"P-A"} if filters["site"] == "site-a" else {"P-B"}
    assert listed(response) == wanted
    assert_never_names_site_b(response, role)


@roles
def test_the_deletion_feed_reports_only_visible_sites_deletions(api, world, role):
    for patient in world.patients.values():
        line = patient.treatment_lines.get()
        line._change_reason = "test"
        line.delete()

    response = api.get("/api/v1/deletions/", {"since": "2000-01-01T00:00:00Z"})

    if role not in IDENTIFIED:
        assert response.status_code == 403
        return
    assert {row["record_id"] for row in response.json()["results"]} == {f"P-{site}" for site in SEES[role]}


@roles
def test_a_dataset_export_holds_only_visible_patients(api, world, role, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 40
    response = api.get("/api/v1/datasets/patients/", {"format": "csv", "identified": "false"})

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == len(SEES[role])
    assert {row["site"] for row in rows} == {f"site-{site.lower()}" for site in SEES[role]}


@roles
def test_the_study_report_counts_only_visible_patients(api, world, role):
    response = api.get("/api/v1/report/")

    if role == "no role":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert response.json()["derived_with"]["patients_visible"] == len(SEES[role])


@roles
@matrix
def test_the_audit_trail_is_for_administrators_only(api, world, role, site):
    response = api.get("/api/v1/audit/", {"record": f"P-{site}"})

    if role == "administrator":
        assert response.status_code == 200
        assert {entry["record_id"] for entry in response.json()["results"]} == {f"P-{site}"}
    else:
        assert response.status_code == 403


# ------------------------------------------------------------------ changing one record


@roles
@matrix
def test_a_patient_is_changed_only_by_those_who_change_its_site(api, world, role, site):
    patient = world.patients[site]
    before = database_state()

    response = api.patch(f"/api/v1/patients/P-{site}/", {"smoking": 1}, format="json", **version_header(patient))

    assert response.status_code == write_status(role, site)
    if response.status_code == 200:
        assert Patient.objects.get(pk=patient.pk).smoking == 1
    else:
        assert database_state() == before
    assert_never_names_site_b(response, role)


@roles
@matrix
def test_an_instance_is_created_only_by_those_who_change_its_site(api, world, role, site):
    before = database_state()

    response = api.post(f"/api/v1/patients/P-{site}/treatment_line/",
                        {"line_no": 2, "line_type": 1, "line_drug": 3, "line_start": "2021-01-01"}, format="json")

    assert response.status_code == write_status(role, site, success=201)
    if response.status_code != 201:
        assert database_state() == before


@roles
@matrix
def test_an_instance_is_deleted_only_by_those_who_change_its_site(api, world, role, site):
    patient = world.patients[site]
    before = database_state()

    response = api.delete(f"/api/v1/patients/P-{site}/treatment_line/1/", **version_header(patient))

    assert response.status_code == write_status(role, site, success=204)
    assert TreatmentLine.objects.filter(patient=patient).exists() == (response.status_code != 204)
    if response.status_code != 204:
        assert database_state() == before


@roles
@matrix
def test_a_whole_record_is_deleted_by_administrators_only(api, world, role, site):
    patient = world.patients[site]

    response = api.delete(f"/api/v1/patients/P-{site}/", **version_header(patient))

    if role == "administrator":
        expected = 204
    else:  # coordinators see only their own sites' records; other roles change nothing
        expected = 404 if role in WRITERS and site not in SEES[role] else 403
    assert response.status_code == expected
    assert Patient.objects.filter(pk=patient.pk).exists() == (expected != 204)


# ------------------------------------------------------------------ bulk upserts


def bulk_status(role: str, site: str) -> int:
    if role not in WRITERS:
        return 403
    return 200 if site in CHANGES[role] else 400


@roles
@matrix
def test_a_nested_bulk_upsert_changes_only_records_of_sites_the_user_changes(api, world, role, site):
    before = database_state()

    response = api.post("/api/v1/records/", [{"record_id": f"P-{site}", "smoking": 2}], format="json")

    assert response.status_code == bulk_status(role, site)
    if response.status_code == 200:
        assert Patient.objects.get(record_id=f"P-{site}").smoking == 2
    else:
        assert database_state() == before
    assert_never_names_site_b(response, role)


@roles
@matrix
def test_a_nested_bulk_upsert_creates_records_only_at_sites_the_user_changes(api, world, role, site):
    before = database_state()

    response = api.post("/api/v1/records/", [{"record_id": "NEW-1", "site": f"site-{site.lower()}", "sex": 1,
                                              "adv_dx_date": "2021-02-03"}], format="json")

    assert response.status_code == bulk_status(role, site)
    assert Patient.objects.filter(record_id="NEW-1").exists() == (response.status_code == 200)
    if response.status_code != 200:
        assert database_state() == before
    if response.status_code == 200:
        assert Patient.objects.get(record_id="NEW-1").site == world.sites[site]


@roles
@matrix
def test_a_flat_bulk_upsert_changes_only_records_of_sites_the_user_changes(api, world, role, site):
    before = database_state()

    response = api.generic("POST", "/api/v1/records/flat/", f"record_id,smoking\nP-{site},2\n",
                           content_type="text/csv")

    assert response.status_code == bulk_status(role, site)
    if response.status_code != 200:
        assert database_state() == before
    assert_never_names_site_b(response, role)
