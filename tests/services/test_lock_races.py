"""A lock and a write (or a flat import) of the same record are serialised (PostgreSQL: SQLite runs one writing
transaction at a time): a write waiting while a lock is being made is refused once the lock commits."""
import threading
import time

import pytest
import tablib
from django.db import connection, transaction

from registry.models import Patient, TreatmentLine
from registry.services.instances import instance_save
from registry.services.locks import RecordLocked, record_lock
from registry.records.import_result import ImportProblem
from registry.records.spreadsheets import VitalStatusResource, spreadsheet_problems
from registry.services.patient_versions import patients_lock
from registry.services.records import WRITTEN_MEANWHILE, records_import
from tests import factories
from tests.concurrency import postgresql_only  # noqa: F401 (an autouse fixture)
from tests.locked_records import make_data_manager
from tests.records.flat_files import instance_row, record_row, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_write_waiting_for_a_lock_being_made_is_refused_once_it_commits(site_a):
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient, 1)
    data_manager = make_data_manager()
    outcome = {}
    waiting = threading.Event()

    def write():
        try:
            line = TreatmentLine.objects.get(patient=patient)
            line.line_ecog = 2
            waiting.set()
            instance_save(instance=line, user=None)  # blocks on the record's row until the lock commits
            outcome["write"] = "saved"
        except RecordLocked as refused:
            outcome["write"] = str(refused)
        finally:
            connection.close()

    with transaction.atomic():
        record_lock(patient=patient, user=data_manager)  # holds the record's row until this block commits
        writer = threading.Thread(target=write)
        writer.start()
        waiting.wait(timeout=10)
        writer.join(timeout=1)  # still waiting for the row: the lock is not committed yet
        assert writer.is_alive()
    writer.join(timeout=30)

    assert outcome["write"].startswith("Nothing was written: record P-1 is locked (by data_manager on ")
    assert TreatmentLine.objects.get(patient=patient).line_ecog is None


def _import_while_a_lock_is_being_made(patient, rows, tmp_path) -> dict:
    """Runs a flat import of `rows` in another thread while this thread locks `patient` as a whole and
    has not committed yet; returns what the import answered (its problems) once the lock commits."""
    path = write_csv(tmp_path, "race.csv", rows)
    data_manager = make_data_manager()
    outcome = {}
    waiting = threading.Event()

    def import_file():
        try:
            waiting.set()
            # blocks on the record's row (taken by the import's query of the chunk's records) until
            # the lock commits, then reads the locks in force
            result = records_import(source=path, file_format="csv", site=patient.site, user=None)
            outcome["problems"] = result.problems
        finally:
            connection.close()

    with transaction.atomic():
        record_lock(patient=patient, user=data_manager)  # holds the record's row until this block commits
        importer = threading.Thread(target=import_file)
        importer.start()
        waiting.wait(timeout=10)
        importer.join(timeout=1)  # still waiting for the row: the lock is not committed yet
        assert importer.is_alive()
    importer.join(timeout=30)
    return outcome


def test_a_flat_import_of_an_instance_waiting_for_a_lock_being_made_is_refused_once_it_commits(site_a, tmp_path):
    patient = factories.make_patient(site_a, "P-1")
    factories.make_line(patient, 1)

    # The file has no record row: the record's row is locked by the treatment lines' chunk.
    outcome = _import_while_a_lock_is_being_made(
        patient, [instance_row("P-1", "treatment_line", 1, line_ecog="2")], tmp_path)

    # How the import names a whole-record lock: "cannot be changed: " + RecordLock.describe() + advice;
    # the time is the lock's own (made just now), so only its start is compared.
    [problem] = outcome["problems"]
    assert (problem.line, problem.record, problem.instrument, problem.field) == (
        2, "P-1", "treatment_line", "record_id")
    assert problem.reason.startswith("cannot be changed: record P-1 is locked (by data_manager on ")
    assert TreatmentLine.objects.get(patient=patient).line_ecog is None
    assert not TreatmentLine.history.filter(history_type="~").exists()


def test_a_flat_import_of_a_record_row_waiting_for_a_lock_being_made_is_refused_once_it_commits(site_a, tmp_path):
    patient = factories.make_patient(site_a, "P-1", mrn="MRN-1")

    outcome = _import_while_a_lock_is_being_made(patient, [record_row("P-1", mrn="MRN-2")], tmp_path)

    [problem] = outcome["problems"]
    assert (problem.line, problem.record, problem.instrument, problem.field) == (2, "P-1", "enrollment", "record_id")
    assert problem.reason.startswith("cannot be changed: record P-1 is locked (by data_manager on ")
    assert Patient.objects.get(pk=patient.pk).mrn == "MRN-1"
    assert not Patient.history.filter(history_type="~").exists()


def _waiting_for_a_row_lock(cursor) -> bool:
    """Whether another session waits for a lock (pg_locks is read live, not from a snapshot)."""
    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
    return cursor.fetchone()[0] > 0


def test_an_import_caught_in_a_deadlock_with_another_writer_is_a_problem_to_send_again_and_writes_nothing(
        site_a, tmp_path):
    first = factories.make_patient(site_a, "P-1", mrn="MRN-1")
    factories.make_line(first, 1)
    second = factories.make_patient(site_a, "P-9", mrn="MRN-9")
    # The import holds P-9 from its record rows, then asks for P-1 for its treatment lines; this thread
    # holds P-1, then asks for P-9: a cycle, which the import (the first to wait) finds and breaks.
    path = write_csv(tmp_path, "cycle.csv", [record_row("P-9", mrn="MRN-10"),
                                              instance_row("P-1", "treatment_line", 1, line_ecog="2")])
    outcome = {}

    def import_file():
        try:
            outcome["problems"] = records_import(source=path, file_format="csv", site=site_a, user=None).problems
        finally:
            connection.close()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL deadlock_timeout = '60s'")  # this session never looks for the cycle
        patients_lock([first.pk])
        importer = threading.Thread(target=import_file)
        importer.start()
        for _ in range(200):  # until the import waits for P-1 (at most 10 s)
            if _waiting_for_a_row_lock(cursor):
                break
            time.sleep(0.05)
        patients_lock([second.pk])  # waits for the import, until PostgreSQL aborts it (1 s)
    importer.join(timeout=30)

    assert outcome["problems"] == [ImportProblem(None, "", "", "", "record_id", "", WRITTEN_MEANWHILE)]
    assert Patient.objects.get(pk=second.pk).mrn == "MRN-9"
    assert TreatmentLine.objects.get(patient=first).line_ecog is None
    assert not Patient.history.filter(history_type="~").exists()


def test_a_spreadsheet_import_waiting_for_a_lock_being_made_is_refused_once_it_commits(site_a):
    # The per-instrument spreadsheets took the records' row locks already (records_lock in before_import):
    # held to the same behaviour as the flat import.
    patient = factories.make_patient(site_a, "P-1", vital=1)
    dataset = tablib.Dataset(headers=["record_id", "last_alive_date", "vital", "death_date", "death_cause",
                                      "vital_status_complete"])
    dataset.append(["P-1", "2026-11-01", "1", "", "", ""])
    data_manager = make_data_manager()
    outcome = {}
    waiting = threading.Event()

    def import_sheet():
        try:
            waiting.set()
            outcome["problems"] = spreadsheet_problems(VitalStatusResource().import_data(dataset, dry_run=False))
        finally:
            connection.close()

    with transaction.atomic():
        record_lock(patient=patient, user=data_manager)
        importer = threading.Thread(target=import_sheet)
        importer.start()
        waiting.wait(timeout=10)
        importer.join(timeout=1)  # still waiting for the row: the lock is not committed yet
        assert importer.is_alive()
    importer.join(timeout=30)

    [(row, _, column, _, reason)] = outcome["problems"]
    assert (row, column) == (1, "record_id")
    assert reason.startswith("Nothing was written: record P-1 is locked (by data_manager on ")
    assert Patient.objects.get(pk=patient.pk).last_alive_date is None
