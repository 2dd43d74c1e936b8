"""The two CDISC ADaM-style datasets of rules §8 (v2): `responses` (ADRS) and `tumor_sums` (ADTR).

Like registry/exports/datasets.py, each is read a batch of patients at a time with one query per
batch (the stored derivations, `.values_list` only), and rows follow the exported patients' order
(record_id in code-point order, or pseudonym order when de-identified), then line number, then date.
Nothing here derives: the values are the stored results of registry/derive/ (the line's baseline sum
and best-response date, each assessment's sum, percent changes and nadir).

Which rows they have (derivation rules §8; §1 for windows and baselines, §2 for sums):
- `responses`: per line, one OVRLRESP row per follow-up assessment in the line's window (the rows of
  `assessments`), in date order, then one BOR row when the line has a `best_response`, dated by the
  first assessment with that response as best_response counts it (an SD before `sd_min_days` counts
  as NE). The BOR row's `response_source` is that assessment's.
- `tumor_sums`: per line, the baseline row (ablfl `Y`) when the baseline sum is known, then one row per
  follow-up assessment whose sum is known, in date order. `nadir` is the value `pct_change_nadir` is
  measured from, so that each row's `pchg_nadir` is its own `100 × (aval − nadir) / nadir`: like
  `pct_change_nadir`, blank while the line has no known baseline sum.

`studyid` is the setting `study_id` the patient's results were derived with (read from the settings
stored with them), `ALK-REGISTRY` when they predate the setting; `usubjid` is `studyid-record_id`,
and in a de-identified export `studyid-pseudonym`, since the rows are built from the exported patient.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from itertools import groupby

from registry.derive.results import Response
from registry.models import AssessmentDerivation, TreatmentLine

from .analysis_columns import ANALYSIS_COLUMNS
from .columns import Column, Kind
from .datasets import (
    Dataset, ExportPatient, _values_by_patient, study_identifier, treatment_label, unique_subject_id,
)

STUDY_ID_SETTING = "study_id"  # its name in the settings stored with every derivation

# §8 responses: AVALC and its AVAL code.
RESPONSE_CODES = {
    Response.CR.value: 1,
    Response.PR.value: 2,
    Response.SD.value: 3,
    Response.NON_CR_NON_PD.value: 4,
    Response.PD.value: 5,
    Response.NE.value: 6,
}
OVERALL_RESPONSE = "OVRLRESP"
BEST_RESPONSE = "BOR"
RESPONSE_PARAMETERS = {
    OVERALL_RESPONSE: "Overall response by RECIST 1.1",
    BEST_RESPONSE: "Best overall response by RECIST 1.1",
}
SUM_OF_DIAMETERS = "SUMDIAM"
BASELINE_FLAG = "Y"


# --- codebook: these datasets' own descriptions (paramcd, param, adt and aval mean other things in `endpoints`)


_SOURCE = "derived, rules §8"
_RESPONSE_LABELS = {
    Response.CR.value: "Complete response",
    Response.PR.value: "Partial response",
    Response.SD.value: "Stable disease",
    Response.NON_CR_NON_PD.value: "Non-CR/Non-PD (non-target lesions only)",
    Response.PD.value: "Progressive disease",
    Response.NE.value: "Not evaluable",
}

RESPONSE_COLUMNS: tuple[Column, ...] = (
    ANALYSIS_COLUMNS["record_id"],
    ANALYSIS_COLUMNS["site"],
    ANALYSIS_COLUMNS["studyid"],
    ANALYSIS_COLUMNS["usubjid"],
    ANALYSIS_COLUMNS["line_no"],
    ANALYSIS_COLUMNS["trtp"],
    Column("paramcd", "Parameter code (CDISC PARAMCD)", Kind.TEXT_CODE, source=_SOURCE, codes=(
        (OVERALL_RESPONSE, "Overall time-point response of one follow-up assessment"),
        (BEST_RESPONSE, "Best overall response of the line, unconfirmed"),
    )),
    Column("param", "Parameter (CDISC PARAM), one-to-one with paramcd", Kind.TEXT_CODE, source=_SOURCE,
           codes=tuple((text, f"{text} (paramcd {code})") for code, text in RESPONSE_PARAMETERS.items())),
    Column("adt", "Date of the assessment (BOR: the first assessment with the best response)", Kind.DATE,
           source="derived, rules §2, §8"),
    Column("avalc", "Response (CDISC AVALC)", Kind.TEXT_CODE, source="derived, rules §2, §8",
           codes=tuple(_RESPONSE_LABELS.items())),
    Column("aval", "Response as its code (CDISC AVAL)", Kind.CODE, source=_SOURCE,
           codes=tuple((str(code), f"{text}: {_RESPONSE_LABELS[text]}") for text, code in RESPONSE_CODES.items())),
    Column("ady", "Day of the assessment from the line's start (adt - line_start; the start day is 0)",
           Kind.INTEGER, unit="days", source=_SOURCE),
    ANALYSIS_COLUMNS["response_source"],
)

TUMOR_SUM_COLUMNS: tuple[Column, ...] = (
    ANALYSIS_COLUMNS["record_id"],
    ANALYSIS_COLUMNS["site"],
    ANALYSIS_COLUMNS["studyid"],
    ANALYSIS_COLUMNS["usubjid"],
    ANALYSIS_COLUMNS["line_no"],
    Column("paramcd", "Parameter code (CDISC PARAMCD)", Kind.TEXT_CODE, source=_SOURCE, codes=(
        (SUM_OF_DIAMETERS, "Sum of the diameters of the line's target lesions"),
    )),
    Column("adt", "Date of the assessment (the baseline row: the line's baseline assessment)", Kind.DATE,
           source="derived, rules §1, §8"),
    Column("aval", "Sum of the target lesions' diameters (complete sums only)", Kind.NUMBER, unit="mm",
           source="derived, rules §2"),
    Column("ablfl", "Baseline record flag (CDISC ABLFL)", Kind.TEXT_CODE, source=_SOURCE, codes=(
        (BASELINE_FLAG, "The line's baseline assessment"),
    )),
    Column("base", "The line's baseline sum (blank: unknown)", Kind.NUMBER, unit="mm", source="derived, rules §2"),
    Column("chg", "Change from the baseline sum (aval - base)", Kind.NUMBER, unit="mm", source=_SOURCE),
    Column("pchg", "Percent change from the baseline sum (= assessments.pct_change_baseline)", Kind.NUMBER,
           unit="%", source="derived, rules §2"),
    Column("nadir", "Nadir: the smallest known sum before this assessment, baseline included (blank on the "
           "baseline row and without a baseline sum)", Kind.NUMBER, unit="mm", source="derived, rules §2"),
    Column("pchg_nadir", "Percent change from the nadir (= assessments.pct_change_nadir)", Kind.NUMBER, unit="%",
           source="derived, rules §2"),
)


# --- responses (ADRS)

_RESPONSE_LOOKUPS = (
    "line__line_no", "line__line_start", "line__line_drug", "assessment__ta_date", "overall_response",
    "response_source", "line__derivation__best_response", "line__derivation__best_response_date",
    f"patient__derivation__settings_snapshot__{STUDY_ID_SETTING}",
)


def _response_row(patient: ExportPatient, studyid: str, line_no: int, trtp: str, paramcd: str, adt: date | None,
                  avalc: str, line_start: date, source: str) -> list:
    return [
        patient.record_id, patient.site_code, studyid, unique_subject_id(studyid, patient.record_id), line_no, trtp,
        paramcd, RESPONSE_PARAMETERS[paramcd], adt, avalc, RESPONSE_CODES[avalc],
        (adt - line_start).days if adt is not None else None, source,
    ]


def response_rows(batch: Sequence[ExportPatient]) -> Iterator[list]:
    """One query: the batch's assessment derivations with their line and its derivation."""
    values_by_patient = _values_by_patient(
        AssessmentDerivation.objects.filter(patient_id__in=[patient.id for patient in batch])
        .order_by("line__line_no", "line_id", "assessment__ta_date", "id")
        .values_list("patient_id", "line_id", *_RESPONSE_LOOKUPS)
    )
    for patient in batch:
        for _, assessments in groupby(values_by_patient.get(patient.id, ()), key=lambda values: values[0]):
            assessments = list(assessments)
            (_, line_no, line_start, line_drug, _, _, _, best_response, best_response_date,
             stored_study_id) = assessments[0]
            studyid, trtp = study_identifier(stored_study_id), treatment_label(line_drug)
            sources = {}
            for _, _, _, _, ta_date, overall_response, response_source, *_ in assessments:
                sources.setdefault(ta_date, response_source)
                yield _response_row(patient, studyid, line_no, trtp, OVERALL_RESPONSE, ta_date, overall_response,
                                    line_start, response_source)
            if best_response:
                yield _response_row(patient, studyid, line_no, trtp, BEST_RESPONSE, best_response_date,
                                    best_response, line_start, sources.get(best_response_date, ""))


# --- tumor_sums (ADTR)

_TUMOR_SUM_LOOKUPS = (
    "line_no", "derivation__baseline_date", "derivation__baseline_sum_mm",
    "assessment_derivations__assessment__ta_date", "assessment_derivations__target_sum_mm",
    "assessment_derivations__pct_change_baseline", "assessment_derivations__nadir_mm",
    "assessment_derivations__pct_change_nadir", f"patient__derivation__settings_snapshot__{STUDY_ID_SETTING}",
)


def _change(value: Decimal, base: Decimal | None) -> Decimal | None:
    return None if base is None else value - base


def tumor_sum_rows(batch: Sequence[ExportPatient]) -> Iterator[list]:
    """One query: the batch's lines, each LEFT JOINed to its derivation and its assessment derivations."""
    values_by_patient = _values_by_patient(
        TreatmentLine.objects.filter(patient_id__in=[patient.id for patient in batch])
        .order_by("line_no", "id", "assessment_derivations__assessment__ta_date", "assessment_derivations__id")
        .values_list("patient_id", "id", *_TUMOR_SUM_LOOKUPS)
    )
    for patient in batch:
        for _, line_values in groupby(values_by_patient.get(patient.id, ()), key=lambda values: values[0]):
            line_values = list(line_values)
            _, line_no, baseline_date, base, *_, stored_study_id = line_values[0]
            studyid = study_identifier(stored_study_id)
            subject = [patient.record_id, patient.site_code, studyid, unique_subject_id(studyid, patient.record_id), line_no,
                       SUM_OF_DIAMETERS]
            if base is not None:
                # §8: the baseline row: its change and percent change are 0, it has no nadir.
                yield [*subject, baseline_date, base, BASELINE_FLAG, base, Decimal(0), Decimal(0), None, None]
            for _, _, _, _, ta_date, sum_mm, pct_change_baseline, nadir_mm, pct_change_nadir, _ in line_values:
                if sum_mm is None:  # no assessment derivation (LEFT JOIN), or its sum is not known
                    continue
                yield [*subject, ta_date, sum_mm, "", base, _change(sum_mm, base), pct_change_baseline, nadir_mm,
                       pct_change_nadir]


RESPONSES = Dataset("responses", tuple(column.name for column in RESPONSE_COLUMNS), response_rows)
TUMOR_SUMS = Dataset("tumor_sums", tuple(column.name for column in TUMOR_SUM_COLUMNS), tumor_sum_rows)

# The catalog (registry/exports/catalog.py) lists these after the five datasets of rules version 1.
ADAM_DATASETS: dict[str, tuple[Dataset, tuple[Column, ...]]] = {
    "responses": (RESPONSES, RESPONSE_COLUMNS),
    "tumor_sums": (TUMOR_SUMS, TUMOR_SUM_COLUMNS),
}
