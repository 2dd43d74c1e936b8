"""The five analysis datasets of derivation rules §8 (version 2): their columns, in §8's order, and their rows.

Every dataset is read a batch of patients at a time, with one query per batch whatever the batch
holds (the raw records LEFT JOINed to their stored derivations, `.values_list` only). Rows are
ordered by record_id in Python (code-point order, so SQLite and PostgreSQL agree whatever their
collation), then by line number or date. Only the (record_id, id, site code) of every exported
patient is held for the whole export; rows are built and written one batch at a time.

Which rows a dataset has:
- `lines`, `endpoints`, `biopsies`, `patients`: one per raw record (line, line × endpoint, biopsy,
  patient). A record with no stored derivation yet still has its row, with its raw columns filled and
  the derived ones blank.
- §0 (v2), the records as they stood at the cut-off: a line or biopsy dated after the data cut-off its
  patient was derived with has no row (neither has its assessment, whose derivation does not exist),
  a `line_end` after it is blank together with its `line_end_reason`, and so is a `death_date` after
  it. A patient not derived yet has no cut-off: all of its records are shown.
- `assessments`: one per stored assessment derivation (an assessment in one line's window, §1;
  one on the next line's start day is in two), since which line an assessment belongs to is itself
  derived. Its `line_no` and `ta_date` are the raw ones, so that it joins `lines` on the same keys.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import F, Model, Q, QuerySet

from registry.derive.settings import DEFAULT_STUDY_ID
from registry.models import AssessmentDerivation, Biopsy, Patient, TreatmentLine
from registry.records.missing_codes import Coded, code_companion

BATCH_PATIENTS = 500  # patients read together: one query for all their rows

# Column sources that are not lookups: they come from the exported patient itself.
RECORD_ID = "<record_id>"
SITE = "<site code>"
# ADaM's USUBJID (rules §8 v2): `studyid-record_id`, from the row's studyid column and the exported
# patient's record id (the pseudonym in a de-identified export).
USUBJID = "<usubjid>"
# ADaM's STUDYID: the setting `study_id` the patient's results were derived with, its default when
# there is none (not derived yet, or derived before the setting existed): as `responses` and
# `tumor_sums` read it (registry/exports/adam_datasets.py), so that usubjid joins every dataset.
STUDYID_LOOKUP = "settings_snapshot__study_id"


def study_identifier(stored: str | None) -> str:
    return stored or DEFAULT_STUDY_ID


def unique_subject_id(studyid: str, record_id: str) -> str:
    """§8 (v2) usubjid: `studyid-record_id` (the pseudonym in a de-identified export)."""
    return f"{studyid}-{record_id}"


def _after(day, cutoff) -> bool:
    """A date (not a missing-data code, not blank) after the cut-off (None: no cut-off)."""
    return cutoff is not None and day is not None and type(day) is not Coded and day > cutoff


@dataclass(frozen=True)
class CutoffView:
    """Rules §0 (v2): a dataset shows its records as they stood at the patient's data cut-off.

    `dated_by`: the lookup of the record's own date; a record dated after the cut-off has no row.
    `blanked`: (date column, columns written blank when that date is after the cut-off).
    `cutoff_lookup`: from the model to the cut-off the patient's results were derived with.
    """

    cutoff_lookup: str
    dated_by: str | None = None
    blanked: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def visible(self, queryset: QuerySet) -> QuerySet:
        if self.dated_by is None:
            return queryset
        return queryset.filter(
            Q(**{f"{self.cutoff_lookup}__isnull": True}) | Q(**{f"{self.dated_by}__lte": F(self.cutoff_lookup)})
        )


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
    cutoff_view: CutoffView | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.sources)

    def __call__(self, batch: Sequence[ExportPatient]) -> Iterator[list]:
        lookups = [source for _, source in self.sources if source not in (RECORD_ID, SITE, USUBJID)]
        # A raw field that takes a missing-data code is read with its code (one more column of the same
        # query); a coded cell is Coded(code): blank in CSV, Excel, Parquet and Stata, user-missing in SPSS.
        # A checkbox option's code is its field's: every option of a coded checkbox is Coded(code).
        coded = [(position, companion) for position, lookup in enumerate(lookups)
                 if (companion := code_companion(self.model, lookup)) is not None]
        companions = list(dict.fromkeys(companion for _, companion in coded))  # each read once
        coded = [(position, companions.index(companion)) for position, companion in coded]
        view = self.cutoff_view
        queryset = self.model.objects.filter(**{f"{self.patient_lookup}__in": [patient.id for patient in batch]})
        if view is not None:
            queryset = view.visible(queryset)
        values_by_patient = _values_by_patient(
            queryset.order_by(*self.order_by, "id")
            .values_list(self.patient_lookup, *lookups, *companions,
                         *((view.cutoff_lookup,) if view is not None else ()))
        )
        columns = self.columns
        blanked = [(columns.index(date_column), [columns.index(column) for column in blank])
                   for date_column, blank in (view.blanked if view is not None else ())]
        usubjid_index = columns.index("usubjid") if "usubjid" in columns else None
        studyid_index = columns.index("studyid") if usubjid_index is not None else None
        for patient in batch:
            for values in values_by_patient.get(patient.id, ()):
                cutoff = None
                if view is not None:
                    values, cutoff = values[:-1], values[-1]
                if coded:
                    values = _with_codes(values, coded, len(lookups))
                found = iter(values)
                row = [
                    patient.record_id if source == RECORD_ID else patient.site_code if source == SITE
                    else None if source == USUBJID else next(found)
                    for _, source in self.sources
                ]
                for date_index, blank_indexes in blanked:
                    if _after(row[date_index], cutoff):
                        for index in blank_indexes:
                            row[index] = None
                if usubjid_index is not None:
                    row[studyid_index] = study_identifier(row[studyid_index])
                    row[usubjid_index] = unique_subject_id(row[studyid_index], patient.record_id)
                yield row


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
        # §8 (v2), after the v1 columns
        ("first_subsequent_line", "derivation__first_subsequent_line"),
        ("first_subsequent_tki_line", "derivation__first_subsequent_tki_line"),
        ("alk_mut_status_at_index", "patient__derivation__alk_mut_status_at_index"),
        ("compound_mutation_at_index", "patient__derivation__compound_mutation_at_index"),
        ("os_censor_reason", "derivation__os_censor_reason"),
    ),
    # §0 (v2): a line_end after the cut-off: the line was ongoing, its end and reason not yet known.
    cutoff_view=CutoffView("patient__derivation__data_cutoff", dated_by="line_start",
                           blanked=(("line_end", ("line_end", "line_end_reason")),)),
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
    cutoff_view=CutoffView("patient__derivation__data_cutoff", dated_by="assessment__ta_date"),
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
        # §8 (v2)
        ("at_index_resistance", "derivation__at_index_resistance"),
    ),
    cutoff_view=CutoffView("patient__derivation__data_cutoff", dated_by="bx_date"),
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
        # §8 (v2)
        ("studyid", f"derivation__{STUDYID_LOOKUP}"),
        ("usubjid", USUBJID),
        ("stage_dx", "stage_dx"),
        ("adv_dx_date", "adv_dx_date"),
        ("death_date", "death_date"),
        ("last_known_alive_date", "derivation__last_known_alive_date"),
        ("compound_mutation_at_index", "derivation__compound_mutation_at_index"),
        ("n_lines", "derivation__n_lines"),
    ),
    # §0 (v2): a death after the cut-off is not a death in any dataset.
    cutoff_view=CutoffView("derivation__data_cutoff", blanked=(("death_date", ("death_date",)),)),
)


# --- endpoints: two rows per line (PFS, then OS), CDISC ADTTE style ---

ENDPOINT_COLUMNS = (
    "record_id", "site", "line_no", "paramcd", "startdt", "adt", "aval_days", "aval_months", "cnsr", "evntdesc",
    # §8 (v2): the ADaM ADTTE variables, then the analysis flags of the line as on `lines`
    "studyid", "usubjid", "subjid", "siteid", "param", "aval", "avalu", "trtp", "cnsdtdsc", "srcdom", "srcvar",
    "srcseq", "cohort", "subsequent_to_index", "first_subsequent_line", "first_subsequent_tki_line",
    "tki_generation", "alk_mut_status_at_index",
)
# §8 (v2): PARAM, one to one with PARAMCD.
ENDPOINT_PARAMETERS = {"PFS": "Progression-free survival (days)", "OS": "Overall survival (days)"}
AVAL_UNIT = "DAYS"
_ENDPOINT_LOOKUPS = (
    "line_no", "line_start", "line_drug",
    "derivation__pfs_date", "derivation__pfs_days", "derivation__pfs_months", "derivation__pfs_event",
    "derivation__pfs_event_type", "derivation__pfs_censor_reason",
    "derivation__pfs_srcdom", "derivation__pfs_srcvar", "derivation__pfs_srcseq",
    "derivation__os_date", "derivation__os_days", "derivation__os_months", "derivation__os_event",
    "derivation__os_censor_reason", "derivation__os_srcdom", "derivation__os_srcvar", "derivation__os_srcseq",
    "patient__derivation__cohort", "derivation__subsequent_to_index", "derivation__first_subsequent_line",
    "derivation__first_subsequent_tki_line", "derivation__tki_generation",
    "patient__derivation__alk_mut_status_at_index", f"patient__derivation__{STUDYID_LOOKUP}",
)
ENDPOINT_CUTOFF_VIEW = CutoffView("patient__derivation__data_cutoff", dated_by="line_start")
# §8: OS is censored at the date last known alive or at the data cut-off (§5).
OS_CENSOR_DESCRIPTIONS = {"last_known_alive": "LAST KNOWN ALIVE", "cutoff": "DATA CUTOFF"}
# §8 (v2): CNSDTDSC of a PFS censored at the last adequate assessment or, without one, at the line's start.
PFS_CENSOR_DATE_DESCRIPTIONS = {"tumor_assessment": "LAST ADEQUATE TUMOR ASSESSMENT", "treatment_line": "START OF LINE"}


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


def _pfs_censor_date_description(event: bool | None, srcdom: str) -> str:
    """§8 (v2) CNSDTDSC: blank for an event (and without an endpoint)."""
    if event is None or event:
        return ""
    return PFS_CENSOR_DATE_DESCRIPTIONS.get(srcdom, "")


def _os_censor_date_description(event: bool | None, censor_reason: str | None) -> str:
    if event is None or event:
        return ""
    return OS_CENSOR_DESCRIPTIONS.get(censor_reason or "", "")


def treatment_label(line_drug) -> str | None:
    """§8 (v2) TRTP: the line's regimen as the dictionary labels it, in capitals (blank when coded)."""
    if line_drug is None or type(line_drug) is Coded:
        return None
    return _regimen_labels().get(str(line_drug), "").upper() or None


def _regimen_labels() -> dict[str, str]:
    from .columns import dictionary_codes  # the data dictionary, read once the app is ready

    return dict(dictionary_codes("line_drug"))


def endpoint_rows(batch: Sequence[ExportPatient]) -> Iterator[list]:
    """Every line on or before the cut-off gives a PFS and an OS row, also when it has no stored
    endpoint yet (blank values then): a line's endpoint rows exist exactly when its `lines` row does."""
    values_by_patient = _values_by_patient(
        ENDPOINT_CUTOFF_VIEW.visible(TreatmentLine.objects.filter(patient_id__in=[patient.id for patient in batch]))
        .order_by("line_no", "id")
        .values_list("patient_id", *_ENDPOINT_LOOKUPS)
    )
    for patient in batch:
        record_id, site = patient.record_id, patient.site_code
        for (line_no, line_start, line_drug, pfs_date, pfs_days, pfs_months, pfs_event, pfs_event_type,
             pfs_censor_reason, pfs_srcdom, pfs_srcvar, pfs_srcseq, os_date, os_days, os_months, os_event,
             os_censor_reason, os_srcdom, os_srcvar, os_srcseq, cohort, subsequent, first_subsequent,
             first_subsequent_tki, tki_generation, alk_mut_status, studyid) in values_by_patient.get(patient.id, ()):
            studyid = study_identifier(studyid)
            subject = [studyid, unique_subject_id(studyid, record_id), record_id, site]
            trtp = treatment_label(line_drug)
            flags = [cohort, subsequent, first_subsequent, first_subsequent_tki, tki_generation, alk_mut_status]
            yield [
                record_id, site, line_no, "PFS", line_start, pfs_date, pfs_days, pfs_months,
                _censoring(pfs_event), _pfs_description(pfs_event, pfs_event_type, pfs_censor_reason),
                *subject, ENDPOINT_PARAMETERS["PFS"], pfs_days, AVAL_UNIT if pfs_days is not None else None, trtp,
                _pfs_censor_date_description(pfs_event, pfs_srcdom), pfs_srcdom, pfs_srcvar, pfs_srcseq, *flags,
            ]
            yield [
                record_id, site, line_no, "OS", line_start, os_date, os_days, os_months,
                _censoring(os_event), _os_description(os_event, os_censor_reason),
                *subject, ENDPOINT_PARAMETERS["OS"], os_days, AVAL_UNIT if os_days is not None else None, trtp,
                _os_censor_date_description(os_event, os_censor_reason), os_srcdom, os_srcvar, os_srcseq, *flags,
            ]


DATASETS: dict[str, Dataset] = {
    "lines": Dataset("lines", LINE_ROWS.columns, LINE_ROWS),
    "endpoints": Dataset("endpoints", ENDPOINT_COLUMNS, endpoint_rows),
    "assessments": Dataset("assessments", ASSESSMENT_ROWS.columns, ASSESSMENT_ROWS),
    "biopsies": Dataset("biopsies", BIOPSY_ROWS.columns, BIOPSY_ROWS),
    "patients": Dataset("patients", PATIENT_ROWS.columns, PATIENT_ROWS),
}
