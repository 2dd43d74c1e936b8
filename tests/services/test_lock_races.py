"""A lock and a write of the same record are serialised (PostgreSQL: SQLite runs one writing
transaction at a time): a write waiting while a lock is being made is refused once the lock commits."""
import threading

import pytest
from django.db import connection, transaction

from registry.models import TreatmentLine
from registry.services.instances import instance_save
from registry.services.locks import RecordLocked, record_lock
from tests import factories
from tests.concurrency import postgresql_only  # noqa: F401 (an autouse fixture)
from tests.locked_records import make_data_manager

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
