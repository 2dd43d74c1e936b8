"""What the study report reads: the patients of cohorts 1 and 2 with their stored derivations, as
plain dataclasses (registry/reports/ computes the tables from them without the database).

Three queries whatever the number of patients: patients with their derivation, their lines with
theirs (and, by a subquery, each line's best change of the target sum), their biopsies with theirs. Only patients the user may see are read (the access rule of
registry/selectors/access.py); `user=None` is the system, which sees every site.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, Min, OuterRef, Q, Subquery

from registry.models import AssessmentDerivation, Biopsy, Patient, PatientDerivation, TreatmentLine
from registry.selectors.access import restrict_to_visible


@dataclass(frozen=True)
class StudyLine:
    line_no: int
    line_type: int
    line_drug: int
    tki_generation: int | None
    line_start: date
    line_ecog: int | None
    line_cns_mets: int | None
    age_at_start: int | None
    histology_at_start: int | None
    subsequent_to_index: bool | None
    pd_date: date | None
    extent: str  # "" without a progression
    cns_progression: bool | None
    symptomatic_progression: bool | None
    symptomatic_cns_progression: bool | None
    local_therapy_for_pd: bool | None
    continued_beyond_pd: bool | None
    beyond_pd_days: int | None
    pfs_months: Decimal | None
    pfs_event: bool | None
    os_months: Decimal | None
    os_event: bool | None
    # For the swimmer and waterfall plots. Defaults, so that a data cut frozen before they were kept
    # still loads: its lines then have no follow-up date and no best change, and the plots say so.
    line_end: date | None = None
    best_response: str = ""
    os_date: date | None = None  # death (os_event) or last known alive, capped at the cut-off (rules §5)
    # The smallest pct_change_baseline of the follow-up assessments up to and including the
    # progression (the time points best_response reads); None without a measured target sum.
    best_pct_change_baseline: Decimal | None = None


@dataclass(frozen=True)
class StudyBiopsy:
    bx_date: date
    bx_specimen: int
    bx_adequate: int | None
    bx_ngs: int | None
    phase: str
    alk_kd_mutations: str | None
    alk_compound: bool | None
    g1202r: bool | None
    alk_independent: str | None
    transformation: str
    mechanism_category: str
    at_index_resistance: bool | None


@dataclass(frozen=True)
class StudyPatient:
    record_id: str
    site_code: str
    sex: int | None
    smoking: int | None
    stage_dx: int | None
    cohort: int
    index_line_no: int
    index_pd_date: date
    alk_mut_status_at_index: str
    dead_at_cutoff: bool | None  # OS from diagnosis is an event (death on or before the cut-off)
    lines: tuple[StudyLine, ...]  # in line_no order
    biopsies: tuple[StudyBiopsy, ...]  # in date order

    def line(self, line_no: int) -> StudyLine | None:
        return next((line for line in self.lines if line.line_no == line_no), None)

    @property
    def index_line(self) -> StudyLine:
        line = self.line(self.index_line_no)
        assert line is not None, "a cohort patient's index line is one of its lines"
        return line


@dataclass(frozen=True)
class StudyCohort:
    patients: tuple[StudyPatient, ...]  # ordered by record_id
    derivations: tuple[tuple[int, str, str, bool], ...]  # (rules version, cut-off, snapshot JSON, stale)


_LINE_FIELDS = tuple(f.name for f in StudyLine.__dataclass_fields__.values())
_DERIVED_LINE_FIELDS = {
    "tki_generation", "age_at_start", "histology_at_start", "subsequent_to_index", "pd_date", "extent",
    "cns_progression", "symptomatic_progression", "symptomatic_cns_progression", "local_therapy_for_pd",
    "continued_beyond_pd", "beyond_pd_days", "pfs_months", "pfs_event", "os_months", "os_event",
    "best_response", "os_date",
}
_BIOPSY_RAW_FIELDS = ("bx_date", "bx_specimen", "bx_adequate", "bx_ngs")
_BIOPSY_DERIVED_FIELDS = ("phase", "alk_kd_mutations", "alk_compound", "g1202r", "alk_independent", "transformation",
                          "mechanism_category", "at_index_resistance")


def study_cohort(*, user=None) -> StudyCohort:
    """Every patient in cohort 1 or 2 (as stored by the derivations) whom `user` may see. Three queries."""
    derivations = PatientDerivation.objects.filter(cohort__isnull=False)
    if user is not None:
        derivations = restrict_to_visible(derivations, user, site_path="patient__site_id")
    rows = list(derivations.order_by().values_list(
        "patient_id", "patient__record_id", "patient__site__code", "patient__sex", "patient__smoking",
        "patient__stage_dx", "cohort", "index_line_no", "index_pd_date", "alk_mut_status_at_index", "os_dx_event",
        "rules_version", "data_cutoff", "settings_snapshot", "is_stale",
    ))
    patient_ids = [row[0] for row in rows]

    lines: dict[int, list[StudyLine]] = defaultdict(list)
    lookups = [f"derivation__{name}" if name in _DERIVED_LINE_FIELDS else name for name in _LINE_FIELDS]
    for patient_id, *values in (
        TreatmentLine.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "line_no")
        .annotate(best_pct_change_baseline=Subquery(_best_pct_change_baseline()))
        .values_list("patient_id", *lookups)
    ):
        line = dict(zip(_LINE_FIELDS, values))
        line["extent"] = line["extent"] or ""
        line["best_response"] = line["best_response"] or ""
        if line["best_pct_change_baseline"] is not None:
            # SQLite hands the minimum back without the column's six decimal places, PostgreSQL with
            # them: the same Decimal from both.
            line["best_pct_change_baseline"] = Decimal(str(line["best_pct_change_baseline"])).quantize(
                Decimal("0.000001"))
        lines[patient_id].append(StudyLine(**line))

    biopsies: dict[int, list[StudyBiopsy]] = defaultdict(list)
    for patient_id, *values in (
        Biopsy.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "bx_date")
        .values_list("patient_id", *_BIOPSY_RAW_FIELDS, *(f"derivation__{name}" for name in _BIOPSY_DERIVED_FIELDS))
    ):
        biopsy = dict(zip((*_BIOPSY_RAW_FIELDS, *_BIOPSY_DERIVED_FIELDS), values))
        biopsy["phase"] = biopsy["phase"] or ""
        biopsy["transformation"] = biopsy["transformation"] or ""
        biopsy["mechanism_category"] = biopsy["mechanism_category"] or ""
        biopsies[patient_id].append(StudyBiopsy(**biopsy))

    patients = []
    provenance = []
    for (patient_id, record_id, site_code, sex, smoking, stage_dx, cohort, index_line_no, index_pd_date, status,
         dead, rules_version, data_cutoff, snapshot, is_stale) in rows:
        patients.append(StudyPatient(
            record_id=record_id, site_code=site_code, sex=sex, smoking=smoking, stage_dx=stage_dx, cohort=cohort,
            index_line_no=index_line_no, index_pd_date=index_pd_date, alk_mut_status_at_index=status,
            dead_at_cutoff=dead, lines=tuple(lines[patient_id]), biopsies=tuple(biopsies[patient_id]),
        ))
        provenance.append((rules_version, data_cutoff.isoformat() if data_cutoff else "",
                           json.dumps(snapshot, sort_keys=True), is_stale))
    order = sorted(range(len(patients)), key=lambda position: patients[position].record_id)
    return StudyCohort(patients=tuple(patients[p] for p in order), derivations=tuple(provenance[p] for p in order))


def _best_pct_change_baseline():
    """Per line (OuterRef "pk"): the minimum pct_change_baseline of its follow-up assessments dated up
    to its progression, or of all of them without one (the time points of best response, rules §8)."""
    return (
        AssessmentDerivation.objects.filter(line_id=OuterRef("pk"), pct_change_baseline__isnull=False)
        .filter(Q(line__derivation__pd_date__isnull=True) | Q(ta_date__lte=F("line__derivation__pd_date")))
        .order_by().values("line_id").annotate(best=Min("pct_change_baseline")).values("best")
    )


def visible_patient_count(*, user=None) -> int:
    """How many patients the report's reader may see at all (its denominator of "derived")."""
    patients = Patient.objects.all()
    if user is not None:
        patients = restrict_to_visible(patients, user, site_path="site_id")
    return patients.count()
