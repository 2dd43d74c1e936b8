"""What the derivations read: a batch of patients as the pure dataclasses of registry/derive/inputs.py.

Six queries whatever the batch size (patients, lines, local therapy, assessments, lesions LEFT JOIN
their measurements, biopsies LEFT JOIN their variants), all through `.values_list()`: no model
instance is built, which matters at two million measurements. The settings are one more query.

The service that stores the results needs to know which row each result belongs to, so the loader
also returns the maps line_no → line id, ta_date → assessment id and bx_date → biopsy id; the
database keeps each of those keys unique per patient.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import compress
from operator import attrgetter, itemgetter

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from registry import derive
from registry.derive.inputs import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, PatientRecord, TreatmentLine, TumorAssessment,
)
from registry.models import AnalysisSettings as StoredAnalysisSettings
from registry.models import Biopsy as BiopsyModel
from registry.models import Lesion as LesionModel
from registry.models import LocalTherapy as LocalTherapyModel
from registry.models import Patient
from registry.models import TreatmentLine as TreatmentLineModel
from registry.models import TumorAssessment as TumorAssessmentModel

# Checkbox options of the dictionary, as (model field, code).
_SCOPE_OPTIONS = tuple((f"ta_scope_{code}", code) for code in range(1, 6))
_NEW_SITE_OPTIONS = tuple((name, int(name.rsplit("_", 1)[1])) for name in TumorAssessmentModel.NEW_SITE_FIELDS)
_SCOPE_CODES = tuple(code for _, code in _SCOPE_OPTIONS)
_NEW_SITE_CODES = tuple(code for _, code in _NEW_SITE_OPTIONS)

_PATIENT_FIELDS = (
    "id", "record_id", "adv_dx_date", "birth_date", "sex", "smoking", "histology", "cns_mets_dx",
    "last_alive_date", "vital", "death_date", "death_cause", "death_date_missing", "adv_dx_date_missing",
)
_LINE_FIELDS = (
    "patient_id", "id", "line_no", "line_type", "line_drug", "line_start", "line_end", "line_end_reason",
    "line_drug_other", "line_tki_generation", "line_ecog", "line_cns_mets", "line_beyond_pd", "line_end_missing",
    "redcap_repeat_instance",
)
_LOCAL_THERAPY_FIELDS = ("patient_id", "lt_date", "lt_type", "lt_site", "lt_intent", "redcap_repeat_instance")
_ASSESSMENT_FIELDS = (
    "patient_id", "id", "ta_date", "ta_nontarget", "ta_new_lesion", "ta_new_count", "ta_symptoms",
    "ta_neuro_symptoms", "ta_reported", "ta_new_lesion_missing", "ta_new_sites_missing", "redcap_repeat_instance",
    *(name for name, _ in _SCOPE_OPTIONS), *(name for name, _ in _NEW_SITE_OPTIONS),
)
# The reverse foreign key makes this a LEFT JOIN: a lesion without measurements is one row of NULLs.
_LESION_FIELDS = (
    "patient_id", "les_id", "les_line", "les_class", "les_site",
    "measurements__assessment_id", "measurements__lm_status", "measurements__lm_mm",
)
_BIOPSY_FIELDS = (
    "patient_id", "id", "bx_date", "bx_specimen", "bx_site", "bx_adequate", "bx_histology", "bx_ngs",
    "bx_ngs_panel", "redcap_repeat_instance",
    "variants__id", "variants__var_gene", "variants__var_kind", "variants__var_protein", "variants__var_vaf",
    "variants__var_cn", "variants__var_partner", "variants__redcap_repeat_instance",
)


@dataclass
class PatientInputs:
    """One patient's record plus the ids of the rows its results will belong to."""

    record: PatientRecord
    line_ids: dict[int, int] = field(default_factory=dict)  # line_no → TreatmentLine id
    assessment_ids: dict[date, int] = field(default_factory=dict)  # ta_date → TumorAssessment id
    biopsy_ids: dict[date, int] = field(default_factory=dict)  # bx_date → Biopsy id


def patient_records(patient_ids: Iterable[int]) -> dict[int, PatientRecord]:
    """The records of the given patients, by patient id (ids of missing patients are left out). Six queries."""
    return {patient_id: inputs.record for patient_id, inputs in patient_inputs(patient_ids).items()}


def patient_inputs(patient_ids: Iterable[int], *, lock: bool = False) -> dict[int, PatientInputs]:
    """`patient_records` plus the row ids; six queries.

    `lock` (inside a transaction) takes the patients' rows FOR UPDATE before anything else is read,
    so two derivations of one patient run one after the other and the later one reads what the
    earlier one could not have seen.
    """
    ids = sorted({int(patient_id) for patient_id in patient_ids})
    if not ids:
        return {}
    patients = Patient.objects.filter(id__in=ids).order_by("id")
    if lock:
        # NO KEY UPDATE: blocks another derivation of the patient and an edit of the patient row, not
        # the insert of a measurement that merely references it (FOR KEY SHARE).
        patients = patients.select_for_update(no_key=True)
    patient_rows = list(patients.values_list(*_PATIENT_FIELDS))
    ids = [row[0] for row in patient_rows]
    if not ids:
        return {}

    lines: dict[int, list[TreatmentLine]] = defaultdict(list)
    line_ids: dict[int, dict[int, int]] = defaultdict(dict)
    for (patient_id, line_id, line_no, line_type, line_drug, line_start, line_end, line_end_reason, drug_other,
         tki_generation, ecog, cns_mets, beyond_pd, end_missing, instance) in _rows(
            TreatmentLineModel, ids, _LINE_FIELDS):
        lines[patient_id].append(TreatmentLine(
            line_no=line_no, line_type=line_type, line_drug=line_drug, line_start=line_start, line_end=line_end,
            line_end_reason=line_end_reason, line_drug_other=drug_other, line_tki_generation=tki_generation,
            line_ecog=ecog, line_cns_mets=cns_mets, line_beyond_pd=beyond_pd, line_end_missing=end_missing,
            instance=instance,
        ))
        line_ids[patient_id][line_no] = line_id

    local_therapies: dict[int, list[LocalTherapy]] = defaultdict(list)
    for patient_id, lt_date, lt_type, lt_site, lt_intent, instance in _rows(
            LocalTherapyModel, ids, _LOCAL_THERAPY_FIELDS):
        local_therapies[patient_id].append(LocalTherapy(
            lt_date=lt_date, lt_type=lt_type, lt_site=lt_site, lt_intent=lt_intent, instance=instance))

    assessments: dict[int, list[TumorAssessment]] = defaultdict(list)
    assessment_ids: dict[int, dict[date, int]] = defaultdict(dict)
    assessment_dates: dict[int, date] = {}
    scope_start = len(_ASSESSMENT_FIELDS) - len(_SCOPE_OPTIONS) - len(_NEW_SITE_OPTIONS)
    sites_start = scope_start + len(_SCOPE_OPTIONS)
    for row in _rows(TumorAssessmentModel, ids, _ASSESSMENT_FIELDS):
        (patient_id, assessment_id, ta_date, nontarget, new_lesion, new_count, symptoms, neuro_symptoms,
         reported, new_lesion_missing, new_sites_missing, instance) = row[:scope_start]
        assessments[patient_id].append(TumorAssessment(
            ta_date=ta_date,
            ta_scope=_ticked(row[scope_start:sites_start], _SCOPE_CODES),
            ta_nontarget=nontarget, ta_new_lesion=new_lesion,
            ta_new_sites=_ticked(row[sites_start:], _NEW_SITE_CODES),
            ta_new_count=new_count, ta_symptoms=symptoms, ta_neuro_symptoms=neuro_symptoms, ta_reported=reported,
            ta_new_lesion_missing=new_lesion_missing, ta_new_sites_missing=new_sites_missing, instance=instance,
        ))
        assessment_ids[patient_id][ta_date] = assessment_id
        assessment_dates[assessment_id] = ta_date

    lesions: dict[int, dict[str, Lesion]] = defaultdict(dict)
    measurements: dict[int, list[LesionMeasurement]] = defaultdict(list)
    # Two million rows per 10,000 long-follow-up patients: the loop keeps the current patient's dicts
    # while its rows follow each other (the join returns a lesion's measurements together).
    current_patient = patient_lesions = add_measurement = None
    for (patient_id, les_id, les_line, les_class, les_site, assessment_id, lm_status,
         lm_mm) in _rows(LesionModel, ids, _LESION_FIELDS):
        if patient_id != current_patient:
            current_patient, patient_lesions = patient_id, lesions[patient_id]
            add_measurement = measurements[patient_id].append
        if les_id not in patient_lesions:
            patient_lesions[les_id] = Lesion(les_id=les_id, les_line=les_line, les_class=les_class, les_site=les_site)
        if assessment_id is not None:
            add_measurement(LesionMeasurement(
                lm_date=assessment_dates[assessment_id], lm_lesion=les_id, lm_status=lm_status, lm_mm=lm_mm))

    biopsies: dict[int, dict[date, Biopsy]] = defaultdict(dict)
    biopsy_ids: dict[int, dict[date, int]] = defaultdict(dict)
    variants: dict[int, list[tuple[tuple, NgsVariant]]] = defaultdict(list)
    for (patient_id, biopsy_id, bx_date, specimen, bx_site, adequate, histology, ngs, panel, biopsy_instance,
         variant_id, gene, kind, protein, vaf, copy_number, partner, instance) in _rows(
            BiopsyModel, ids, _BIOPSY_FIELDS):
        if bx_date not in biopsies[patient_id]:
            biopsies[patient_id][bx_date] = Biopsy(
                bx_date=bx_date, bx_specimen=specimen, bx_site=bx_site, bx_adequate=adequate,
                bx_histology=histology, bx_ngs=ngs, bx_ngs_panel=panel, instance=biopsy_instance)
            biopsy_ids[patient_id][bx_date] = biopsy_id
        if variant_id is not None:
            variants[patient_id].append(((bx_date, instance), NgsVariant(
                var_bx_date=bx_date, var_gene=gene, var_kind=kind, var_protein=protein, var_vaf=vaf, var_cn=copy_number,
                var_partner=partner)))

    result = {}
    for (patient_id, record_id, adv_dx_date, birth_date, sex, smoking, histology, cns_mets_dx, last_alive_date, vital,
         death_date, death_cause, death_date_missing, adv_dx_date_missing) in patient_rows:
        # The rows come unordered (sorting two million joined rows in the database costs more than
        # sorting each patient's few here); the records list them in the order the forms do, so
        # that the same data always gives the same record.
        record = PatientRecord(
            record_id=record_id, adv_dx_date=adv_dx_date, birth_date=birth_date, sex=sex, smoking=smoking,
            histology=histology, cns_mets_dx=cns_mets_dx, last_alive_date=last_alive_date, vital=vital,
            death_date=death_date, death_cause=death_cause, death_date_missing=death_date_missing,
            adv_dx_date_missing=adv_dx_date_missing,
            lines=tuple(sorted(lines.get(patient_id, ()), key=_line_order)),
            local_therapies=tuple(sorted(local_therapies.get(patient_id, ()), key=_local_therapy_order)),
            assessments=tuple(sorted(assessments.get(patient_id, ()), key=_assessment_order)),
            lesions=tuple(sorted(lesions[patient_id].values(), key=_lesion_order)) if patient_id in lesions else (),
            measurements=tuple(sorted(measurements.get(patient_id, ()), key=_measurement_order)),
            biopsies=tuple(sorted(biopsies[patient_id].values(), key=_biopsy_order)) if patient_id in biopsies else (),
            variants=tuple(variant for _, variant in sorted(variants.get(patient_id, ()), key=_first)),
        )
        result[patient_id] = PatientInputs(
            record=record, line_ids=line_ids.get(patient_id, {}), assessment_ids=assessment_ids.get(patient_id, {}),
            biopsy_ids=biopsy_ids.get(patient_id, {}),
        )
    return result


def current_analysis_settings() -> derive.AnalysisSettings:
    """The stored settings (§0) as the derivations take them; one query (two more the first time)."""
    return analysis_settings_from(stored_analysis_settings())


def stored_analysis_settings() -> StoredAnalysisSettings:
    """The one row of settings, created with the defaults when missing."""
    stored, _ = StoredAnalysisSettings.objects.get_or_create(pk=1)
    return stored


def analysis_settings_from(stored: StoredAnalysisSettings) -> derive.AnalysisSettings:
    return derive.AnalysisSettings(
        data_cutoff=stored.data_cutoff,
        baseline_window_days=stored.baseline_window_days,
        death_window_days=stored.death_window_days,
        pfs_death_is_event=stored.pfs_death_is_event,
        lesion_progression_min_mm=Decimal(stored.lesion_progression_min_mm),
        sd_min_days=stored.sd_min_days,
        local_therapy_window_days=stored.local_therapy_window_days,
        beyond_pd_min_days=stored.beyond_pd_min_days,
        biopsy_lookback_days=stored.biopsy_lookback_days,
        days_per_month=Decimal(stored.days_per_month),
        study_id=stored.study_id,
    )


def settings_snapshot(settings: derive.AnalysisSettings) -> dict:
    """The settings as stored with every result: JSON, dates ISO, decimals as their shortest text
    ("5", "30.4375"); the rules version has a column of its own."""
    snapshot = {}
    for name, value in vars(settings).items():
        if name == "rules_version":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = format(value.normalize(), "f")
        snapshot[name] = value
    return snapshot


def patient_ids_to_derive(settings: derive.AnalysisSettings) -> list[int]:
    """Patients whose stored derivation is missing, stale, or of other rules or settings; one query."""
    outdated = (
        Q(derivation__isnull=True) | Q(derivation__is_stale=True)
        | ~Q(derivation__rules_version=settings.rules_version)
        | ~Q(derivation__settings_snapshot=settings_snapshot(settings))
    )
    return list(Patient.objects.filter(outdated).order_by("id").values_list("id", flat=True))


def patient_ids_stale_before(moment: datetime) -> list[int]:
    """Patients whose results have been stale since before `moment`, or who have none and were last
    written before it; one query.

    A result marked stale before `stale_since` existed (null) counts as stale for long. A patient
    without results counts from the last write of its record through a door (`PatientVersion`), or
    else from the patient row's own last save.
    """
    stale_too_long = Q(derivation__is_stale=True) & (
        Q(derivation__stale_since__isnull=True) | Q(derivation__stale_since__lt=moment)
    )
    never_derived = Q(derivation__isnull=True, last_written_at__lt=moment)
    return list(
        Patient.objects.alias(last_written_at=Coalesce(F("record_version__changed_at"), F("updated_at")))
        .filter(stale_too_long | never_derived).order_by("id").values_list("id", flat=True)
    )


def all_patient_ids() -> list[int]:
    return list(Patient.objects.order_by("id").values_list("id", flat=True))


# ---------------------------------------------------------------------------- helpers

def _rows(model, patient_ids: list[int], fields: tuple[str, ...]):
    # order_by(): no ORDER BY at all; see the comment on sorting above.
    return model.objects.filter(patient_id__in=patient_ids).order_by().values_list(*fields)


def _ticked(values, codes: tuple[int, ...]) -> frozenset[int]:
    # compress(): the codes whose option is ticked, without a Python step per option (two checkbox
    # fields per assessment).
    return frozenset(compress(codes, values))


# Sort keys; attrgetter/itemgetter give the same keys as a function returning those attributes, without
# a Python call per row (two million measurements per 10,000 long-follow-up patients).
_first = itemgetter(0)
_line_order = attrgetter("line_no")


def _local_therapy_order(therapy: LocalTherapy):
    return therapy.lt_date, therapy.lt_type or 0, therapy.lt_site or 0, therapy.lt_intent or 0, therapy.instance or 0


_assessment_order = attrgetter("ta_date")
_lesion_order = attrgetter("les_id")
_measurement_order = attrgetter("lm_date", "lm_lesion")
_biopsy_order = attrgetter("bx_date")
