"""The version of each patient's record: bumped by every door that writes it, checked by the REST API.

    patients_version_bump(patient_ids)          a door wrote these records (one statement)
    records_version_bump(*instances)            the same, for saved or deleted model instances
    patients_lock(patient_ids)                  lock the records against concurrent writers until
                                                the transaction ends; their current versions
    record_version(patient_id, number)          the opaque version text sent as the ETag

A version is "<patient id>.<number>": the number grows by one with every write through a door, and
the patient id keeps a record deleted and created again under the same record ID from ever showing
an old version (a client holding the old ETag must not overwrite the new record). Clients compare
versions for equality only.

Doors call `patients_version_bump` next to `patients_changed` (registry/services/derivation.py), in
the same transaction as the write: the REDCap import (registry/services/records.py), and
`records_written` (registry/services/instances.py) for the admin's pages, the per-instrument
spreadsheets and the demo set-up. The admin's change pages carry the version they showed and are
refused when it has moved on (`record_version_check`).
Writes made by the system's bulk tools (synth_cohort, load_demo, test factories) do not go through
a door and leave the version as it was.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from registry.models import Patient, PatientVersion
from registry.records.import_result import ImportProblem

class VersionConflict(Exception):
    """Records changed since the versions the caller expected; nothing was written."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.record}: {p.reason}" for p in problems))


FIRST_NUMBER = 1  # the version of a patient without a PatientVersion row


def record_version(patient_id: int, number: int | None) -> str:
    return f"{patient_id}.{number or FIRST_NUMBER}"


def patients_version_bump(patient_ids: Iterable[int] | QuerySet) -> None:
    """Adds one to the version of each of these patients' records and stamps the time; one statement
    (an upsert: the row is created at the first write). `patient_ids` may be a queryset of ids, used
    as the statement's subquery. Ids of patients that do not exist (deleted) are skipped."""
    if isinstance(patient_ids, QuerySet):
        try:
            subquery, params = patient_ids.query.sql_with_params()
        except EmptyResultSet:  # e.g. `id__in=[]`: no patient to bump
            return
        params = list(params)
    else:
        ids = sorted({int(patient_id) for patient_id in patient_ids if patient_id is not None})
        if not ids:
            return
        subquery, params = ", ".join(["%s"] * len(ids)), ids
    table = PatientVersion._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # INSERT ... SELECT needs its WHERE clause before ON CONFLICT on SQLite (a parsing ambiguity).
        cursor.execute(
            f"INSERT INTO {table} (patient_id, number, changed_at) "
            f"SELECT id, %s, %s FROM {Patient._meta.db_table} WHERE id IN ({subquery}) "
            f"ON CONFLICT (patient_id) DO UPDATE SET number = {table}.number + 1, changed_at = excluded.changed_at",
            [FIRST_NUMBER + 1, now, *params],
        )


def records_version_bump(*instances) -> None:
    """`patients_version_bump` for saved or deleted model instances: a Patient, or anything with a
    `patient_id` (the instruments), as `records_changed` takes them."""
    patients_version_bump(
        instance.pk if isinstance(instance, Patient) else getattr(instance, "patient_id", None)
        for instance in instances
    )


def patients_lock(patient_ids: Iterable[int]) -> dict[int, str]:
    """Locks these patients' rows until the transaction ends and returns their current versions
    (patients that do not exist are left out). Must run inside a transaction. Two queries.

    The rows are locked in id order, so that two writers locking overlapping sets cannot deadlock.
    The versions are read by a second statement, after the lock is held: read in the locking
    statement itself (a join), PostgreSQL would return the version as it was when that statement
    began, before a writer it waited for had committed, and two writers would both pass the check.
    SQLite has no row locks; it runs one writing transaction at a time.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("patients_lock() must be called inside a transaction")
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    if not ids:
        return {}
    locked = list(Patient.objects.select_for_update().filter(id__in=ids).order_by("id").values_list("id", flat=True))
    numbers = dict(PatientVersion.objects.filter(patient_id__in=locked).values_list("patient_id", "number"))
    return {patient_id: record_version(patient_id, numbers.get(patient_id)) for patient_id in locked}


def current_versions(patient_ids: Iterable[int]) -> dict[int, str]:
    """The current version of each of these (existing) patients; one query, no lock."""
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    numbers = dict(PatientVersion.objects.filter(patient_id__in=ids).values_list("patient_id", "number"))
    return {patient_id: record_version(patient_id, numbers.get(patient_id)) for patient_id in ids}
