"""Locking, unlocking and e-signing records, and the one check every write service makes against
the locks in force (issue 12 §5).

    record_lock(...) / instance_lock(...)          lock a whole record, or one instrument instance
    record_unlock(...) / instance_unlock(...)      lift it, with a reason (kept with who and when)
    record_sign(...)                               e-sign a locked record: password again, meaning, hash
    locked_data_refuse(saved=..., deleted=...)     raise RecordLocked when a write touches locked data

Locking and unlocking need Capability.LOCK (data managers, administrators), signing Capability.SIGN
(and a record locked as a whole). Each takes the record's row lock first (patients_lock), so a lock
and a write of the same record are serialised: a write that began before the lock either commits
before it, or waits and is then refused.

`locked_data_refuse` is called by the write services every door shares (instances.py's saves and
deletions, records.py's import and deletion, record_writes.py's instance deletion, the spreadsheets'
rows): so one check covers the workspace, the admin, the REST and REDCap APIs, the imports and the
commands. Derived results and soft-check confirmations are not record data and are not checked.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from registry.models import Patient, RecordLock, RecordSignature
from registry.models.locks import WHOLE_RECORD
from registry.records.flat_layout import form_columns
from registry.records.instruments import INSTRUMENTS, REPEATING_INSTRUMENTS
from registry.records.record_content import record_content_hashes
from registry.selectors.access import Capability, user_can
from registry.selectors.locks import RecordLocks, record_locks
from registry.services.patient_versions import patients_lock

RECORD_FORMS = ("enrollment", "vital_status")  # the record's own forms, both stored on the Patient
FORM_OF_MODEL = {instrument.model: name for name, instrument in REPEATING_INSTRUMENTS.items()}

# What a signer is shown and what is stored with the signature (21 CFR 11.50: the meaning of a signature).
SIGNATURE_MEANING = (
    "I have reviewed every form of this record and I confirm that its data are complete and accurate "
    "to the best of my knowledge."
)


class LockError(ValueError):
    """A lock, unlock or signature that cannot be made as asked; the message says why. Nothing written."""


class RecordLocked(PermissionDenied):
    """A write touches locked data; nothing was written. `locks` are the locks in the way; the message
    names each: what is locked, who locked it and when."""

    def __init__(self, locks: Iterable[RecordLock]):
        self.locks = list(dict.fromkeys(locks))
        named = "; ".join(lock.describe() for lock in self.locks)
        super().__init__(f"Nothing was written: {named}. A data manager may unlock it, giving a reason.")


# ---------------------------------------------------------------- the check every write makes

def locked_data_refuse(*, saved: Iterable[Model] = (), deleted: Iterable[Model] = (),
                       locks: dict[int, RecordLocks] | None = None) -> None:
    """Raises RecordLocked when any of `saved` (new or changed instances) or `deleted` is locked:

    - a record locked as a whole: nothing of it is changed, added or deleted;
    - a locked instance: it is neither changed nor deleted (a new instance of its form is allowed);
    - a patient (enrollment and vital status): changed only in forms not locked; deleted only when
      nothing of the record is locked.
    One query (the locks of the records named; none when `locks` are given), plus one to read the
    stored patient when a form of the record row is locked and a patient is saved."""
    saved, deleted = list(saved), list(deleted)
    if locks is None:
        locks = record_locks(_patient_id(instance) for instance in [*saved, *deleted])
    if not locks:
        return
    in_the_way: list[RecordLock] = []
    for instance in saved:
        record = locks.get(_patient_id(instance))
        if record is None:
            continue
        if isinstance(instance, Patient):
            in_the_way.extend(_patient_locks(instance, record))
        elif instance.pk is None:
            if record.record is not None:  # a whole-record lock blocks new instances
                in_the_way.append(record.record)
        else:
            lock = record.lock_of(FORM_OF_MODEL[type(instance)], instance.redcap_repeat_instance)
            if lock is not None:
                in_the_way.append(lock)
    for instance in deleted:
        record = locks.get(_patient_id(instance))
        if record is None:
            continue
        if isinstance(instance, Patient):
            in_the_way.extend(record.all())
        else:
            lock = record.lock_of(FORM_OF_MODEL[type(instance)], instance.redcap_repeat_instance)
            if lock is not None:
                in_the_way.append(lock)
            in_the_way.extend(_dependants_locked(instance, record))
    if in_the_way:
        raise RecordLocked(in_the_way)


# A deletion of a scan, lesion or biopsy takes the measurements or variants that name it with it
# (the database cascades): a locked one among them keeps it from being deleted.
DEPENDANTS = {"tumor_assessment": ("lesion_measurement", "assessment"), "lesion": ("lesion_measurement", "lesion"),
              "biopsy": ("ngs_variant", "biopsy")}


def _dependants_locked(instance: Model, record: RecordLocks) -> list[RecordLock]:
    """The locks of the instances that name `instance` (a query only when such a lock exists)."""
    form, attribute = DEPENDANTS.get(FORM_OF_MODEL[type(instance)], (None, None))
    numbers = {number for (locked_form, number) in record.instances if locked_form == form}
    if form is None or not numbers or instance.pk is None:
        return []
    named = INSTRUMENTS[form].model.objects.filter(**{attribute: instance}, redcap_repeat_instance__in=numbers)
    return [record.instances[(form, number)] for number in named.values_list("redcap_repeat_instance", flat=True)]


def _patient_id(instance: Model) -> int | None:
    return instance.pk if isinstance(instance, Patient) else getattr(instance, "patient_id", None)


def _patient_locks(patient: Patient, record: RecordLocks) -> list[RecordLock]:
    """The locks a save of `patient` runs into: the record's, else those of the record forms it changes."""
    if record.record is not None:
        return [record.record]
    form_locks = {form: record.instances[(form, None)] for form in RECORD_FORMS if (form, None) in record.instances}
    if not form_locks or patient.pk is None:
        return []
    # Each column's attributes: a field's missing-data code is part of the form it locks.
    attributes = {form: list(dict.fromkeys(a for column in form_columns(form) for a in column.attributes))
                  for form in form_locks}
    stored = Patient.objects.filter(pk=patient.pk).values(*{a for names in attributes.values() for a in names}).first()
    if stored is None:
        return []
    return [lock for form, lock in form_locks.items()
            if any(getattr(patient, attribute) != stored[attribute] for attribute in attributes[form])]


# ---------------------------------------------------------------- lock, unlock

def _may_lock(user, patient: Patient) -> None:
    if not user_can(user, Capability.LOCK, site_id=patient.site_id):
        raise PermissionDenied("Only data managers and administrators lock and unlock records.")


def _audited(row: Model, *, user, reason: str) -> Model:
    row._history_user = user
    row._change_reason = reason
    row.full_clean()
    row.save()
    return row


def _instance_key(patient: Patient, form: str, instance: int | None) -> tuple[str, int | None]:
    """(form, instance) of an instance that exists; LockError otherwise."""
    if form not in INSTRUMENTS:
        raise LockError(f"{form!r} is not an instrument of this project ({', '.join(INSTRUMENTS)}).")
    if form in RECORD_FORMS:
        if instance is not None:
            raise LockError(f"{form} is not a repeating instrument: it has no instance {instance}.")
        return form, None
    if instance is None or not INSTRUMENTS[form].model.objects.filter(
            patient=patient, redcap_repeat_instance=instance).exists():
        raise LockError(f"Record {patient.record_id} has no {form} instance {instance}.")
    return form, instance


def _lock(patient: Patient, form: str, instance: int | None, *, user) -> RecordLock:
    patients_lock([patient.pk])
    existing = RecordLock.objects.filter(patient=patient, form=form, repeat_instance=instance,
                                         unlocked_at__isnull=True).select_related("patient", "locked_by").first()
    if existing is not None:
        raise LockError(f"Already locked: {existing.describe()}.")
    return _audited(RecordLock(patient=patient, form=form, repeat_instance=instance, locked_by=user,
                               locked_at=timezone.now()), user=user, reason="locked")


def _unlock(patient: Patient, form: str, instance: int | None, *, user, reason: str) -> RecordLock:
    reason = (reason or "").strip()
    if not reason:
        raise LockError("An unlock needs a reason: say why the data must change (it is kept in the audit trail).")
    patients_lock([patient.pk])
    lock = RecordLock.objects.filter(patient=patient, form=form, repeat_instance=instance,
                                     unlocked_at__isnull=True).first()
    if lock is None:
        what = RecordLock(patient=patient, form=form, repeat_instance=instance).what
        raise LockError(f"Not locked: {what}.")
    lock.unlocked_by, lock.unlocked_at, lock.unlock_reason = user, timezone.now(), reason
    return _audited(lock, user=user, reason=f"unlocked: {reason}")


@transaction.atomic
def record_lock(*, patient: Patient, user) -> RecordLock:
    """Locks the whole record: nothing of it may be changed, added or deleted until it is unlocked."""
    _may_lock(user, patient)
    return _lock(patient, WHOLE_RECORD, None, user=user)


@transaction.atomic
def instance_lock(*, patient: Patient, form: str, instance: int | None, user) -> RecordLock:
    """Locks one instance of `form` (`instance` None for enrollment and vital status)."""
    _may_lock(user, patient)
    form, instance = _instance_key(patient, form, instance)
    return _lock(patient, form, instance, user=user)


@transaction.atomic
def record_unlock(*, patient: Patient, user, reason: str) -> RecordLock:
    """Lifts the whole-record lock; `reason` is required and kept with who and when."""
    _may_lock(user, patient)
    return _unlock(patient, WHOLE_RECORD, None, user=user, reason=reason)


@transaction.atomic
def instance_unlock(*, patient: Patient, form: str, instance: int | None, user, reason: str) -> RecordLock:
    """Lifts the lock of one instance (`instance` None for enrollment and vital status); `reason` is
    required and kept with who and when. A locked instance cannot have been deleted meanwhile."""
    _may_lock(user, patient)
    if form not in INSTRUMENTS:
        raise LockError(f"{form!r} is not an instrument of this project ({', '.join(INSTRUMENTS)}).")
    return _unlock(patient, form, None if form in RECORD_FORMS else instance, user=user, reason=reason)


# ---------------------------------------------------------------- sign

@transaction.atomic
def record_sign(*, patient: Patient, user, password: str, meaning: str = SIGNATURE_MEANING) -> RecordSignature:
    """E-signs a record locked as a whole: the signer's password is checked again, and the signature
    stores the signer, the UTC time, `meaning` (the text the signer was shown) and the SHA-256 of the
    record's content now. LockError (nothing written) for a wrong password or an unlocked record."""
    if not user_can(user, Capability.SIGN, site_id=patient.site_id):
        raise PermissionDenied("Only investigators, data managers and administrators sign records.")
    if not (meaning or "").strip():
        raise LockError("A signature needs its meaning (the statement the signer makes).")
    if not password or not user.check_password(password):
        raise LockError("The password is not correct; nothing was signed.")
    patients_lock([patient.pk])
    if not RecordLock.objects.filter(patient=patient, form=WHOLE_RECORD, unlocked_at__isnull=True).exists():
        raise LockError(f"Record {patient.record_id} is not locked: only a locked record is signed.")
    content_hash = record_content_hashes(Patient.objects.filter(pk=patient.pk))[patient.record_id]
    return _audited(RecordSignature(patient=patient, signed_by=user, signed_at=timezone.now(), meaning=meaning,
                                    content_hash=content_hash), user=user, reason="signed")
