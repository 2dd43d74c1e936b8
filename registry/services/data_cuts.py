"""Freezing a data cut (issue 12 §6): the records and their derived results as they stand now,
stored unchanged for every later export and report made from the cut.

    data_cut_freeze(name=, cutoff=None, locked_only=False, user=None) -> DataCut

A cut never re-derives: it stores, per record, what the live exports would write now (each
exportable dataset's rows, registry/exports/catalog.py), the study report's view of the patient
(registry/selectors/study_cohort.py) and what its results were derived with; and the record's
canonical content (registry/records/record_content.py). Each content is a content-addressed blob
(registry/exports/cut_content.py), stored once however many cuts hold it; the cut itself is an
index of (record, site, record blob, results blob). Reading a cut: registry/selectors/data_cuts.py.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date

from django.db import transaction
from django.utils import timezone

from registry.derive import RULES_VERSION
from registry.exports.catalog import dataset_names, exportable
from registry.exports.cut_content import canonical_bytes, compressed, sha256_hex
from registry.exports.datasets import BATCH_PATIENTS, ExportPatient, export_patients
from registry.models import DataCut, DataCutBlob, DataCutEntry, DataCutScope, Patient, PatientDerivation, Role
from registry.records.record_content import record_contents
from registry.selectors.access import access_for
from registry.selectors.derivation_inputs import analysis_settings_from, settings_snapshot, stored_analysis_settings
from registry.selectors.locks import locked_patient_ids
from registry.selectors.study_cohort import StudyPatient, study_cohort

NAME_MAX_CHARACTERS = 100


class DataCutRefused(ValueError):
    """A cut that may not be frozen as asked; the message says why. Nothing was written."""


def data_cut_may_freeze(user) -> bool:
    """Administrators freeze cuts; None is the system (the command line)."""
    return user is None or access_for(user).role == Role.ADMINISTRATOR


@transaction.atomic
def data_cut_freeze(*, name: str, cutoff: date | None = None, locked_only: bool = False, user=None) -> DataCut:
    """Freezes the cut `name` of every record (or, `locked_only`, of the locked records) with their
    stored results, all or nothing.

    `cutoff`: the data cut-off the results were derived with, which the analysis settings hold;
    given, it must be that one (a check that the cut is the one meant). Raises DataCutRefused (not an
    administrator, a blank, too long or taken name, no or another cut-off, no record to freeze)
    before anything is written.
    Results stale or missing when frozen are stored as they are, and counted on the cut.
    """
    if not data_cut_may_freeze(user):
        raise DataCutRefused(f"{user.get_username()} may not freeze a data cut: only administrators may")
    name = (name or "").strip()
    if not name:
        raise DataCutRefused("A data cut needs a name")
    if len(name) > NAME_MAX_CHARACTERS:
        raise DataCutRefused(f"The name {name!r} is longer than {NAME_MAX_CHARACTERS} characters")
    if DataCut.objects.filter(name=name).exists():
        raise DataCutRefused(f"A data cut named {name!r} exists already; a cut is never replaced, choose another name")
    stored = stored_analysis_settings()
    if stored.data_cutoff is None:
        raise DataCutRefused("The analysis settings have no data cut-off: set one and derive before freezing a cut")
    if cutoff is not None and cutoff != stored.data_cutoff:
        raise DataCutRefused(
            f"The cut-off {cutoff.isoformat()} is not the one the results are derived with "
            f"({stored.data_cutoff.isoformat()}): change the analysis settings' data cut-off and derive first"
        )

    patients = Patient.objects.all()
    if locked_only:
        patients = patients.filter(id__in=list(locked_patient_ids()))
    exported = export_patients(patients)
    if not exported:
        raise DataCutRefused("No record is locked: a cut of locked records only would be empty" if locked_only
                             else "The registry holds no record to freeze")
    site_ids = dict(patients.order_by().values_list("id", "site_id"))
    cohort = {patient.record_id: patient for patient in study_cohort(user=None).patients}

    entries: list[DataCutEntry] = []
    index: list[list[str]] = []
    new_bytes = stale = not_derived = 0
    for start in range(0, len(exported), BATCH_PATIENTS):
        batch = exported[start:start + BATCH_PATIENTS]
        results, batch_stale, batch_not_derived = _results_contents(batch, cohort)
        stale += batch_stale
        not_derived += batch_not_derived
        records = dict(record_contents(Patient.objects.filter(id__in=[patient.id for patient in batch])))
        blob_ids, written = _blobs_stored([*records.values(), *results.values()])
        new_bytes += written
        for patient in batch:
            record_hash = sha256_hex(records[patient.record_id])
            results_hash = sha256_hex(results[patient.record_id])
            entries.append(DataCutEntry(
                record_id=patient.record_id, site_id=site_ids[patient.id], site_code=patient.site_code,
                record_blob_id=blob_ids[record_hash], results_blob_id=blob_ids[results_hash],
            ))
            index.append([patient.record_id, patient.site_code, record_hash, results_hash])

    cut = DataCut(
        name=name, cutoff=stored.data_cutoff, scope=DataCutScope.LOCKED if locked_only else DataCutScope.ALL,
        rules_version=RULES_VERSION, settings_snapshot=settings_snapshot(analysis_settings_from(stored)),
        patients=len(entries), stale_patients=stale, not_derived_patients=not_derived, new_blob_bytes=new_bytes,
        frozen_at=timezone.now(), frozen_by=user,
    )
    cut.content_hash = cut_content_hash(cut, index)
    cut.full_clean()
    cut.save()
    for entry in entries:
        entry.cut = cut
    DataCutEntry.objects.bulk_create(entries, batch_size=2000)
    return cut


def cut_content_hash(cut: DataCut, index: Iterable[Sequence[str]]) -> str:
    """SHA-256 of the cut's canonical index: its cut-off, scope, rules version and settings, and per
    record (in record ID order) its ID, site code and the hashes of its two blobs. The name and the
    time of freezing are not content: two cuts of the same records and results have the same hash."""
    return sha256_hex(canonical_bytes({
        "cutoff": cut.cutoff, "scope": cut.scope, "rules_version": cut.rules_version,
        "settings_snapshot": cut.settings_snapshot, "records": [list(row) for row in index],
    }))


def _results_contents(
    batch: Sequence[ExportPatient], cohort: dict[str, StudyPatient],
) -> tuple[dict[str, bytes], int, int]:
    """Each patient's results blob content, by record ID, with the batch's stale and underived
    counts. One query per exportable dataset and one for the derivations."""
    rows: dict[str, dict[str, list]] = defaultdict(dict)
    for name in dataset_names():
        dataset = exportable(name).dataset
        record_index = dataset.columns.index("record_id")
        for row in dataset.batch_rows(batch):
            rows[row[record_index]].setdefault(name, []).append(list(row))
    derivations = {
        patient_id: {"rules_version": rules_version, "data_cutoff": cutoff.isoformat() if cutoff else None,
                     "settings_snapshot": snapshot, "is_stale": is_stale}
        for patient_id, rules_version, cutoff, snapshot, is_stale in PatientDerivation.objects.filter(
            patient_id__in=[patient.id for patient in batch],
        ).order_by().values_list("patient_id", "rules_version", "data_cutoff", "settings_snapshot", "is_stale")
    }
    contents = {}
    for patient in batch:
        study = cohort.get(patient.record_id)
        contents[patient.record_id] = canonical_bytes({
            "datasets": rows.get(patient.record_id, {}),
            "derivation": derivations.get(patient.id),
            "study": asdict(study) if study is not None else None,
        })
    stale = sum(derivation["is_stale"] for derivation in derivations.values())
    return contents, stale, len(batch) - len(derivations)


def _blobs_stored(contents: Iterable[bytes]) -> tuple[dict[str, int], int]:
    """Stores the contents not stored yet; returns every content's blob id by hash and the compressed
    bytes newly stored. Two queries, three when something is new."""
    by_hash = {sha256_hex(content): content for content in contents}
    ids = dict(DataCutBlob.objects.filter(sha256__in=list(by_hash)).values_list("sha256", "id"))
    new = [
        DataCutBlob(sha256=sha256, data=compressed(content), size_bytes=len(content))
        for sha256, content in by_hash.items() if sha256 not in ids
    ]
    if new:
        DataCutBlob.objects.bulk_create(new)
        ids.update(DataCutBlob.objects.filter(sha256__in=[blob.sha256 for blob in new]).values_list("sha256", "id"))
    return ids, sum(len(blob.data) for blob in new)
