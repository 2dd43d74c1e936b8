"""Writes of single model instances, as the admin's forms make them: the one place where such a save
or deletion is wired to the record lock, the version check, instance numbering, validation, the audit
trail, the re-derivation and the version bump.

    record_version_check(...)     lock a record and compare its version with the one a page carried
    records_lock(...)             lock records (and check one's version) for a caller's own transaction
    instance_save(...)            create or change one instance (a patient, an instrument instance, a site ...)
    instances_save(...)           what one inline formset wrote: deletions and saves, numbered together
    instance_delete(...)          delete one instance
    instances_delete(...)         delete several (the admin's "delete selected")

and the steps they are made of, for doors that validate rows themselves (the per-instrument
spreadsheets): `records_lock`, `instance_write` / `instance_remove` (the audit trail), and
`records_written` (the side effects of any write: re-derivation and version bump, wired here only).

Each is atomic and first locks the records it writes (`patients_lock`, in id order), so that two
writers of one record are serialised: a new repeating instance is numbered one past the highest
under that lock, and two simultaneous adds never take the same number. `expected_version` (the
version the writer read) is compared under the lock; data locked by a data manager (a RecordLock,
registry/services/locks.py) is refused with `RecordLocked`, naming the lock, and nothing is written; a record changed meanwhile raises
`RecordChangedMeanwhile`, naming who changed it and when, and nothing is written.

Models without a patient (sites, roles, memberships, users) are saved the same way, without a lock
or a version: they are not part of a record.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Model

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine, TumorAssessment,
)
from registry.records.import_result import ImportProblem
from registry.services.derivation import records_changed
from registry.services.locks import locked_data_refuse
from registry.services.patient_versions import VersionConflict, patients_lock, records_version_bump
from registry.services.queries import queries_close_on_deletion

# history_change_reason of every change made through an admin form: which door the data came in by.
ADMIN_DOOR = "admin"

# Every model whose history rows belong to a patient's record (the patient's own rows are keyed by id).
_INSTRUMENT_MODELS = (TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant)


@dataclass(frozen=True)
class LastChange:
    """The newest audit-trail entry of a record: who wrote it (None: the system) and when (aware UTC)."""

    user_name: str | None
    changed_at: datetime | None


class RecordChangedMeanwhile(VersionConflict):
    """The record is no longer at the version the writer read; nothing was written."""

    def __init__(self, *, record_id: str, expected_version: str, current_version: str, last_change: LastChange):
        self.record_id = record_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.last_change = last_change
        super().__init__([ImportProblem(
            None, record_id, "enrollment", "", "version", expected_version,
            f"was changed since version {expected_version}: it is at version {current_version} now; read it "
            "again, then send your change",
        )])


def record_last_change(patient_id: int) -> LastChange:
    """Who wrote the record last and when, from the newest history row of the patient or of any of
    its instances (deleted ones included); one query."""
    columns = ("history_date", "history_user__username")
    # Each part unordered (the history tables order by date by default, which a UNION's parts may not).
    rows = Patient.history.filter(id=patient_id).order_by().values(*columns)
    for model in _INSTRUMENT_MODELS:
        rows = rows.union(model.history.filter(patient_id=patient_id).order_by().values(*columns), all=True)
    newest = rows.order_by("-history_date").first()
    if newest is None:
        return LastChange(user_name=None, changed_at=None)
    return LastChange(user_name=newest["history_user__username"], changed_at=newest["history_date"])


def patient_id_of(instance: Model) -> int | None:
    """The record an instance belongs to: a patient's own id, an instrument instance's patient; None
    for a new patient and for models outside the records (sites, users)."""
    if isinstance(instance, Patient):
        return instance.pk
    return getattr(instance, "patient_id", None)


def records_lock(patient_ids: Iterable[int | None], *, expected_version: str | None = None) -> dict[int, str]:
    """Locks these records until the caller's transaction ends and returns their versions; with
    `expected_version`, the (single) record must still be at it, else RecordChangedMeanwhile."""
    ids = {patient_id for patient_id in patient_ids if patient_id is not None}
    versions = patients_lock(ids)
    if expected_version is not None:
        if len(ids) != 1:
            raise ValueError("an expected version names the version of exactly one record")
        (patient_id,) = ids
        current = versions.get(patient_id)
        if current != expected_version:
            record_id = Patient.objects.filter(pk=patient_id).values_list("record_id", flat=True).first() or ""
            raise RecordChangedMeanwhile(
                record_id=record_id, expected_version=expected_version, current_version=current or "(deleted)",
                last_change=record_last_change(patient_id),
            )
    return versions


def instance_write(
    instance: Model, *, user, door: str, update_fields: Collection[str] | None = None, force_insert: bool = False,
) -> None:
    """Saves one validated instance with `user` (None: the system, or the request's user where the
    history middleware knows it) and `door` in its history row. The caller holds the record's lock
    and calls `records_written` once its writes are done."""
    instance._change_reason = door  # read by django-simple-history for the history row
    if user is not None:
        instance._history_user = user
    if update_fields is not None:
        instance.save(update_fields=list(update_fields))
    else:
        instance.save(force_insert=force_insert)


def instance_remove(instance: Model, *, user, door: str) -> None:
    """Deletes one instance with `user` and `door` in its history row (as instance_write)."""
    instance._change_reason = door
    if user is not None:
        instance._history_user = user
    instance.delete()


def records_written(*instances: Model) -> None:
    """The side effects of every write to a record, for saved or deleted instances, in the writer's
    transaction: the records' derived results are marked stale and derived again after the commit,
    and their versions (the REST API's ETags) move on. Instances outside the records are ignored."""
    records_changed(*instances)
    records_version_bump(*instances)


@transaction.atomic
def record_version_check(*, patient_id: int, expected_version: str | None) -> str | None:
    """Locks the record until the caller's transaction ends and returns its version (None: it does
    not exist), when it is still `expected_version` (None: any); raises RecordChangedMeanwhile otherwise.

    Must run inside the caller's transaction (an admin page's save): the lock then keeps anyone else
    from writing the record between this check and the page's writes, which need not check again.
    """
    if not transaction.get_connection().in_atomic_block or transaction.get_autocommit():
        raise RuntimeError("record_version_check() must be called inside the writer's transaction")
    return records_lock([patient_id], expected_version=expected_version).get(patient_id)


def _next_numbers(instances: Iterable[Model]) -> None:
    """Numbers each new repeating instance one past its patient's highest of its instrument (the
    records are locked by the caller); new instances of one instrument are numbered in order."""
    highest: dict[tuple[type, int], int] = {}
    for instance in instances:
        if instance.pk is not None or not hasattr(instance, "redcap_repeat_instance"):
            continue
        if instance.redcap_repeat_instance is not None:
            continue  # a number chosen by the caller is checked by the unique constraint
        key = (type(instance), instance.patient_id)
        if key not in highest:
            stored = type(instance).objects.filter(patient_id=instance.patient_id).aggregate(
                highest=Max("redcap_repeat_instance"))["highest"]
            highest[key] = stored or 0
        highest[key] += 1
        instance.redcap_repeat_instance = highest[key]


@transaction.atomic
def instance_save(*, instance: Model, user, door: str = ADMIN_DOOR, expected_version: str | None = None) -> None:
    """Creates or changes `instance`: locks its record, checks `expected_version` (None: the caller
    has checked it already, or the instance is new), numbers a new repeating instance, validates
    (`full_clean`, ValidationError: nothing written), saves with `user` and `door` in the audit
    trail, marks the record's results stale and bumps its version."""
    records_lock([patient_id_of(instance)], expected_version=expected_version)
    locked_data_refuse(saved=[instance])  # RecordLocked: nothing written
    _next_numbers([instance])
    instance.full_clean()
    instance_write(instance, user=user, door=door)
    records_written(instance)


@transaction.atomic
def instances_save(
    *, saved: Iterable[Model], deleted: Iterable[Model] = (), user, door: str = ADMIN_DOOR,
    expected_version: str | None = None,
) -> None:
    """What one inline formset wrote: deletes `deleted`, then creates or changes `saved` (new
    repeating instances numbered in order after the highest), all validated first, as instance_save.
    An instance may point at a new one listed before it in `saved` (a new scan, then its measurements)."""
    saved, deleted = list(saved), list(deleted)
    records_lock([patient_id_of(instance) for instance in [*saved, *deleted]], expected_version=expected_version)
    locked_data_refuse(saved=saved, deleted=deleted)  # RecordLocked: nothing written
    queries_close_on_deletion(deleted=deleted, user=user, door=door)  # their open queries: closed by the system
    for instance in deleted:
        instance_remove(instance, user=user, door=door)
    _next_numbers(saved)
    for instance in saved:
        instance.full_clean(exclude=_parents_saved_first(instance, saved))
    for instance in saved:
        instance_write(instance, user=user, door=door)
    records_written(*deleted, *saved)


def _parents_saved_first(instance: Model, saved: list[Model]) -> list[str]:
    """The foreign keys of `instance` that point at a new instance saved before it in the same call (a new
    scan's measurements point at the new scan): they have no id to validate yet, and Django sets it
    when the instance is written after its parent."""
    earlier = saved[: next(position for position, other in enumerate(saved) if other is instance)]
    names = []
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.many_to_one and field.is_cached(instance):
            parent = field.get_cached_value(instance)
            if parent is not None and parent.pk is None and any(parent is other for other in earlier):
                names.append(field.name)
    return names


@transaction.atomic
def instance_delete(*, instance: Model, user, door: str = ADMIN_DOOR, expected_version: str | None = None) -> None:
    """Deletes `instance` (and what the database cascades to) with `user` and `door` in the audit trail."""
    instances_delete(instances=[instance], user=user, door=door, expected_version=expected_version)


@transaction.atomic
def instances_delete(
    *, instances: Iterable[Model], user, door: str = ADMIN_DOOR, expected_version: str | None = None,
) -> None:
    """Deletes each instance in turn, so that every deletion reaches the audit trail with its door."""
    instances = list(instances)
    records_lock([patient_id_of(instance) for instance in instances], expected_version=expected_version)
    locked_data_refuse(deleted=instances)  # RecordLocked: nothing deleted
    queries_close_on_deletion(deleted=instances, user=user, door=door)  # their open queries: closed by the system
    for instance in instances:
        instance_remove(instance, user=user, door=door)
    records_written(*instances)
