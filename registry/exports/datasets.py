"""The five analysis datasets of derivation rules §8: their columns, in §8's order, and their rows.

Every dataset is read a batch of patients at a time, with one query per batch whatever the batch
holds (the raw records LEFT JOINed to their stored derivations, `.values_list` only). Rows are
ordered by record_id in Python (code-point order, so SQLite and PostgreSQL agree whatever their
collation), then by line number or date. Only the (record_id, id, site code) of every exported
patient is held for the whole export; rows are built and written one batch at a time.

Which rows a dataset has:
- `lines`, `endpoints`, `biopsies`, `patients`: one per raw record (line, line × endpoint, biopsy,
  patient). A record with no stored derivation yet (not derived, or dated after the data cut-off)
  still has its row, with its raw columns filled and the derived ones blank.
- `assessments`: one per stored assessment derivation (an assessment in one line's window, §1;
  one on the next line's start day is in two), since which line an assessment belongs to is itself
  derived. Its `line_no` and `ta_date` are the raw ones, so that it joins `lines` on the same keys.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Model, QuerySet

from registry.models import AssessmentDerivation, Biopsy, Patient, TreatmentLine
from registry.records.missing_codes import Coded, code_companion

BATCH_PATIENTS = 500  # patients read together: one query for all their rows

# Column sources that are not lookups: they come from the exported patient itself.
RECORD_ID = "<record_id>"
SITE = "<site code>"


class ExportPatient(NamedTuple):
    """One exported patient; tuples of these sort by record_id first."""

    record_id: str
    id: int
    site_code: str


def export_patients(patients: QuerySet[Patient]) -> list[ExportPatient]:
    """The patients to export, ordered by record_id in code-point order (one query)."""
    return sorted(
        ExportPatient._make(values)
        for values in patients.order_by().values_list("record_id", "id", "site__code")
    )


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[str, ...]
    # The rows of one batch of patients (in their order), as values in `columns` order: one query.
    batch_rows: Callable[[Sequence[ExportPatient]], Iterator[list]]

    def rows(
        self, patients: Sequence[ExportPatient], *, batch_patients: int | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list]:
        """Every row of `patients`, a batch at a time; `on_batch(patients done)` after each batch."""
        size = batch_patients or BATCH_PATIENTS
        for start in range(0, len(patients), size):
            yield from self.batch_rows(patients[start:start + size])
            if on_batch is not None:
                on_batch(min(start + size, len(patients)))


@dataclass(frozen=True)
class RecordRows:
    """Rows that are one record of `model` each, with their columns read by lookups from it."""

    model: type[Model]
    sources: tuple[tuple[str, str], ...]  # (column, lookup from `model`, RECORD_ID or SITE)
    patient_lookup: str  # from `model` to the patient id
    order_by: tuple[str, ...]  # within a patient

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.sources)

    def __call__(self, batch: Sequence[ExportPatient]) -> Iterator[list]:
        lookups = [source for _, source in self.sources if source not in (RECORD_ID, SITE)]
        # A raw field that takes a missing-data code is read with its code (one more column of the same
        # query); a coded cell is Coded(code): blank in CSV, Excel, Parquet and Stata, user-missing in SPSS.
        # A checkbox option's code is its field's: every option of a coded checkbox is Coded(code).
        coded = [(position, companion) for position, lookup in enumerate(lookups)
                 if (companion := code_companion(self.model, lookup)) is not None]
        companions = list(dict.fromkeys(companion for _, companion in coded))  # each read once
        coded = [(position, companions.index(companion)) for position, companion in coded]
        values_by_patient = _values_by_patient(
            self.model.objects.filter(**{f"{self.patient_lookup}__in": [patient.id for patient in batch]})
            .order_by(*self.order_by, "id")
            .values_list(self.patient_lookup, *lookups, *companions)
        )
        for patient in batch:
            for values in values_by_patient.get(patient.id, ()):
                if coded:
                    values = _with_codes(values, coded, len(lookups))
                found = iter(values)
                yield [
                    patient.record_id if source == RECORD_ID else patient.site_code if source == SITE else next(found)
                    for _, source in self.sources
                ]


def _with_codes(values, coded: list[tuple[int, int]], width: int) -> list:
    """The row's values (the codes' columns after `width`) with each coded value as Coded(code); `coded`
    pairs a value's position with its code's, counted from `width`."""
    values = list(values)
    for position, number in coded:
        code = values[width + number]
        if code:
            values[position] = Coded(code)
    return values[:width]


def _values_by_patient(values_list: QuerySet) -> dict[int, list[tuple]]:
    """Runs the query (its first value is the patient id) and groups the rest of each row by patient."""
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for patient_id, *values in values_list:
        grouped[patient_id].append(values)
    return grouped


LINE_ROWS = RecordRows(
    model=TreatmentLine,
    patient_lookup="patient_id",
    order_by=("line_no",),
    sources=(
        ("record_id", RECORD_ID),
        ("site", SITE),
        ("line_no", "line_no"),
        ("line_type", "line_type"),
        ("line_drug", "line_drug"),
        ("tki_generation", "derivation__tki_generation"),
        ("line_start", "line_start"),
        ("line_end", "line_end"),
        ("line_end_reason", "line_end_reason"),
        ("line_ecog", "line_ecog"),
        ("cns_mets_at_start", "line_cns_mets"),
        ("age_at_start", "derivation__age_at_start"),
        ("histology_at_start", "derivation__histology_at_start"),
        ("baseline_date", "derivation__baseline_date"),
        ("cohort", "patient__derivation__cohort"),
        ("subsequent_to_index", "derivation__subsequent_to_index"),
        ("pd_date", "derivation__pd_date"),
        ("best_response", "derivation__best_response"),
        ("extent", "derivation__extent"),
        ("n_progressing_lesions", "derivation__n_progressing_lesions"),
        ("cns_progression", "derivation__cns_progression"),
        ("cns_only_progression", "derivation__cns_only_progression"),
        ("symptomatic_progression", "derivation__symptomatic_progression"),
        ("symptomatic_cns_progression", "derivation__symptomatic_cns_progression"),
        ("local_therapy_for_pd", "derivation__local_therapy_for_pd"),
        ("continued_beyond_pd", "derivation__continued_beyond_pd"),
        ("beyond_pd_days", "derivation__beyond_pd_days"),
        ("pfs_days", "derivation__pfs_days"),
        ("pfs_months", "derivation__pfs_months"),
        ("pfs_event", "derivation__pfs_event"),
        ("pfs_censor_reason", "derivation__pfs_censor_reason"),
        ("os_days", "derivation__os_days"),
        ("os_months", "derivation__os_months"),
        ("os_event", "derivation__os_event"),
    ),
)

ASSESSMENT_ROWS = RecordRows(
    model=AssessmentDerivation,
    patient_lookup="patient_id",
    order_by=("line__line_no", "assessment__ta_date"),
    sources=(
        ("record_id", RECORD_ID),
        ("line_no", "line__line_no"),
        ("ta_date", "assessment__ta_date"),
        ("target_sum_mm", "target_sum_mm"),
        ("pct_change_baseline", "pct_change_baseline"),
        ("pct_change_nadir", "pct_change_nadir"),
        ("target_response", "target_response"),
        ("nontarget_response", "nontarget_response"),
        ("new_lesions", "new_lesions"),
        ("overall_response", "overall_response"),
        ("response_source", "response_source"),
        ("discrepancy", "discrepancy"),
    ),
)

BIOPSY_ROWS = RecordRows(
    model=Biopsy,
    patient_lookup="patient_id",
    order_by=("bx_date",),
    sources=(
        ("record_id", RECORD_ID),
        ("bx_date", "bx_date"),
        ("phase", "derivation__phase"),
        ("alk_kd_mutations", "derivation__alk_kd_mutations"),
        ("alk_compound", "derivation__alk_compound"),
        ("g1202r", "derivation__g1202r"),
        ("alk_independent", "derivation__alk_independent"),
        ("transformation", "derivation__transformation"),
        ("mechanism_category", "derivation__mechanism_category"),
    ),
)

PATIENT_ROWS = RecordRows(
    model=Patient,
    patient_lookup="id",
    order_by=(),
    sources=(
        ("record_id", RECORD_ID),
        ("site", SITE),
        ("sex", "sex"),
        ("age_at_adv_dx", "derivation__age_at_adv_dx"),
        ("smoking", "smoking"),
        ("histology", "histology"),
        ("cns_mets_dx", "cns_mets_dx"),
        ("cohort", "derivation__cohort"),
        ("tki_sequence", "derivation__tki_sequence"),
        ("index_pd_date", "derivation__index_pd_date"),
        ("alk_mut_status_at_index", "derivation__alk_mut_status_at_index"),
        ("os_dx_days", "derivation__os_dx_days"),
        ("os_dx_months", "derivation__os_dx_months"),
        ("os_dx_event", "derivation__os_dx_event"),
    ),
)


# --- endpoints: two rows per line (PFS, then OS), CDISC ADTTE style ---

ENDPOINT_COLUMNS = (
    "record_id", "site", "line_no", "paramcd", "startdt", "adt", "aval_days", "aval_months", "cnsr", "evntdesc",
)
_ENDPOINT_LOOKUPS = (
    "line_no", "line_start",
    "derivation__pfs_date", "derivation__pfs_days", "derivation__pfs_months", "derivation__pfs_event",
    "derivation__pfs_event_type", "derivation__pfs_censor_reason",
    "derivation__os_date", "derivation__os_days", "derivation__os_months", "derivation__os_event",
    "derivation__os_censor_reason",
)
# §8: OS is censored at the date last known alive or at the data cut-off (§5).
OS_CENSOR_DESCRIPTIONS = {"last_known_alive": "LAST KNOWN ALIVE", "cutoff": "DATA CUTOFF"}


def _censoring(event: bool | None) -> int | None:
    """ADTTE's CNSR: 0 an event, 1 censored; blank when the endpoint was not derived (no cut-off)."""
    return None if event is None else 0 if event else 1


def _pfs_description(event: bool | None, event_type: str | None, censor_reason: str | None) -> str:
    # §8: `PROGRESSION` or `DEATH` (stored lower-case, §4), else the censoring reason in upper case.
    if event is None:
        return ""
    return (event_type if event else censor_reason or "").upper()


def _os_description(event: bool | None, censor_reason: str | None) -> str:
    if event is None:
        return ""
    if event:
        return "DEATH"
    return OS_CENSOR_DESCRIPTIONS.get(censor_reason or "", (censor_reason or "").upper())


def endpoint_rows(batch: Sequence[ExportPatient]) -> Iterator[list]:
    """Every line gives a PFS and an OS row, also when it has no stored endpoint yet (blank values
    then): a line's endpoint rows exist exactly when its `lines` row does."""
    values_by_patient = _values_by_patient(
        TreatmentLine.objects.filter(patient_id__in=[patient.id for patient in batch])
        .order_by("line_no", "id")
        .values_list("patient_id", *_ENDPOINT_LOOKUPS)
    )
    for patient in batch:
        for (line_no, line_start, pfs_date, pfs_days, pfs_months, pfs_event, pfs_event_type, pfs_censor_reason,
             os_date, os_days, os_months, os_event, os_censor_reason) in values_by_patient.get(patient.id, ()):
            yield [
                patient.record_id, patient.site_code, line_no, "PFS", line_start, pfs_date, pfs_days, pfs_months,
                _censoring(pfs_event), _pfs_description(pfs_event, pfs_event_type, pfs_censor_reason),
            ]
            yield [
                patient.record_id, patient.site_code, line_no, "OS", line_start, os_date, os_days, os_months,
                _censoring(os_event), _os_description(os_event, os_censor_reason),
            ]


DATASETS: dict[str, Dataset] = {
    "lines": Dataset("lines", LINE_ROWS.columns, LINE_ROWS),
    "endpoints": Dataset("endpoints", ENDPOINT_COLUMNS, endpoint_rows),
    "assessments": Dataset("assessments", ASSESSMENT_ROWS.columns, ASSESSMENT_ROWS),
    "biopsies": Dataset("biopsies", BIOPSY_ROWS.columns, BIOPSY_ROWS),
    "patients": Dataset("patients", PATIENT_ROWS.columns, PATIENT_ROWS),
}
