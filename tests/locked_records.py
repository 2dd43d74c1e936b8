"""Shared by the lock tests of every door: a locked record and the database as a comparable snapshot."""
from datetime import UTC, datetime

from django.contrib.auth import get_user_model

from registry.models import Patient, RecordLock, Role
from registry.records.record_content import record_content_hashes
from registry.services.locks import instance_lock, record_lock
from tests import factories
from tests.api.api_helpers import database_state

# Every lock of these tests is made at this time, so that refusals can be compared as whole texts.
LOCKED_AT = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def make_data_manager(username: str = "data_manager"):
    return factories.make_user(username, role=Role.DATA_MANAGER)


def locked_record(site, *, record_id: str = "P-1", data_manager=None, whole_record: bool = True) -> Patient:
    """Record `record_id` of `site` with enrollment (MRN-1), vital status (alive), two treatment lines
    (instances 1, ECOG 1, and 2) and a biopsy with one NGS variant; locked as a whole (or, with whole_record=False, only its
    treatment line 1) by `data_manager` at LOCKED_AT."""
    patient = factories.make_patient(site, record_id, vital=1, mrn="MRN-1")
    factories.make_line(patient, 1, line_ecog=1)
    factories.make_line(patient, 2, line_start=datetime(2021, 6, 1).date())
    factories.make_variant(factories.make_biopsy(patient))
    if data_manager is None:
        data_manager = get_user_model().objects.filter(username="data_manager").first() or make_data_manager()
    if whole_record:
        lock = record_lock(patient=patient, user=data_manager)
    else:
        lock = instance_lock(patient=patient, form="treatment_line", instance=1, user=data_manager)
    RecordLock.objects.filter(pk=lock.pk).update(locked_at=LOCKED_AT)
    return patient


def snapshot() -> tuple:
    """Every record's content hash, its flat rows, versions and audit-trail row counts: equal before
    and after a refused write when nothing at all was written."""
    return record_content_hashes(Patient.objects.all()), database_state()


def whole_record_refusal(record_id: str = "P-1", username: str = "data_manager") -> str:
    """How every door names a whole-record lock (RecordLock.describe, worked out by hand)."""
    return f"record {record_id} is locked (by {username} on 2026-11-30 09:15 UTC)"
