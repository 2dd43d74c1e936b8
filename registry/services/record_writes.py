"""Writes of the REST API: every one through the REDCap import (registry/services/records.py), so
that the API checks exactly what the admin and the import check, all or nothing, with the audit
trail, the re-derivation and the version bump that import gives every write.

    records_upsert(...)              many records at once (flat rows from a file or from nested JSON)
    record_instance_create(...)      one new instance of a repeating instrument, numbered max + 1
    record_instance_delete(...)      one instance (and the measurements or variants that name it)
    record_delete(...)               a whole record (administrators only, as records_delete)

Each locks the records it writes first (registry/services/patient_versions.py `patients_lock`, in id
order) and compares their versions with those the caller expects (from If-Match, or the `version`
of a nested record): a record changed meanwhile is a `VersionConflict` and nothing is written. So
two writers sending the same version one after the other, or at the same moment, never both win.

Records the user may not see are answered exactly as records that do not exist (no version, no
internal id, no site): a version named for one is "no record with this ID at a site you see"; only
creating one is refused, as record IDs are unique in the registry (ignoring letter case), with a
reason that names neither the site nor anything else of that record.
"""
from __future__ import annotations

import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Lower

from registry.models import LesionMeasurement, NgsVariant, Patient, Site
from registry.records.flat_import import record_taken
from registry.records.import_result import ImportProblem, ImportResult
from registry.records.instruments import INSTRUMENTS, RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT
from registry.selectors.access import access_for
from registry.services.instances import instance_remove, records_written
from registry.services.locks import locked_data_refuse
from registry.services.patient_versions import VersionConflict, patients_lock, record_version
from registry.services.queries import queries_close_on_deletion
from registry.services.records import CREATED_MEANWHILE, records_delete, records_import

# A record the user sees but may not change (an investigator's, a viewer's): its site may be told.
NOT_YOURS = "is the ID of a record at a site whose records you may not change (record IDs are unique in the registry)"
NO_SUCH_RECORD = "names a version, but there is no record with this ID at a site you see"
# What deleting an instance takes with it: the measurements naming an assessment or a lesion, the
# variants naming a biopsy (deleted first, each with its own audit-trail entry).
DEPENDANTS = {
    "tumor_assessment": (LesionMeasurement, "assessment"),
    "lesion": (LesionMeasurement, "lesion"),
    "biopsy": (NgsVariant, "biopsy"),
}


class InstanceNotFound(LookupError):
    pass


class RecordExists(Exception):
    """A record to be created exists already (at any site, in any letter case); nothing was written.
    The message names the ID as sent, nothing of the stored record."""

    def __init__(self, record_id: str):
        self.record_id = record_id
        super().__init__(record_taken(record_id))


class CreatedMeanwhile(Exception):
    """A record of the request was created by a concurrent request between the checks and the
    insert (the import's CREATED_MEANWHILE); nothing was written."""


def record_exists_ignoring_case(record_id: str) -> bool:
    return Patient.objects.annotate(lowered=Lower("record_id")).filter(lowered=record_id.lower()).exists()


@dataclass
class UpsertResult:
    result: ImportResult | None
    problems: list[ImportProblem] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # record ID → version after the write

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_versions(locked: dict[str, tuple[int, str]], expected: Mapping[str, str | Collection[str]]) -> None:
    """Raises VersionConflict naming each record whose current version is not (one of) the expected."""
    conflicts = []
    for record_id, versions in expected.items():
        accepted = {versions} if isinstance(versions, str) else set(versions)
        shown = " or ".join(sorted(accepted)) or "(none)"
        current = locked.get(record_id)
        if current is None:
            conflicts.append(ImportProblem(None, record_id, "enrollment", "", "version", shown, NO_SUCH_RECORD))
        elif current[1] not in accepted:
            conflicts.append(ImportProblem(
                None, record_id, "enrollment", "", "version", shown,
                f"was changed since version {shown}: it is at version {current[1]} now; read it again, then "
                "send your change",
            ))
    if conflicts:
        raise VersionConflict(conflicts)


def _expected(record_id: str, versions: Collection[str] | None) -> dict:
    """{record ID: versions} for a check, or {} when any version will do (None: If-Match absent or *)."""
    return {} if versions is None else {record_id: versions}


def _lock(record_ids: Collection[str], user) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    """Locks the existing records among `record_ids`: ({record ID: (patient id, version)} of the
    records `user` sees, {record ID: site id} of all of them). A record at a site the user does not
    see has no version here: to the caller it is a record that does not exist."""
    found = {record_id: (patient_id, site_id) for record_id, patient_id, site_id in
             Patient.objects.filter(record_id__in=list(record_ids)).values_list("record_id", "id", "site_id")}
    versions = patients_lock(patient_id for patient_id, _ in found.values())
    access = access_for(user)
    return (
        {record_id: (patient_id, versions[patient_id]) for record_id, (patient_id, site_id) in found.items()
         if patient_id in versions and access.can_see_site(site_id)},
        {record_id: site_id for record_id, (_, site_id) in found.items()},
    )


def _versions_after(record_ids: Collection[str]) -> dict[str, str]:
    return {record_id: record_version(patient_id, number) for record_id, patient_id, number in
            Patient.objects.filter(record_id__in=list(record_ids)).values_list("record_id", "id",
                                                                                "record_version__number")}


@transaction.atomic
def records_upsert(
    *, source, file_format: str, record_ids: Collection[str], user, door: str, site: Site | None = None,
    sites_by_record: Mapping[str, Site] | None = None, dry_run: bool = False, overwrite_behavior: str = "normal",
    expected_versions: Mapping[str, str | Collection[str]] | None = None, problems_before: Sequence[ImportProblem] = (),
    new_record: str | None = None,
) -> UpsertResult:
    """Upserts the flat rows of `source` (a seekable binary file, csv or json) by record, instrument
    and instance, all or nothing; raises VersionConflict (nothing written) when a record of
    `expected_versions` is at another version.

    `record_ids`: every record ID the source names (the caller read them); they are locked first.
    `problems_before`: problems the caller found converting its request; the source is still checked
    so that every problem is reported at once, and nothing is written. Problems on the same field
    as one of those are not repeated.
    `new_record`: a record ID that must not exist yet (a create, never an update): RecordExists
    otherwise. A concurrent create of the same ID that commits first makes the insert fail on the
    unique index: CreatedMeanwhile (for any record of the request, new_record or not).
    """
    if new_record is not None and record_exists_ignoring_case(new_record):
        raise RecordExists(new_record)
    locked, site_of = _lock(record_ids, user)
    _check_versions(locked, expected_versions or {})
    access = access_for(user)
    hidden = sorted(record_id for record_id, site_id in site_of.items() if not access.can_change_site(site_id))
    # Unseen records are refused with the import's own reason (the one every door gives: the ID is
    # taken, nothing else told); records seen but not changeable with NOT_YOURS.
    unseen = {record_id for record_id in hidden if not access.can_see_site(site_of[record_id])}
    result = records_import(
        source=source, file_format=file_format, site=site, user=user, dry_run=dry_run,
        overwrite_behavior=overwrite_behavior, door=door, max_changes=0, sites_by_record=sites_by_record,
    )
    if any(problem.reason == CREATED_MEANWHILE for problem in result.problems):
        raise CreatedMeanwhile(CREATED_MEANWHILE)
    # A problem found by the caller without an instance number (a new instance) covers that field of
    # every instance of the record's instrument.
    already = {(p.record, p.instrument, p.instance, p.field) for p in problems_before}
    problems = list(problems_before) + [
        ImportProblem(None, record_id, "enrollment", "", RECORD_ID, record_id,
                      record_taken(record_id) if record_id in unseen else NOT_YOURS)
        for record_id in hidden
    ] + [
        problem for problem in result.problems
        if problem.record not in hidden
        and (problem.record, problem.instrument, problem.instance, problem.field) not in already
        and (problem.record, problem.instrument, "", problem.field) not in already
    ]
    if problems or dry_run:
        transaction.set_rollback(True)
        return UpsertResult(result=result, problems=problems)
    return UpsertResult(result=result, versions=_versions_after(record_ids))


def flat_json(rows: Sequence[dict[str, str]]) -> io.BytesIO:
    """Flat rows as the REDCap JSON file the import reads."""
    return io.BytesIO(json.dumps(list(rows)).encode("utf-8"))


def instance_row(record: str, form: str, instance: int, cells: dict[str, str]) -> dict[str, str]:
    """The flat row of one repeating instrument instance."""
    return {RECORD_ID: record, REPEAT_INSTRUMENT: form, REPEAT_INSTANCE: str(instance), **cells}


@transaction.atomic
def record_instance_create(
    *, patient: Patient, form: str, cells: dict[str, str], user, door: str,
    expected_version: Collection[str] | None = None,
    problems_before: Sequence[ImportProblem] = (),
) -> tuple[UpsertResult, int]:
    """A new instance of repeating instrument `form`, numbered after the patient's highest (under the
    record's lock, so two creators never take the same number); returns it and its number."""
    locked, _ = _lock([patient.record_id], user)
    _check_versions(locked, _expected(patient.record_id, expected_version))
    model = INSTRUMENTS[form].model
    highest = model.objects.filter(patient=patient).aggregate(highest=Max(REPEAT_INSTANCE))["highest"]
    number = (highest or 0) + 1
    outcome = records_upsert(
        source=flat_json([{RECORD_ID: patient.record_id}, instance_row(patient.record_id, form, number, cells)]),
        file_format="json", record_ids=[patient.record_id], user=user, door=door, site=patient.site,
        problems_before=problems_before,
    )
    return outcome, number


@transaction.atomic
def record_instance_update(
    *, patient: Patient, form: str, instance: int, cells: dict[str, str], user, door: str,
    expected_version: Collection[str] | None, problems_before: Sequence[ImportProblem] = (),
) -> UpsertResult:
    """Changes the given fields of an existing instance (a blank value erases); raises
    InstanceNotFound when the instance does not exist (then nothing is created)."""
    locked, _ = _lock([patient.record_id], user)
    _check_versions(locked, _expected(patient.record_id, expected_version))
    if not INSTRUMENTS[form].model.objects.filter(patient=patient, redcap_repeat_instance=instance).exists():
        raise InstanceNotFound(f"{patient.record_id} has no {form} instance {instance}")
    return records_upsert(
        source=flat_json([{RECORD_ID: patient.record_id}, instance_row(patient.record_id, form, instance, cells)]),
        file_format="json", record_ids=[patient.record_id], user=user, door=door, site=patient.site,
        overwrite_behavior="overwrite", problems_before=problems_before,
    )


@transaction.atomic
def record_update(
    *, patient: Patient, cells: dict[str, str], user, door: str, expected_version: Collection[str] | None,
    problems_before: Sequence[ImportProblem] = (),
) -> UpsertResult:
    """Changes the given fields of the record row (enrollment and vital status); a blank value erases."""
    return records_upsert(
        source=flat_json([{RECORD_ID: patient.record_id, **cells}]), file_format="json",
        record_ids=[patient.record_id], user=user, door=door, site=patient.site, overwrite_behavior="overwrite",
        expected_versions=_expected(patient.record_id, expected_version),
        problems_before=problems_before,
    )


@transaction.atomic
def record_instance_delete(
    *, patient: Patient, form: str, instance: int, user, door: str, expected_version: Collection[str] | None,
) -> int:
    """Deletes one instance and what names it (see DEPENDANTS), each with an audit-trail entry by
    `user` with the reason `door`; returns how many rows were deleted. The user must be allowed to
    change the patient's site (PermissionDenied otherwise); InstanceNotFound when there is none."""
    if not access_for(user).can_change_site(patient.site_id):
        raise PermissionDenied(f"You may not change the records of {patient.record_id}.")
    locked, _ = _lock([patient.record_id], user)
    _check_versions(locked, _expected(patient.record_id, expected_version))
    target = INSTRUMENTS[form].model.objects.filter(patient=patient, redcap_repeat_instance=instance).first()
    if target is None:
        raise InstanceNotFound(f"{patient.record_id} has no {form} instance {instance}")
    deleted = []
    if form in DEPENDANTS:
        model, attribute = DEPENDANTS[form]
        deleted.extend(model.objects.filter(**{attribute: target}))
    deleted.append(target)
    locked_data_refuse(deleted=deleted)  # RecordLocked: nothing deleted
    queries_close_on_deletion(deleted=deleted, user=user, door=door)  # their open queries: closed by the system
    for row in deleted:
        instance_remove(row, user=user, door=door)
    records_written(*deleted)
    return len(deleted)


@transaction.atomic
def record_delete(*, patient: Patient, user, door: str, expected_version: Collection[str] | None) -> None:
    """Deletes the whole record (records_delete: administrators only, PermissionDenied otherwise)."""
    locked, _ = _lock([patient.record_id], user)
    _check_versions(locked, _expected(patient.record_id, expected_version))
    records_delete(record_ids=[patient.record_id], user=user, door=door)
