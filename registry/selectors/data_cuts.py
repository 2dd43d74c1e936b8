"""Reading a frozen data cut: its records as exported patients, a dataset's rows, the provenance and
the study report's cohort, exactly as they were stored when the cut was frozen (nothing here reads a
live record or derives).

Each patient's results blob (registry/services/data_cuts.py) holds its rows of every exportable
dataset, its derivation's provenance and, in cohort 1 or 2, the study report's view of it. Reads go a
batch of patients at a time, one query per batch (the entries joined to their results blobs), like
the live datasets. The access rule is the live one (registry/selectors/access.py), applied to the
site each record had when the cut was frozen.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from registry.exports.datasets import unique_subject_id
from registry.exports.cut_content import decompressed, from_canonical_bytes
from registry.exports.datasets import BATCH_PATIENTS, Dataset, ExportPatient
from registry.exports.provenance import grouped_provenance
from registry.models import DataCut, DataCutEntry, Site
from registry.records.instruments import all_flat_columns, missing_code_columns
from registry.selectors.access import restrict_to_visible
from registry.selectors.study_cohort import StudyBiopsy, StudyCohort, StudyLine, StudyPatient


class DataCutNotFound(ValueError):
    """No data cut of that name; the message names it."""


def data_cut_named(name: str) -> DataCut:
    """The cut called `name` (one query). Raises DataCutNotFound."""
    cut = DataCut.objects.filter(name=name).first()
    if cut is None:
        raise DataCutNotFound(f"No data cut is named {name!r}")
    return cut


def data_cut_description(cut: DataCut) -> dict:
    """What an export or report made from `cut` says about it (its provenance)."""
    return {
        "name": cut.name,
        "content_hash": cut.content_hash,
        "cutoff": cut.cutoff.isoformat(),
        "scope": cut.scope,
        "rules_version": cut.rules_version,
        "frozen_at": cut.frozen_at.isoformat(timespec="seconds"),
        "patients": cut.patients,
    }


def visible_entries(cut: DataCut, *, user=None, site: Site | None = None) -> QuerySet[DataCutEntry]:
    """The cut's records `user` may see (None: the system, every record), optionally of `site` only."""
    entries = DataCutEntry.objects.filter(cut=cut)
    if user is not None:
        entries = restrict_to_visible(entries, user, site_path="site_id")
    if site is not None:
        entries = entries.filter(site=site)
    return entries


def cut_export_patients(cut: DataCut, *, user=None, site: Site | None = None) -> list[ExportPatient]:
    """The cut's records to export, as registry/exports/datasets.py's patients (their `id` is the
    entry's), in record ID code-point order as the live export orders them. One query."""
    return sorted(
        ExportPatient._make(values)
        for values in visible_entries(cut, user=user, site=site).order_by().values_list("record_id", "id", "site_code")
    )


def _results(entry_ids: Sequence[int]) -> dict[int, dict]:
    """The decoded results blob of each entry, by entry id: one query."""
    return {
        entry_id: from_canonical_bytes(decompressed(data))
        for entry_id, data in DataCutEntry.objects.filter(id__in=entry_ids).values_list("id", "results_blob__data")
    }


@dataclass(frozen=True)
class _CutRows:
    """A dataset's rows as the cut stored them. The columns that name the patient (record ID, and the
    ADaM subjid and usubjid `studyid-record ID`) are written from the exported patient, so that a
    de-identified export's pseudonyms replace them as in a live export."""

    name: str
    record_id_index: int
    subjid_index: int | None = None
    usubjid_indexes: tuple[int, int] | None = None  # (usubjid, studyid)

    def __call__(self, batch: Sequence[ExportPatient]) -> Iterator[list]:
        results = _results([patient.id for patient in batch])
        for patient in batch:
            for row in results[patient.id]["datasets"].get(self.name, ()):
                row[self.record_id_index] = patient.record_id
                if self.subjid_index is not None:
                    row[self.subjid_index] = patient.record_id
                if self.usubjid_indexes is not None:
                    usubjid_index, studyid_index = self.usubjid_indexes
                    row[usubjid_index] = unique_subject_id(row[studyid_index], patient.record_id)
                yield row


def cut_dataset(dataset: Dataset) -> Dataset:
    """`dataset` with its rows read from a cut's results blobs (the patients passed are a cut's)."""
    columns = dataset.columns
    return Dataset(dataset.name, columns, _CutRows(
        dataset.name, columns.index("record_id"),
        subjid_index=columns.index("subjid") if "subjid" in columns else None,
        usubjid_indexes=(columns.index("usubjid"), columns.index("studyid")) if "usubjid" in columns else None,
    ))


def _derivations(entry_ids: Sequence[int], *, batch_patients: int | None = None) -> Iterator[dict]:
    size = batch_patients or BATCH_PATIENTS
    for start in range(0, len(entry_ids), size):
        for results in _results(entry_ids[start:start + size]).values():
            if results["derivation"] is not None:
                yield results["derivation"]


def cut_derivation_provenance(entry_ids: Sequence[int], *, batch_patients: int | None = None) -> dict:
    """registry/exports/provenance.py's provenance of the given entries, as their results were stored."""
    return grouped_provenance(
        ((derivation["rules_version"], derivation["data_cutoff"], derivation["settings_snapshot"],
          derivation["is_stale"]) for derivation in _derivations(entry_ids, batch_patients=batch_patients)),
        patients=len(entry_ids),
    )


def study_patient_from_stored(stored: dict) -> StudyPatient:
    return StudyPatient(**{
        **stored,
        "lines": tuple(StudyLine(**line) for line in stored["lines"]),
        "biopsies": tuple(StudyBiopsy(**biopsy) for biopsy in stored["biopsies"]),
    })


def cut_study_cohort(cut: DataCut, *, user=None) -> StudyCohort:
    """registry/selectors/study_cohort.py's cohort as the cut stored it, over the records `user` may
    see. One query for the entries, one per batch of them."""
    entry_ids = [entry_id for _, entry_id, _ in cut_export_patients(cut, user=user)]
    found = []
    for start in range(0, len(entry_ids), BATCH_PATIENTS):
        for results in _results(entry_ids[start:start + BATCH_PATIENTS]).values():
            if results["study"] is None:
                continue
            derivation = results["derivation"]
            found.append((
                study_patient_from_stored(results["study"]),
                (derivation["rules_version"], derivation["data_cutoff"] or "",
                 json.dumps(derivation["settings_snapshot"], sort_keys=True), derivation["is_stale"]),
            ))
    found.sort(key=lambda pair: pair[0].record_id)
    return StudyCohort(patients=tuple(patient for patient, _ in found),
                       derivations=tuple(derivation for _, derivation in found))


def cut_flat_rows(entries: QuerySet[DataCutEntry]) -> Iterator[list[str]]:
    """The REDCap flat rows of the given entries' records as the cut stored them, in record ID
    code-point order, cells in today's `all_flat_columns()` order (a column added to the dictionary since
    is blank). One query for the entries, one per batch of them."""
    columns = all_flat_columns()
    entry_ids = [entry_id for _, entry_id in sorted(entries.order_by().values_list("record_id", "id"))]
    for start in range(0, len(entry_ids), BATCH_PATIENTS):
        batch = entry_ids[start:start + BATCH_PATIENTS]
        contents = dict(DataCutEntry.objects.filter(id__in=batch).values_list("id", "record_blob__data"))
        for entry_id in batch:
            for cells in json.loads(decompressed(contents[entry_id])):
                yield [cells.get(column, "") for column in columns]


def cut_coded_checkbox_fields(entries: QuerySet[DataCutEntry]) -> frozenset[str]:
    """The checkbox fields in which a record of the cut's entries held a missing-data code (its code
    column holds 1), read before the export writes its header: one query per batch of entries."""
    owners = missing_code_columns()
    used = set()
    entry_ids = list(entries.order_by().values_list("id", flat=True))
    for start in range(0, len(entry_ids), BATCH_PATIENTS):
        batch = entry_ids[start:start + BATCH_PATIENTS]
        for data in DataCutEntry.objects.filter(id__in=batch).values_list("record_blob__data", flat=True):
            for cells in json.loads(decompressed(data)):
                used.update(owners[name][0] for name, cell in cells.items() if cell == "1" and name in owners)
    return frozenset(used)


def cut_visible_patient_count(cut: DataCut, *, user=None) -> int:
    return visible_entries(cut, user=user).count()
