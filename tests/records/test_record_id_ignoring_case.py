"""Record IDs are unique in the registry ignoring letter case: WU-001 and wu-001 are one patient.
The database keeps it (a unique index on the lower-cased ID) and every door that creates records
refuses the second one with the same message, writing nothing."""
import importlib
import io

import pytest
from django.apps import apps as installed_apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from registry.models import Patient
from registry.records.flat_import import FlatImport
from registry.selectors.record_names import next_record_name
from registry.services.records import CREATED_MEANWHILE, records_import
from tests import factories
from tests.admin.admin_pages import changelist_url
from tests.api.api_helpers import database_state
from tests.api.conftest import token_client
from tests.records.flat_files import record_row, write_csv
from tests.redcap.client import RedcapClient
from tests.redcap.conftest import make_token

TAKEN = "A record with the ID wu-001 exists already (record IDs are unique in the registry, ignoring letter case)"
NEW = {"sex": "1", "adv_dx_date": "2021-01-01"}


@pytest.fixture
def stored(site_a):
    return factories.make_patient(site_a, "WU-001", mrn="FIRST")


def test_the_database_refuses_a_second_record_id_differing_only_in_letter_case(stored, site_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.make_patient(site_b, "wu-001")

    assert list(Patient.objects.values_list("record_id", flat=True)) == ["WU-001"]


def test_the_flat_import_refuses_a_new_record_whose_id_a_stored_one_has_in_other_case(stored, site_a, coordinator_a,
                                                                                     tmp_path):
    state = database_state()
    path = write_csv(tmp_path, "case.csv", [record_row("wu-001", **NEW)])

    result = records_import(source=path, file_format="csv", site=site_a, user=coordinator_a)

    assert [(p.line, p.record, p.field, p.reason) for p in result.problems] == [(2, "wu-001", "record_id", TAKEN)]
    assert database_state() == state


def test_the_flat_import_refuses_the_second_of_two_new_records_differing_only_in_case(site_a, tmp_path):
    state = database_state()
    path = write_csv(tmp_path, "case.csv", [record_row("WU-001", **NEW), record_row("wu-001", **NEW)])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert [(p.line, p.record, p.field, p.reason) for p in result.problems] == [(3, "wu-001", "record_id", TAKEN)]
    assert database_state() == state


def test_the_import_command_reports_the_id_taken_in_other_case(stored, site_a, tmp_path):
    state = database_state()
    path = write_csv(tmp_path, "case.csv", [record_row("wu-001", **NEW)])
    output, errors = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_records", str(path), "--site", "site-a", stdout=output, stderr=errors)

    assert TAKEN in output.getvalue() + errors.getvalue()
    assert database_state() == state


def test_the_rest_api_refuses_creating_a_record_whose_id_exists_in_other_case(stored, coordinator_a):
    api = token_client(coordinator_a)
    state = database_state()

    created = api.post("/api/v1/patients/", {"record_id": "wu-001", "sex": 1, "adv_dx_date": "2021-01-01"},
                       format="json")
    upserted = api.post("/api/v1/records/", [{"record_id": "wu-001", "sex": 1, "adv_dx_date": "2021-01-01"}],
                        format="json")
    flat = api.post("/api/v1/records/flat/", [{"record_id": "wu-001", **NEW}], format="json")

    assert (created.status_code, created.json()) == (409, {"detail": f"{TAKEN}; nothing was written."})
    assert upserted.status_code == flat.status_code == 400
    assert [error["reason"] for error in upserted.json()["errors"]] == [TAKEN]
    assert [error["reason"] for error in flat.json()["errors"]] == [TAKEN]
    assert database_state() == state


def test_the_redcap_api_refuses_importing_a_record_whose_id_exists_in_other_case(stored, client, coordinator_a):
    state = database_state()

    answer = RedcapClient(client)(make_token(coordinator_a), "record", format="csv", returnFormat="json",
                                  data="record_id,sex,adv_dx_date\nwu-001,1,2021-01-01\n")

    assert (answer.status, answer.json()) == (400, {"error": f'"wu-001","record_id","wu-001","{TAKEN} (row 2)"'})
    assert database_state() == state


def test_the_admin_add_form_refuses_a_record_id_that_exists_in_other_case(stored, client, coordinator_a, site_a):
    client.force_login(coordinator_a)
    state = database_state()

    response = client.post(changelist_url(Patient) + "add/", {
        "site": str(site_a.pk), "record_id": "wu-001", "sex": "1", "adv_dx_date": "2021-01-01",
        **{f"{prefix}-{key}": value for prefix in ("treatment_lines", "local_therapies", "assessments", "lesions",
                                                   "biopsies")
           for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))},
    })

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "A record with this ID exists already (record IDs are unique in the registry, ignoring letter case)."]
    assert database_state() == state


def test_the_admin_add_form_proposes_the_next_id_of_the_coordinators_site(client, coordinator_a, site_a, site_b):
    factories.make_patient(site_a, f"{site_a.id}-7")
    factories.make_patient(site_b, f"{site_b.id}-9")
    client.force_login(coordinator_a)

    response = client.get(changelist_url(Patient) + "add/")

    assert response.context["adminform"].form.initial["record_id"] == f"{site_a.id}-8"
    assert next_record_name(coordinator_a) == f"{site_a.id}-8"


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_naming_the_records_that_differ_only_in_case():
    migration = importlib.import_module("registry.migrations.0010_record_id_unique_ignoring_case")
    constraint = next(c for c in Patient._meta.constraints if c.name == "patient_record_id_unique_ignoring_case")
    site = factories.make_site("site-a")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Patient, constraint)
    try:
        for record_id in ("WU-001", "wu-001", "WU-002", "Wu-003", "wu-003"):
            factories.make_patient(site, record_id)

        with pytest.raises(RuntimeError) as stopped:
            migration.refuse_ids_differing_only_in_case(installed_apps, None)
    finally:
        Patient.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Patient, constraint)

    assert str(stopped.value) == (
        "Record IDs must be unique ignoring letter case, but these records differ only in case: WU-001, Wu-003, "
        "wu-001, wu-003. Rename (or merge) them, then run the migration again."
    )


def _insert_refused_by(monkeypatch, message: str) -> None:
    """The import's insert meets the database's refusal `message`, as when a concurrent request
    created the record after the import's checks (tests/api/test_concurrent_creates.py races it
    for real on PostgreSQL)."""
    def refused(self):
        raise IntegrityError(message)

    monkeypatch.setattr(FlatImport, "run", refused)


def test_a_record_created_meanwhile_is_an_import_problem_at_the_command_line_not_a_traceback(site_a, tmp_path,
                                                                                           monkeypatch):
    _insert_refused_by(monkeypatch, "UNIQUE constraint failed: index 'patient_record_id_unique_ignoring_case'")
    path = write_csv(tmp_path, "new.csv", [record_row("wu-001", **NEW)])
    output, errors = io.StringIO(), io.StringIO()
    state = database_state()

    with pytest.raises(CommandError) as refused:
        call_command("import_records", str(path), "--site", "site-a", stdout=output, stderr=errors)

    assert str(refused.value) == "1 problem(s) in new.csv; nothing was imported."
    assert output.getvalue().splitlines()[1] == "\t".join(("", "", "enrollment", "", "record_id", "", CREATED_MEANWHILE))
    assert database_state() == state


def test_another_integrity_error_is_not_mistaken_for_a_record_created_meanwhile(site_a, tmp_path, monkeypatch):
    _insert_refused_by(monkeypatch, "UNIQUE constraint failed: registry_treatmentline.patient_id, line_number")
    path = write_csv(tmp_path, "new.csv", [record_row("wu-001", **NEW)])

    with pytest.raises(IntegrityError):
        records_import(source=path, file_format="csv", site=site_a, user=None)
