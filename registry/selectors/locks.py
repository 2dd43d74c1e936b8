"""What is locked and signed, read in batches (issue 12 §5).

    locked_patient_ids(patient_ids=None)    ids of the records locked as a whole (one query)
    record_locks(patient_ids)               every lock in force of these records, by record (one query)
    record_signatures(patient_ids)          every signature of these records with its status (two
                                            queries, plus the record contents' reads)

The write services ask `record_locks` before they write (registry/services/locks.py); the data cuts
ask `locked_patient_ids` for "locked records only"; the workspace shows both.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from registry.models import Patient, RecordLock, RecordSignature
from registry.models.locks import WHOLE_RECORD
from registry.records.record_content import record_content_hashes


def locked_patient_ids(patient_ids: Iterable[int] | None = None) -> set[int]:
    """The ids of the records locked as a whole (among `patient_ids`; None: all); one query."""
    locks = RecordLock.objects.filter(form=WHOLE_RECORD, unlocked_at__isnull=True)
    if patient_ids is not None:
        locks = locks.filter(patient_id__in=list(patient_ids))
    return set(locks.values_list("patient_id", flat=True))


@dataclass
class RecordLocks:
    """The locks in force on one record: of the whole record, and of its instances by (form, instance)."""

    record: RecordLock | None = None
    instances: dict[tuple[str, int | None], RecordLock] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return self.record is not None or bool(self.instances)

    def lock_of(self, form: str, instance: int | None) -> RecordLock | None:
        """The lock that keeps this instance from changing: the record's, else the instance's own."""
        return self.record or self.instances.get((form, instance))

    def all(self) -> list[RecordLock]:
        return [lock for lock in [self.record, *self.instances.values()] if lock is not None]


NOTHING_LOCKED = RecordLocks()


def record_locks(patient_ids: Iterable[int | None]) -> dict[int, RecordLocks]:
    """The locks in force of these records, by patient id (records with none are left out); one query
    (with the patient and the user who locked, which every refusal names)."""
    ids = sorted({patient_id for patient_id in patient_ids if patient_id is not None})
    found: dict[int, RecordLocks] = {}
    if not ids:
        return found
    for lock in RecordLock.objects.filter(patient_id__in=ids, unlocked_at__isnull=True).select_related(
            "patient", "locked_by").order_by():
        locks = found.setdefault(lock.patient_id, RecordLocks())
        if lock.is_whole_record:
            locks.record = lock
        else:
            locks.instances[(lock.form, lock.repeat_instance)] = lock
    return found


@dataclass(frozen=True)
class SignatureStatus:
    signature: RecordSignature
    valid: bool  # the record's content still hashes to the signed hash; otherwise the signature is void

    @property
    def label(self) -> str:
        return "valid" if self.valid else "void (the record changed after it was signed)"


def record_signatures(patient_ids: Iterable[int]) -> dict[int, list[SignatureStatus]]:
    """Every signature of these records, newest first, each valid or void, by patient id: one query
    for the signatures, then the record contents of the signed records (record_content_hashes)."""
    ids = sorted(set(patient_ids))
    signatures = list(RecordSignature.objects.filter(patient_id__in=ids).select_related("patient", "signed_by")
                      .order_by("patient_id", "-signed_at", "-id"))
    if not signatures:
        return {}
    current = record_content_hashes(Patient.objects.filter(pk__in={s.patient_id for s in signatures}))
    found: dict[int, list[SignatureStatus]] = {}
    for signature in signatures:
        valid = current.get(signature.patient.record_id) == signature.content_hash
        found.setdefault(signature.patient_id, []).append(SignatureStatus(signature, valid))
    return found
