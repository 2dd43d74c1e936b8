"""Import and export of REDCap flat records (CSV or JSON): the one door for every caller.

The admin upload, the REDCap-compatible API and the management commands all call these two
functions; the format itself lives in registry/records/.
"""
import logging
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, transaction

from registry.models import DataCut
from registry.models import (
    Biopsy, ExportDoor, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, Role, Site, TreatmentLine,
    TumorAssessment,
)
from registry.records.flat_export import WRITERS, coded_checkbox_fields, export_columns, flat_rows, projected
from registry.records.flat_import import FlatImport
from registry.records.import_result import ImportProblem, ImportResult, InstanceChange
from registry.records.instruments import RECORD_ID
from registry.selectors.access import access_for, restrict_to_visible
from registry.selectors.data_cuts import cut_coded_checkbox_fields, cut_flat_rows, visible_entries
from registry.selectors.export_access import check_export_allowed
from registry.selectors.record_export import export_scope
from registry.services.derivation import patients_changed
from registry.services.identified_exports import identified_export_log
from registry.services.locks import locked_data_refuse
from registry.services.patient_versions import patients_lock, patients_version_bump
from registry.services.queries import queries_close_on_deletion
from registry.services.soft_checks import written_warnings

__all__ = ["ImportProblem", "ImportResult", "InstanceChange", "records_delete", "records_export", "records_import"]

# Deleted before the patient, dependants first, so that each deletion keeps its user and door.
INSTRUMENT_MODELS = (LesionMeasurement, NgsVariant, Lesion, TumorAssessment, Biopsy, LocalTherapy, TreatmentLine)

OVERWRITE_BEHAVIORS = ("normal", "overwrite")
logger = logging.getLogger(__name__)


# A record of the file created by a concurrent request between the import's checks and its insert:
# the unique index on the record ID refused the insert (which record, the database says only in its
# own words). Every door reports it as it reports any problem; nothing was written.
CREATED_MEANWHILE = (
    "names a record that another request created at the same time (record IDs are unique in the registry); "
    "nothing was written: send the records again"
)


# An import holds the records of each chunk it reads (their row locks) until it ends: a concurrent
# writer holding one of them while it waits for another the import already holds closes a cycle,
# which PostgreSQL breaks by aborting one of the two (SQLSTATE 40P01). When the import is the one
# aborted, every door reports it as any problem; nothing was written.
DEADLOCK_DETECTED = "40P01"
WRITTEN_MEANWHILE = (
    "names records that another request was writing at the same time, and the two waited for each other; "
    "nothing was written: send the records again"
)


def records_import(
    *, source, file_format: str, site: Site | None, user, dry_run: bool = False,
    overwrite_behavior: str = "normal", door: str = "import", file_name: str = "",
    max_changes: int = 1000, max_problems: int = 10000, sites_by_record: Mapping[str, Site] | None = None,
) -> ImportResult:
    """Checks every row of a flat file and writes all of it, or nothing when any row has a problem.

    `source` is a path or a seekable binary file (it is read several times). `site` is where new
    records are created (None: the file may only change existing records). `user` None is the
    system, with full access; otherwise the user must be allowed to change `site` (PermissionDenied).
    Every written row gets an audit-trail entry by `user` with the reason "<door>: <file name>".
    The result's `warnings` are the soft checks of the values written that no one has confirmed yet
    (registry/records/soft_checks.py): accepted values, answered by every door as warnings.
    `sites_by_record` names a site for some records (REDCap's redcap_data_access_group): instead of
    `site`, a new one of them goes there and an existing one must already be there; `user` must be
    allowed to change each of these sites too.
    """
    try:
        return _records_import(
            source=source, file_format=file_format, site=site, user=user, dry_run=dry_run,
            overwrite_behavior=overwrite_behavior, door=door, file_name=file_name, max_changes=max_changes,
            max_problems=max_problems, sites_by_record=sites_by_record,
        )
    except IntegrityError as error:
        if "record_id" not in str(error):  # not the unique record ID: a missed check, to be seen as one
            raise
        # _records_import's savepoint (or transaction) is rolled back: nothing of the file stays.
        logger.warning("Import refused: a record of it was created meanwhile by a concurrent request: %s", error)
        return ImportResult(dry_run=dry_run, problems=[
            ImportProblem(None, "", "enrollment", "", RECORD_ID, "", CREATED_MEANWHILE)])
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
            raise
        # _records_import's savepoint (or transaction) is rolled back: nothing of the file stays.
        logger.warning("Import refused: it and a concurrent request waited for each other's records: %s", error)
        return ImportResult(dry_run=dry_run, problems=[
            ImportProblem(None, "", "", "", RECORD_ID, "", WRITTEN_MEANWHILE)])


@transaction.atomic
def _records_import(
    *, source, file_format: str, site: Site | None, user, dry_run: bool, overwrite_behavior: str, door: str,
    file_name: str, max_changes: int, max_problems: int, sites_by_record: Mapping[str, Site] | None,
) -> ImportResult:
    """records_import without the translation of a concurrent create."""
    if file_format not in ("csv", "json"):
        raise ValueError(f"file_format must be 'csv' or 'json', not {file_format!r}")
    if overwrite_behavior not in OVERWRITE_BEHAVIORS:
        raise ValueError(f"overwrite_behavior must be one of {OVERWRITE_BEHAVIORS}, not {overwrite_behavior!r}")
    if user is not None:
        access = access_for(user)
        if not access.can_write or (site is not None and not access.can_change_site(site.id)):
            raise PermissionDenied(f"You may not change the records of {site.code if site else 'any site'}.")
        for named in set((sites_by_record or {}).values()):
            if not access.can_change_site(named.id):
                raise PermissionDenied(f"You may not change the records of {named.code}.")
    if not file_name and isinstance(source, (str, Path)):
        file_name = Path(source).name
    result = FlatImport(
        source=source, file_format=file_format, site=site, user=user,
        overwrite=overwrite_behavior == "overwrite", change_reason=f"{door}: {file_name}" if file_name else door,
        max_changes=max_changes, max_problems=max_problems, dry_run=dry_run, sites_by_record=sites_by_record,
    ).run()
    if not result.problems:
        # What was written, checked as the workspace would ask (a dry run too: the rows are still
        # there until the rollback below). Accepted values; the caller answers them as warnings.
        result.warnings = written_warnings(result.written_ids)
    if dry_run or result.problems:
        # All or nothing: the rows already written were only there so later rows could be checked
        # against them.
        transaction.set_rollback(True)
    else:  # the derived results of every patient written are derived again once this commits
        written = Patient.objects.filter(record_id__in=result.written_records).values_list("id", flat=True)
        patients_changed(written)
        patients_version_bump(written)  # and their records' versions (the REST API's ETags) change
    return result


def records_export(
    *, output, user=None, site: Site | None = None, records=None, file_format: str = "csv",
    door: ExportDoor | str = ExportDoor.SERVICE, parameters: Mapping | None = None, cut: DataCut | None = None,
) -> int:
    """Writes the flat export of the patients `user` may see (None: every patient) to the text
    stream `output`, optionally only one site's or the listed record IDs; returns the row count.

    The flat export holds identified data (identifier fields, real record IDs and dates): raises
    ExportNotAllowed, before writing anything, for a user who may export de-identified data only
    (registry/selectors/export_access.py). Each export is logged as an identified export through
    `door`, with `parameters` (what it was asked with), once written. `cut`: the records as that frozen
    data cut stored them (registry/selectors/data_cuts.py), the sites being theirs at the freeze."""
    if file_format not in WRITERS:
        raise ValueError(f"file_format must be 'csv' or 'json', not {file_format!r}")
    check_export_allowed(user, deidentified=False)
    if cut is None:
        patients = export_scope(user=user, site=site)
        if records is not None:
            patients = patients.filter(record_id__in=list(records))
        rows, site_codes = flat_rows(patients), patients.values_list("site__code", flat=True).distinct()
        columns = export_columns(coded_checkbox_fields(patients))
    else:
        entries = visible_entries(cut, user=user, site=site)
        if records is not None:
            entries = entries.filter(record_id__in=list(records))
        rows, site_codes = cut_flat_rows(entries), entries.values_list("site_code", flat=True).distinct()
        columns = export_columns(cut_coded_checkbox_fields(entries))
    exported_records: set[str] = set()

    def counted(rows):
        for row in rows:
            exported_records.add(row[0])
            yield row

    # A checkbox field's missing-data code columns are written when a record exported holds such a code.
    count = WRITERS[file_format](output, counted(projected(rows, columns)), columns)
    identified_export_log(
        user=user, door=door, content="records", file_format=file_format,
        site_codes=site_codes, record_count=len(exported_records),
        parameters={"rows": count, **(parameters or {}), **({"cut": cut.name} if cut is not None else {})},
    )
    return count


@transaction.atomic
def records_delete(*, record_ids, user, door: str = "delete") -> list[str]:
    """Deletes whole records (the patient and every instrument instance of it), all or nothing;
    returns the record IDs deleted, in the order given, each once.

    Only administrators delete records (as in the admin: a deletion takes every instrument with it).
    `user` None is the system. Raises PermissionDenied for anyone else, and LookupError naming every
    record ID that does not exist or that `user` may not see, and RecordLocked when any of them has a
lock in force (registry/services/locks.py); then nothing is deleted. Every deleted
    row gets an audit-trail entry by `user` with the reason `door`.
    """
    wanted = list(dict.fromkeys(str(record_id) for record_id in record_ids))
    if user is not None and access_for(user).role != Role.ADMINISTRATOR:
        raise PermissionDenied("Only administrators delete records.")
    patients = Patient.objects.filter(record_id__in=wanted)
    if user is not None:
        patients = restrict_to_visible(patients, user, site_path="site_id")
    found = {patient.record_id: patient for patient in patients}
    missing = [record_id for record_id in wanted if record_id not in found]
    if missing:
        raise LookupError(f"No record with the ID {', '.join(missing)}")
    patients_lock(patient.pk for patient in found.values())
    # A record with anything locked in it is not deleted (RecordLocked names the locks; nothing deleted).
    locked_data_refuse(deleted=found.values())
    # Their open queries are closed by the system first: the queries go with the record (the database
    # cascades), and the history rows of the queries keep that close, by whom and why.
    queries_close_on_deletion(deleted=found.values(), user=user, door=door)
    for record_id in wanted:
        patient = found[record_id]
        _delete_with_history(patient, user=user, reason=door)
    return wanted


def _delete_with_history(patient: Patient, *, user, reason: str) -> None:
    for model in INSTRUMENT_MODELS:
        for instance in model.objects.filter(patient=patient):
            instance._history_user = user
            instance._change_reason = reason
            instance.delete()
    patient._history_user = user
    patient._change_reason = reason
    patient.delete()
