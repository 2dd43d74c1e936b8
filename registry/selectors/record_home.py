"""Everything a patient's record home page shows, read in a fixed number of queries.

    record_home(user=..., record_id=..., today=...)   the page's facts, or None (no such record the user sees)

Queries, whatever the number of lines, scans, lesions or biopsies (the user's access is read before, by
`access_for`, and cached on the user):

     1  the patient with its site, among the patients the user sees
     2  the record's version (registry/services/patient_versions.py current_versions)
   3-9  the instances of each repeating instrument: lines, local therapy, scans, lesions, lesion
        measurements, biopsies, NGS variants
 10-11  the stored results: PatientDerivation, LineDerivation
    12  the analysis settings
 13-18  the live view's input (registry/selectors/derivation_inputs.py patient_records: six queries)

The scans' responses (the timeline's colours) are the live view's: it covers every scan, also those
after the analysis cut-off, which have no stored AssessmentDerivation.

The live view is derived in memory by registry/derive with `today` as the data cut-off and the other
analysis settings as stored; nothing of it is stored. `today` is the caller's (the view's local date):
the derivations never read the clock.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from registry import derive
from registry.derive.results import PatientDerivation as LiveDerivation
from registry.models import (
    AnalysisSettings, Biopsy, Lesion, LesionMeasurement, LineDerivation, LocalTherapy,
    NgsVariant, Patient, PatientDerivation, TreatmentLine, TumorAssessment,
)
from registry.selectors.access import visible_patients
from registry.selectors.derivation_inputs import analysis_settings_from, patient_records, stored_analysis_settings
from registry.services.patient_versions import current_versions


@dataclass
class RecordHome:
    patient: Patient  # with its site
    version: str  # the record's version, carried by the page's forms
    lines: list[TreatmentLine]
    local_therapies: list[LocalTherapy]
    assessments: list[TumorAssessment]
    lesions: list[Lesion]
    measurements: list[LesionMeasurement]
    biopsies: list[Biopsy]
    variants: list[NgsVariant]
    stored: PatientDerivation | None  # None: not derived yet
    stored_lines: list[LineDerivation]
    settings: AnalysisSettings
    live: LiveDerivation  # derived now, with `today` as the cut-off; not stored
    today: date
    measurements_by_assessment: dict[int, list[LesionMeasurement]] = field(default_factory=dict)
    variants_by_biopsy: dict[int, list[NgsVariant]] = field(default_factory=dict)

    @property
    def analysis_cutoff(self) -> date | None:
        """The cut-off the stored results were derived at (the settings' while none are stored)."""
        if self.stored is not None:
            return self.stored.data_cutoff
        return self.settings.data_cutoff


def record_home(*, user, record_id: str, today: date) -> RecordHome | None:
    """The record `record_id` as its home page shows it, when `user` may see it (else None); 18 queries."""
    patient = visible_patients(user).select_related("site").filter(record_id=record_id).first()
    if patient is None:
        return None
    version = current_versions([patient.pk])[patient.pk]

    def of_patient(model, *related):
        rows = model.objects.filter(patient_id=patient.pk)
        return list(rows.select_related(*related) if related else rows)

    lines = sorted(of_patient(TreatmentLine), key=lambda line: (line.line_no, line.line_start))
    local_therapies = sorted(of_patient(LocalTherapy),
                             key=lambda therapy: (therapy.lt_date, therapy.redcap_repeat_instance))
    assessments = sorted(of_patient(TumorAssessment), key=lambda assessment: assessment.ta_date)
    lesions = sorted(of_patient(Lesion), key=lambda lesion: lesion.les_id)
    # The measurement's assessment and lesion are the rows read above: no join needed.
    measurements = list(LesionMeasurement.objects.filter(patient_id=patient.pk).order_by("redcap_repeat_instance"))
    biopsies = sorted(of_patient(Biopsy), key=lambda biopsy: biopsy.bx_date)
    variants = list(NgsVariant.objects.filter(patient_id=patient.pk).order_by("redcap_repeat_instance"))
    _attach(measurements, "assessment", assessments)
    _attach(measurements, "lesion", lesions)
    _attach(variants, "biopsy", biopsies)
    for row in [*lines, *local_therapies, *assessments, *lesions, *measurements, *biopsies, *variants]:
        row.patient = patient  # their __str__ and forms may name the patient: no query for it

    stored = PatientDerivation.objects.filter(patient_id=patient.pk).first()
    stored_lines = list(LineDerivation.objects.filter(patient_id=patient.pk).order_by("line_no"))

    settings = stored_analysis_settings()
    record = patient_records([patient.pk])[patient.pk]
    live = derive.derive_patient(record, replace(analysis_settings_from(settings), data_cutoff=today))

    measurements_by_assessment: dict[int, list[LesionMeasurement]] = defaultdict(list)
    for measurement in measurements:
        measurements_by_assessment[measurement.assessment_id].append(measurement)
    variants_by_biopsy: dict[int, list[NgsVariant]] = defaultdict(list)
    for variant in variants:
        variants_by_biopsy[variant.biopsy_id].append(variant)
    return RecordHome(
        patient=patient, version=version, lines=lines, local_therapies=local_therapies, assessments=assessments,
        lesions=lesions, measurements=measurements, biopsies=biopsies, variants=variants, stored=stored,
        stored_lines=stored_lines, settings=settings, live=live, today=today,
        measurements_by_assessment=dict(measurements_by_assessment), variants_by_biopsy=dict(variants_by_biopsy),
    )


def _attach(rows, attribute: str, targets) -> None:
    """Sets each row's foreign-key object from `targets` (already read), so that reading it costs no query."""
    by_id = {target.pk: target for target in targets}
    for row in rows:
        target = by_id.get(getattr(row, f"{attribute}_id"))
        if target is not None:
            setattr(row, attribute, target)
