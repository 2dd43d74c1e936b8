"""Concise records for the derivation tests: dates are day numbers from 2020-01-01, so that
durations can be worked out by hand (day(120) − day(0) = 120 days)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from registry.derive.codes import LesionClass, LineType, MeasurementStatus, Regimen, Site
from registry.derive.inputs import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, PatientRecord, TreatmentLine,
    TumorAssessment,
)
from registry.derive.settings import AnalysisSettings

DAY_0 = date(2020, 1, 1)
YES, NO = 1, 0


def day(n: int) -> date:
    return DAY_0 + timedelta(days=n)


def line(no: int = 1, drug: int = Regimen.ALECTINIB, start: int = 0, *, end: int | None = None,
         line_type: int | None = None, **fields) -> TreatmentLine:
    """A treatment line; ALK TKI when the drug is an inhibitor (codes 1-7) or line_type says so."""
    if line_type is None:
        line_type = LineType.ALK_TKI if drug <= Regimen.LORLATINIB else LineType.CHEMOTHERAPY
    return TreatmentLine(line_no=no, line_type=line_type, line_drug=drug, line_start=day(start),
                         line_end=day(end) if end is not None else None, **fields)


def assessment(on: int, *, new_sites=(), **fields) -> TumorAssessment:
    return TumorAssessment(ta_date=day(on), ta_new_sites=frozenset(new_sites), **fields)


def target(les_id: str, site: int = Site.LUNG, line_no: int = 1) -> Lesion:
    return Lesion(les_id=les_id, les_line=line_no, les_class=LesionClass.TARGET, les_site=site)


def nontarget(les_id: str, site: int = Site.BONE, line_no: int = 1) -> Lesion:
    return Lesion(les_id=les_id, les_line=line_no, les_class=LesionClass.NON_TARGET, les_site=site)


def mm(les_id: str, on: int, value) -> LesionMeasurement:
    """A Measured row; `value` as a string or int becomes an exact Decimal."""
    return LesionMeasurement(lm_date=day(on), lm_lesion=les_id, lm_status=MeasurementStatus.MEASURED,
                             lm_mm=Decimal(str(value)))


def status(les_id: str, on: int, lm_status: int) -> LesionMeasurement:
    return LesionMeasurement(lm_date=day(on), lm_lesion=les_id, lm_status=lm_status)


def local_therapy(on: int, *, site: int | None = None, intent: int | None = None, lt_type: int = 1) -> LocalTherapy:
    return LocalTherapy(lt_date=day(on), lt_type=lt_type, lt_site=site, lt_intent=intent)


def biopsy(on: int, *, ngs: int | None = YES, adequate: int | None = YES, histology: int | None = None,
           specimen: int = 1) -> Biopsy:
    return Biopsy(bx_date=day(on), bx_specimen=specimen, bx_adequate=adequate, bx_histology=histology,
                  bx_ngs=ngs)


def variant(on: int, gene: str, protein: str = "", kind: int = 1, partner: str = "") -> NgsVariant:
    return NgsVariant(var_bx_date=day(on), var_gene=gene, var_kind=kind, var_protein=protein,
                      var_partner=partner)


def patient(*, lines=(), assessments=(), lesions=(), measurements=(), biopsies=(), variants=(),
            local_therapies=(), record_id: str = "P-001", histology: int | None = 1, **fields) -> PatientRecord:
    return PatientRecord(
        record_id=record_id, histology=histology, lines=tuple(lines), assessments=tuple(assessments),
        lesions=tuple(lesions), measurements=tuple(measurements), biopsies=tuple(biopsies),
        variants=tuple(variants), local_therapies=tuple(local_therapies), **fields,
    )


def settings(cutoff: int | None = 2000, **fields) -> AnalysisSettings:
    return AnalysisSettings(data_cutoff=day(cutoff) if cutoff is not None else None, **fields)


def derive(record: PatientRecord, **settings_fields):
    """derive_patient with the default settings and a cut-off at day 2000 unless given."""
    from registry.derive import derive_patient

    return derive_patient(record, settings(**settings_fields))


def one_line_assessments(*, lesions, measurements, assessments, lines=None, **patient_fields):
    """The assessment results of line 1 (alectinib from day 0) of a patient made of these records."""
    record = patient(lines=lines or [line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=assessments, **patient_fields)
    return derive(record).lines[0].assessments
