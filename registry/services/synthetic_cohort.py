"""Invented ALK-positive NSCLC patients, for demos, load tests and checks of the derivations.

    synthetic_cohort_create(patients=10_000, seed=7)

Every patient is drawn from its own `random.Random` seeded by (seed, patient number), so the same
seed gives the same patients whatever the batch size, and the first N patients of a larger cohort
are the N patients of a smaller one. Nothing reads the clock: clinical dates lie between
`ANCHOR_DATE` and `DATA_CUTOFF`. The audit trail's timestamps are the real time of writing.

The clinical course follows the reference study's setting (derivation-rules.md): 1-4 lines
(alectinib → lorlatinib; crizotinib → a second-generation TKI → lorlatinib; pemetrexed + platinum
after the TKIs), imaging every 8-12 weeks from a baseline a few days before each line, RECIST 1.1
target and non-target lesions whose measurements respond and then progress (growth from the nadir,
new lesions incl. brain, non-target progression), local therapy and treatment beyond progression
for some oligo-progressions, biopsies at progression with resistance mutations, deaths, losses to
follow-up. The physician's reported response is the RECIST response of the measurements, except
for a few deliberate discrepancies.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from django.db import models, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, Site, TreatmentLine, TumorAssessment,
)
from registry.models.choices import (
    TKI_GENERATION_BY_REGIMEN, AlkVariant, AnatomicSite, BiopsyHistology, DeathCause,
    Histology, LesionClass, LineEndReason, LineType, LocalTherapyIntent, LocalTherapyType, MeasurementStatus,
    NonTargetRead, RecordStatus, Regimen, ReportedResponse, Sex, Smoking, Specimen, Stage, VariantKind, VitalStatus,
)
from registry.services.bulk_statements import create_with_history
from registry.services.instances import instance_save

ANCHOR_DATE = date(2005, 1, 1)  # no clinical date of any profile precedes it
DATA_CUTOFF = date(2024, 6, 30)
SYNTHETIC_SITE_CODE = "synthetic"
CHANGE_REASON = "synth_cohort"
SCAN_INTERVAL_DAYS = (56, 84)  # imaging every 8 to 12 weeks
BASELINE_DAYS_BEFORE_START = (0, 7)
TARGET_LESIONS_PER_LINE = (1, 5)
NON_TARGET_LESIONS_PER_LINE = (0, 3)
MAX_LINES = 4


@dataclass(frozen=True)
class FollowUpProfile:
    """How long and how densely the invented patients are followed.

    `registry` (the default) is a registry that started enrolling in 2015: patients diagnosed up to
    half a year before the cut-off, many still on their first or second line, about 2 lines and 70
    lesion measurements a patient. `long_follow_up` is a mature registry of long survivors diagnosed
    in 2006-2010 and followed through all four lines, with more lesions per line: about 3.7 lines and
    200 measurements a patient, the volume the derivation benchmark is specified at (10,000 patients,
    about 40,000 lines and 2 million lesion measurements).
    """

    record_prefix: str
    first_diagnosis: date
    last_diagnosis: date
    next_line_share_after_tki: float  # a next line is given after a TKI line ends ...
    next_line_share_after_other: float  # ... and after any other line
    median_days_to_death_per_line: int
    pfs_scale: float  # multiplies every regimen's median PFS
    target_lesion_weights: tuple[tuple[int, int], ...]  # (number of target lesions per line, weight)
    non_target_lesion_weights: tuple[tuple[int, int], ...]


FOLLOW_UP_PROFILES = {
    "registry": FollowUpProfile(
        record_prefix="SYN", first_diagnosis=date(2015, 1, 1), last_diagnosis=date(2023, 12, 31),
        next_line_share_after_tki=0.85, next_line_share_after_other=0.55, median_days_to_death_per_line=5000,
        pfs_scale=1.0, target_lesion_weights=((1, 20), (2, 30), (3, 25), (4, 15), (5, 10)),
        non_target_lesion_weights=((0, 30), (1, 35), (2, 25), (3, 10)),
    ),
    "long_follow_up": FollowUpProfile(
        record_prefix="SYNL", first_diagnosis=date(2006, 1, 1), last_diagnosis=date(2010, 12, 31),
        next_line_share_after_tki=1.0, next_line_share_after_other=0.95, median_days_to_death_per_line=20000,
        pfs_scale=1.6, target_lesion_weights=((1, 5), (2, 15), (3, 25), (4, 25), (5, 30)),
        non_target_lesion_weights=((0, 10), (1, 30), (2, 35), (3, 25)),
    ),
}
DEFAULT_FOLLOW_UP = "registry"


def synthetic_record_id(seed: int, number: int, follow_up: str = DEFAULT_FOLLOW_UP) -> str:
    return f"{FOLLOW_UP_PROFILES[follow_up].record_prefix}-{seed}-{number:06d}"


@dataclass(frozen=True)
class SyntheticCohortSummary:
    """Rows written per model (the audit trail holds one more history row for each)."""

    site_code: str
    batches: int
    patients: int
    treatment_lines: int
    tumor_assessments: int
    lesions: int
    local_therapies: int
    biopsies: int
    lesion_measurements: int
    ngs_variants: int

    @property
    def rows_by_model(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("site_code", "batches")}

    @property
    def total_rows(self) -> int:
        return sum(self.rows_by_model.values())


@dataclass
class SyntheticPatient:
    """One invented patient as unsaved model instances, foreign keys pointing at each other."""

    patient: Patient
    treatment_lines: list[TreatmentLine] = field(default_factory=list)
    tumor_assessments: list[TumorAssessment] = field(default_factory=list)
    lesions: list[Lesion] = field(default_factory=list)
    local_therapies: list[LocalTherapy] = field(default_factory=list)
    biopsies: list[Biopsy] = field(default_factory=list)
    lesion_measurements: list[LesionMeasurement] = field(default_factory=list)
    ngs_variants: list[NgsVariant] = field(default_factory=list)


# Parents before children, so that bulk_create has set the ids the children's foreign keys copy.
WRITE_ORDER = (
    ("patients", Patient), ("treatment_lines", TreatmentLine), ("tumor_assessments", TumorAssessment),
    ("lesions", Lesion), ("local_therapies", LocalTherapy), ("biopsies", Biopsy),
    ("lesion_measurements", LesionMeasurement), ("ngs_variants", NgsVariant),
)


@transaction.atomic
def synthetic_cohort_create(
    *, patients: int, seed: int, site: Site | None = None, batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None, follow_up: str = DEFAULT_FOLLOW_UP,
) -> SyntheticCohortSummary:
    """Writes `patients` invented patients with record IDs SYN-<seed>-000001 onwards (SYNL-... for
    the `long_follow_up` profile, see FollowUpProfile), all or nothing.

    `site` None: the site `synthetic`, created when missing. Raises ValueError when a patient of
    this seed already exists (a second run would duplicate the cohort). Each batch of `batch_size`
    patients is written by create_with_history (registry/services/bulk_statements.py), model by
    model, whatever its row count: one INSERT of the rows and one of their audit trail (on
    PostgreSQL one query reserving the ids, one binary COPY of the rows, one INSERT of the audit
    trail), every audit row dated with the run's one timestamp; memory is bounded by the batch. `progress(done, total)` is called after each batch.
    """
    if patients < 0:
        raise ValueError(f"patients must be 0 or more, not {patients}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
    if follow_up not in FOLLOW_UP_PROFILES:
        raise ValueError(f"follow_up must be one of {', '.join(FOLLOW_UP_PROFILES)}, not {follow_up!r}")
    if site is None:
        site = Site.objects.filter(code=SYNTHETIC_SITE_CODE).first()
        if site is None:  # created as any site is, with its audit-trail row (the patients below are bulk-written)
            site = Site(code=SYNTHETIC_SITE_CODE, name="Synthetic cohort")
            instance_save(instance=site, user=None, door=CHANGE_REASON)
    prefix = synthetic_record_id(seed, 0, follow_up)[: -len("000000")]
    if Patient.objects.filter(record_id__startswith=prefix).exists():
        raise ValueError(f"Patients {prefix}… already exist; delete them or choose another seed.")

    # One audit timestamp for the whole run: these rows were written together.
    written_at = timezone.now()
    counts = dict.fromkeys((name for name, _ in WRITE_ORDER), 0)
    batches = 0
    for first in range(1, patients + 1, batch_size):
        numbers = range(first, min(first + batch_size, patients + 1))
        batch = [synthetic_patient(seed=seed, number=number, site=site, follow_up=follow_up) for number in numbers]
        for name, model in WRITE_ORDER:
            objects = [obj for generated in batch for obj in _instances(generated, name)]
            if objects:
                create_with_history(model, objects, user=None, change_reason=CHANGE_REASON, date=written_at)
            counts[name] += len(objects)
        del batch, objects  # the next batch is built with this one's memory freed
        batches += 1
        if progress is not None:
            progress(numbers[-1], patients)
    return SyntheticCohortSummary(site_code=site.code, batches=batches, **counts)


def _instances(generated: SyntheticPatient, name: str) -> list:
    return [generated.patient] if name == "patients" else getattr(generated, name)


def synthetic_patient(*, seed: int, number: int, site: Site, follow_up: str = DEFAULT_FOLLOW_UP) -> SyntheticPatient:
    """Patient `number` (1, 2, ...) of cohort `seed`, unsaved. Pure: no database, no clock."""
    # A string seed is hashed with SHA-512, so it gives the same stream in every process.
    rng = random.Random(f"synth_cohort:{seed}:{number}")
    course = _PatientCourse(rng, synthetic_record_id(seed, number, follow_up), site, FOLLOW_UP_PROFILES[follow_up])
    return course.build()


# --- clinical parameters -----------------------------------------------------------------------

@dataclass(frozen=True)
class _RegimenProfile:
    median_pfs_days_first_line: int
    median_pfs_days_later_line: int
    refractory_share: float  # progression at the first scan
    nadir_fraction: tuple[float, float]  # target sum at the nadir / baseline sum
    brain_progression_share: float  # progressions with new brain lesions


_PROFILES = {
    Regimen.CRIZOTINIB: _RegimenProfile(330, 240, 0.06, (0.35, 0.75), 0.45),
    Regimen.ALECTINIB: _RegimenProfile(1050, 270, 0.05, (0.25, 0.70), 0.08),
    Regimen.CERITINIB: _RegimenProfile(500, 210, 0.08, (0.30, 0.75), 0.15),
    Regimen.BRIGATINIB: _RegimenProfile(730, 500, 0.05, (0.25, 0.70), 0.10),
    Regimen.ENSARTINIB: _RegimenProfile(760, 270, 0.06, (0.30, 0.70), 0.12),
    Regimen.LORLATINIB: _RegimenProfile(1800, 240, 0.08, (0.25, 0.75), 0.05),
    Regimen.PEMETREXED_PLATINUM: _RegimenProfile(200, 180, 0.20, (0.55, 1.00), 0.25),
    Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB: _RegimenProfile(230, 210, 0.15, (0.50, 0.95), 0.20),
    Regimen.GEMCITABINE_PLATINUM: _RegimenProfile(150, 130, 0.25, (0.60, 1.00), 0.25),
    Regimen.DOCETAXEL: _RegimenProfile(100, 90, 0.35, (0.70, 1.05), 0.25),
}
_SECOND_GENERATION = (Regimen.ALECTINIB, Regimen.CERITINIB, Regimen.BRIGATINIB, Regimen.ENSARTINIB)

_TARGET_SITES = (
    (AnatomicSite.LUNG, 40), (AnatomicSite.LYMPH_NODE, 25), (AnatomicSite.LIVER, 10), (AnatomicSite.ADRENAL, 7),
    (AnatomicSite.PLEURA, 8), (AnatomicSite.BONE, 4),
)
_NON_TARGET_SITES = (
    (AnatomicSite.BONE, 25), (AnatomicSite.PLEURAL_EFFUSION, 20), (AnatomicSite.LYMPH_NODE, 15),
    (AnatomicSite.LUNG, 15), (AnatomicSite.LIVER, 8), (AnatomicSite.PLEURA, 8), (AnatomicSite.LYMPHANGITIS, 4),
    (AnatomicSite.PERICARDIAL_EFFUSION, 3), (AnatomicSite.ADRENAL, 2),
)
_NEW_LESION_SITES = (
    (AnatomicSite.LUNG, 25), (AnatomicSite.LIVER, 15), (AnatomicSite.BONE, 20), (AnatomicSite.LYMPH_NODE, 15),
    (AnatomicSite.ADRENAL, 8), (AnatomicSite.PLEURAL_EFFUSION, 8), (AnatomicSite.PLEURA, 5),
    (AnatomicSite.LYMPHANGITIS, 2), (AnatomicSite.PERICARDIAL_EFFUSION, 1), (AnatomicSite.OTHER, 1),
)
# §3: these sites make a progression extensive; local therapy is not given for them.
_EXTENSIVE_SITES = frozenset({
    AnatomicSite.LYMPHANGITIS, AnatomicSite.PLEURAL_EFFUSION, AnatomicSite.PERICARDIAL_EFFUSION,
    AnatomicSite.ASCITES, AnatomicSite.LEPTOMENINGES,
})
_SBRT_SITES = (AnatomicSite.LUNG, AnatomicSite.LIVER, AnatomicSite.ADRENAL, AnatomicSite.BONE, AnatomicSite.LYMPH_NODE)

# Resistance after each ALK TKI generation (reference study; Gainor et al., Cancer Discov 2016).
_ALK_MUTATIONS_AFTER = {
    1: (("L1196M", 30), ("G1269A", 20), ("C1156Y", 15), ("I1171T", 10), ("S1206Y", 10), ("F1174L", 10),
        ("G1202R", 5)),
    2: (("G1202R", 40), ("I1171N", 10), ("I1171T", 8), ("I1171S", 4), ("F1174L", 8), ("V1180L", 8),
        ("L1196M", 8), ("G1269A", 6), ("E1210K", 4), ("D1203N", 4)),
    3: (("G1202R", 40), ("I1171N", 20), ("L1196M", 10), ("G1269A", 10), ("F1174L", 10), ("D1203N", 10)),
}
_ALK_MUTATION_SHARE = {1: 0.30, 2: 0.55, 3: 0.45}
_COMPOUND_SHARE = {1: 0.0, 2: 0.10, 3: 0.60}
_COMPOUND_MUTATIONS = (
    ("G1202R", "L1196M"), ("I1171N", "D1203N"), ("G1202R", "G1269A"), ("G1202R", "F1174L"),
    ("I1171N", "L1198F"), ("G1202R", "T1151M"), ("G1202R", "L1196M", "D1203N"),
)
_MET_AMPLIFICATION_SHARE = {1: 0.03, 2: 0.12, 3: 0.15}
_THREE_LETTER = {
    "A": "Ala", "C": "Cys", "D": "Asp", "E": "Glu", "F": "Phe", "G": "Gly", "H": "His", "I": "Ile", "K": "Lys",
    "L": "Leu", "M": "Met", "N": "Asn", "P": "Pro", "Q": "Gln", "R": "Arg", "S": "Ser", "T": "Thr", "V": "Val",
    "W": "Trp", "Y": "Tyr",
}
_TISSUE_PANELS = ("FoundationOne CDx (324 genes)", "Oncomine Comprehensive Assay (161 genes)", "OncoPanel (447 genes)")
_PLASMA_PANELS = ("Guardant360 (74 genes)", "FoundationOne Liquid CDx (324 genes)")

# Measurements are kept in tenths of a millimetre: RECIST thresholds are then exact integer arithmetic
# (derivation rules §0), and each value maps to one shared Decimal.
_MM = tuple(Decimal(tenths).scaleb(-1) for tenths in range(5001))
_TOO_SMALL_TENTHS = 50  # §2: "present, too small to measure" counts as 5 mm
_MIN_GROWTH_TENTHS = 50  # §0: PD needs 5 mm over the nadir


def _is_pd(sum_tenths: int, nadir_tenths: int) -> bool:
    # §0: PD iff 10 × sum ≥ 12 × nadir and sum − nadir ≥ 5 mm.
    return 10 * sum_tenths >= 12 * nadir_tenths and sum_tenths - nadir_tenths >= _MIN_GROWTH_TENTHS


# --- model instances without Model.__init__ ---------------------------------------------------

# Per model: every concrete field's attribute and default, and the foreign keys (name, attribute).
_BLANKS: dict[type[models.Model], tuple[dict, tuple[tuple[str, str], ...]]] = {}


def _new(model: type[models.Model], **values) -> models.Model:
    """`model(**values)` with the same attributes, without Model.__init__'s work per field (which
    was most of the generation's time: a 10,000-patient cohort is a million instances).

    Each field's attribute holds its default (none of these models has a callable one: `_blank`
    refuses it), then `values`; a foreign key given as an instance is cached and its id copied, as
    __init__ does (None while the parent is unsaved: create_with_history takes it from the cached
    parent once that is written, as bulk_create does). No model here has pre_init or post_init
    receivers, private fields or properties set through keyword arguments.
    """
    blank = _BLANKS.get(model) or _blank(model)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    attributes = instance.__dict__
    attributes.update(blank[0])
    for name, attname in blank[1]:
        related = values.pop(name, None)
        if related is not None:
            attributes[attname] = related.pk
            state.fields_cache[name] = related
    attributes.update(values)
    return instance


def _blank(model: type[models.Model]):
    defaults = {}
    for model_field in model._meta.concrete_fields:
        if model_field.has_default() and callable(model_field.default):
            raise TypeError(f"{model.__name__}.{model_field.name}: a callable default needs Model.__init__")
        defaults[model_field.attname] = model_field.get_default()
    relations = tuple((f.name, f.attname) for f in model._meta.concrete_fields if f.is_relation)
    _BLANKS[model] = defaults, relations
    return _BLANKS[model]


# --- one patient's course ----------------------------------------------------------------------

class _LesionState:
    """A lesion of one line and its reading at the latest scan (status, tenths of a mm)."""

    __slots__ = ("model", "site", "target", "nodal", "baseline", "depth", "status", "tenths")

    def __init__(self, model: Lesion, *, baseline_tenths: int, depth: float):
        self.model = model
        self.site = model.les_site
        self.target = model.les_class == LesionClass.TARGET
        self.nodal = model.les_site == AnatomicSite.LYMPH_NODE
        self.baseline = baseline_tenths
        self.depth = depth
        self.status = MeasurementStatus.MEASURED if self.target else MeasurementStatus.PRESENT_NOT_MEASURED
        self.tenths = baseline_tenths if self.target else None

    @property
    def reading(self) -> int:
        """§2 value of a target lesion in tenths of a mm."""
        if self.status == MeasurementStatus.DISAPPEARED:
            return 0
        if self.status == MeasurementStatus.TOO_SMALL:
            return _TOO_SMALL_TENTHS
        return self.tenths


@dataclass
class _Progression:
    new_sites: tuple[int, ...] = ()
    new_count: int | None = None
    progressing_sites: frozenset[int] = frozenset()
    n_progressing: int = 0


class _PatientCourse:
    """Draws one patient's course; all randomness from `rng`, all dates up to DATA_CUTOFF."""

    def __init__(self, rng: random.Random, record_id: str, site: Site, follow_up: FollowUpProfile):
        self.rng = rng
        self.record_id = record_id
        self.site = site
        self.follow_up = follow_up
        self.brain_disease = False
        self.last_date = ANCHOR_DATE  # latest dated record so far (raised to the diagnosis date first)
        self.assessment_dates: set[date] = set()
        self.biopsy_dates: set[date] = set()
        self.out: SyntheticPatient

    # -- helpers --
    def _pick(self, weighted):
        values, weights = zip(*weighted)
        return self.rng.choices(values, weights)[0]

    def _days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def _exponential_days(self, median_days: float) -> int:
        return max(1, round(self.rng.expovariate(math.log(2) / median_days)))

    def _seen(self, day: date) -> None:
        self.last_date = max(self.last_date, day)

    def _instance(self, items: list) -> int:
        return len(items) + 1

    # -- the course --
    def build(self) -> SyntheticPatient:
        rng = self.rng
        first, last = self.follow_up.first_diagnosis, self.follow_up.last_diagnosis
        diagnosis = first + self._days(0, (last - first).days)
        age_years = min(85, max(25, round(rng.gauss(56, 12))))
        birth = diagnosis - timedelta(days=round(age_years * 365.25) + rng.randint(0, 364))
        self.brain_disease = rng.random() < 0.28
        histology = self._pick(((Histology.ADENOCARCINOMA, 94), (Histology.ADENOSQUAMOUS, 2),
                                (Histology.LARGE_CELL, 1), (Histology.SQUAMOUS, 2), (Histology.OTHER, 1)))
        ihc = rng.random() < 0.8
        patient = _new(Patient,
            site=self.site, record_id=self.record_id, mrn=f"MRN-{self.record_id}", birth_date=birth,
            sex=self._pick(((Sex.FEMALE, 52), (Sex.MALE, 48))),
            smoking=self._pick(((Smoking.NEVER, 70), (Smoking.FORMER, 24), (Smoking.CURRENT, 6))),
            histology=histology,
            alk_method_1=ihc, alk_method_2=not ihc or rng.random() < 0.3, alk_method_3=rng.random() < 0.35,
            alk_method_4=rng.random() < 0.08, alk_method_5=rng.random() < 0.05,
            alk_variant=self._pick(((AlkVariant.EML4_ALK_V1, 35), (AlkVariant.EML4_ALK_V2, 8),
                                    (AlkVariant.EML4_ALK_V3, 30), (AlkVariant.EML4_ALK_OTHER, 5),
                                    (AlkVariant.NON_EML4, 5), (AlkVariant.UNKNOWN, 17))),
            consent_date=min(DATA_CUTOFF, diagnosis + self._days(0, 90)),
            adv_dx_date=diagnosis,
            stage_dx=self._pick(((Stage.IIIB, 3), (Stage.IIIC, 2), (Stage.IVA, 25), (Stage.IVB, 55),
                                 (Stage.RECURRENCE, 15))),
            cns_mets_dx=int(self.brain_disease), enrollment_complete=RecordStatus.COMPLETE,
            vital_status_complete=RecordStatus.COMPLETE,
        )
        self.out = SyntheticPatient(patient=patient)
        self._seen(diagnosis)
        if rng.random() < 0.7:
            self._diagnostic_biopsy(diagnosis)

        regimens = self._regimens(diagnosis)
        start = diagnosis + self._days(7, 42)
        death: date | None = None
        lost_on: date | None = None
        for line_no, regimen in enumerate(regimens, start=1):
            outcome = self._line(line_no, regimen, start, is_last=line_no == len(regimens))
            if outcome.kind in ("death", "lost", "cutoff"):
                death = outcome.day if outcome.kind == "death" else None
                lost_on = outcome.day if outcome.kind == "lost" else None
                break
            next_start = outcome.day + self._days(3, 28)
            continues = line_no < len(regimens) and rng.random() < (
                self.follow_up.next_line_share_after_tki if outcome.tki else self.follow_up.next_line_share_after_other)
            if outcome.kind == "toxicity":
                continues = line_no < len(regimens)
            if not continues or next_start > DATA_CUTOFF:
                # Best supportive care: death some months after the last line, if before the cut-off.
                candidate = self.last_date + timedelta(days=14 + self._exponential_days(150))
                death = candidate if not continues and candidate <= DATA_CUTOFF else None
                break
            start = max(next_start, self.last_date + timedelta(days=1))
        self._vital_status(patient, death=death, lost_on=lost_on)
        return self.out

    def _regimens(self, diagnosis: date) -> list[Regimen]:
        rng = self.rng
        if diagnosis.year < 2018:  # before alectinib's first-line approval crizotinib was usual
            first = self._pick(((Regimen.CRIZOTINIB, 60), (Regimen.ALECTINIB, 30), (Regimen.CERITINIB, 10)))
        else:
            first = self._pick(((Regimen.ALECTINIB, 65), (Regimen.BRIGATINIB, 10), (Regimen.ENSARTINIB, 5),
                                (Regimen.LORLATINIB, 12), (Regimen.CRIZOTINIB, 8)))
        sequence = [first]
        if first == Regimen.CRIZOTINIB:
            sequence.append(self._pick(((Regimen.ALECTINIB, 50), (Regimen.CERITINIB, 15),
                                        (Regimen.BRIGATINIB, 25), (Regimen.ENSARTINIB, 10))))
        if sequence[-1] in _SECOND_GENERATION:
            sequence.append(Regimen.LORLATINIB if rng.random() < 0.85 else Regimen.PEMETREXED_PLATINUM)
        chemotherapy = self._pick(((Regimen.PEMETREXED_PLATINUM, 70), (Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB, 20),
                                   (Regimen.GEMCITABINE_PLATINUM, 10)))
        if chemotherapy not in sequence and Regimen.PEMETREXED_PLATINUM not in sequence:
            sequence.append(chemotherapy)
        sequence.append(Regimen.DOCETAXEL)
        return sequence[:MAX_LINES]

    # -- one line --
    @dataclass
    class _Outcome:
        kind: str  # "progression", "toxicity", "clinical", "death", "lost", "cutoff"
        day: date | None  # the line's end (death, loss, ...); None at the cut-off
        tki: bool

    def _line(self, line_no: int, regimen: Regimen, start: date, *, is_last: bool) -> _PatientCourse._Outcome:
        rng = self.rng
        out = self.out
        profile = _PROFILES[regimen]
        tki = regimen in TKI_GENERATION_BY_REGIMEN
        line_type = LineType.ALK_TKI if tki else (
            LineType.CHEMOTHERAPY_ANTIANGIOGENIC if regimen == Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB
            else LineType.CHEMOTHERAPY)
        line = _new(TreatmentLine,
            patient=out.patient, redcap_repeat_instance=line_no, line_no=line_no, line_type=line_type,
            line_drug=regimen, line_start=start,
            line_ecog=self._pick(((0, 35), (1, 55), (2, 10))) if line_no == 1 else self._pick(((0, 15), (1, 55), (2, 25), (3, 5))),
            treatment_line_complete=RecordStatus.COMPLETE,
        )
        out.treatment_lines.append(line)
        self._seen(start)

        lesions = self._baseline_lesions(line_no)
        line.line_cns_mets = int(any(lesion.site == AnatomicSite.BRAIN for lesion in lesions))
        baseline_day = max(self._first_day_after_scans(), start - self._days(*BASELINE_DAYS_BEFORE_START))
        self._assessment(baseline_day, lesions, baseline=True, brain_imaging=bool(line.line_cns_mets) or rng.random() < 0.7)

        median = profile.median_pfs_days_first_line if line_no == 1 else profile.median_pfs_days_later_line
        refractory = rng.random() < profile.refractory_share
        pfs_days = 1 if refractory else self._exponential_days(median * self.follow_up.pfs_scale)
        stops = {"death": self._exponential_days(self.follow_up.median_days_to_death_per_line)}
        if rng.random() < 0.015:
            stops["lost"] = rng.randint(30, 900)
        if tki and not is_last and rng.random() < 0.05:
            stops["toxicity"] = rng.randint(20, 300)
        if not tki and rng.random() < 0.12:
            stops["clinical"] = rng.randint(30, 240)
        stop_kind = min(stops, key=stops.get)
        stop_day = start + timedelta(days=stops[stop_kind])

        depth = rng.uniform(*profile.nadir_fraction)
        scans_to_nadir = rng.randint(1, 3)
        scan_day = baseline_day
        scan_number = 0
        while True:
            scan_day += self._days(*SCAN_INTERVAL_DAYS)
            scan_number += 1
            if stop_day <= scan_day and stop_day <= DATA_CUTOFF:
                return self._end_line(line, stop_kind, stop_day, tki)
            if scan_day > DATA_CUTOFF:
                return self._Outcome("cutoff", None, tki)
            if (scan_day - start).days >= pfs_days:
                break
            self._respond(lesions, scan_number, scans_to_nadir, depth)
            self._assessment(scan_day, lesions, brain_imaging=bool(line.line_cns_mets) or rng.random() < 0.3)

        # The progression scan.
        progression = self._progress(lesions, regimen, profile)
        pd_day = scan_day
        self._assessment(pd_day, lesions, progression=progression,
                         brain_imaging=bool(line.line_cns_mets) or AnatomicSite.BRAIN in progression.new_sites)
        oligo = progression.n_progressing <= 3 and not (progression.progressing_sites & _EXTENSIVE_SITES)
        treated_locally = oligo and rng.random() < (0.45 if tki else 0.15)
        if treated_locally:
            self._local_therapy(pd_day + self._days(5, 30), progression)
        beyond = treated_locally and tki and rng.random() < 0.6
        if beyond:
            # Treatment continued beyond progression until the disease progressed further.
            until = pd_day + timedelta(days=45 + self._exponential_days(200))
            while True:
                next_scan = scan_day + self._days(*SCAN_INTERVAL_DAYS)
                if next_scan > DATA_CUTOFF:
                    line.line_beyond_pd = 1
                    return self._Outcome("cutoff", None, tki)
                scan_day = next_scan
                self._grow(lesions)
                further = scan_day >= until
                self._assessment(scan_day, lesions, brain_imaging=bool(line.line_cns_mets),
                                 progression=self._progress(lesions, regimen, profile, new_only=True) if further else None,
                                 after_progression=True)
                if further:
                    break
        if self.rng.random() < (0.45 if tki else 0.05):
            self._progression_biopsy(pd_day, regimen, progression)
        end = scan_day + self._days(0, 10)
        if end > DATA_CUTOFF:
            if rng.random() < 0.8:
                line.line_beyond_pd = int(beyond)
            return self._Outcome("cutoff", None, tki)
        line.line_end = end
        line.line_end_reason = LineEndReason.PROGRESSION
        if rng.random() < 0.8:  # otherwise left blank: §3 then derives it from the dates
            line.line_beyond_pd = int(beyond)
        self._seen(end)
        return self._Outcome("progression", end, tki)

    def _first_day_after_scans(self) -> date:
        # The baseline follows every earlier scan (one assessment per date per patient).
        return max(self.assessment_dates, default=ANCHOR_DATE) + timedelta(days=1)

    def _end_line(self, line: TreatmentLine, kind: str, day: date, tki: bool) -> _PatientCourse._Outcome:
        line.line_end = max(day, self.last_date)
        line.line_end_reason = {
            "death": LineEndReason.DEATH, "lost": LineEndReason.LOST_TO_FOLLOW_UP,
            "toxicity": LineEndReason.TOXICITY, "clinical": LineEndReason.CLINICAL_PROGRESSION,
        }[kind]
        self._seen(line.line_end)
        return self._Outcome(kind, line.line_end, tki)

    # -- lesions and measurements --
    def _baseline_lesions(self, line_no: int) -> list[_LesionState]:
        rng = self.rng
        n_target = self._pick(self.follow_up.target_lesion_weights)
        n_non_target = self._pick(self.follow_up.non_target_lesion_weights)
        specs = [(LesionClass.TARGET, self._pick(_TARGET_SITES)) for _ in range(n_target)]
        specs += [(LesionClass.NON_TARGET, self._pick(_NON_TARGET_SITES)) for _ in range(n_non_target)]
        if self.brain_disease:
            # Known brain metastases are followed at every baseline: measurable ones as targets.
            if n_target < TARGET_LESIONS_PER_LINE[1] and rng.random() < 0.5:
                specs.insert(n_target, (LesionClass.TARGET, AnatomicSite.BRAIN))
            elif n_non_target < NON_TARGET_LESIONS_PER_LINE[1]:
                specs.append((LesionClass.NON_TARGET, AnatomicSite.BRAIN))
            else:
                specs[-1] = (LesionClass.NON_TARGET, AnatomicSite.BRAIN)
        states = []
        numbers = {LesionClass.TARGET: 0, LesionClass.NON_TARGET: 0}
        for lesion_class, site in specs:
            numbers[lesion_class] += 1
            prefix = "T" if lesion_class == LesionClass.TARGET else "NT"
            model = _new(Lesion,
                patient=self.out.patient, redcap_repeat_instance=self._instance(self.out.lesions),
                les_id=f"L{line_no}-{prefix}{numbers[lesion_class]}", les_line=line_no, les_class=lesion_class,
                les_site=site, lesion_complete=RecordStatus.COMPLETE,
            )
            self.out.lesions.append(model)
            if site == AnatomicSite.LYMPH_NODE:
                baseline = rng.randint(150, 350)  # RECIST: a target node is ≥ 15 mm on its short axis
            elif site == AnatomicSite.BRAIN:
                baseline = rng.randint(100, 300)
            else:
                baseline = rng.randint(100, 650)
            states.append(_LesionState(model, baseline_tenths=baseline, depth=rng.uniform(0.6, 1.4)))
        return states

    def _respond(self, lesions: list[_LesionState], scan_number: int, scans_to_nadir: int, depth: float) -> None:
        """Shrinks the lesions towards the line's nadir without ever reaching RECIST progression."""
        rng = self.rng
        targets = [lesion for lesion in lesions if lesion.target]
        previous = {id(lesion): (lesion.status, lesion.tenths) for lesion in targets}
        reached = min(1.0, scan_number / scans_to_nadir)
        for lesion in targets:
            fraction = min(1.05, depth * lesion.depth)
            if lesion.nodal:
                fraction = max(fraction, 0.25)  # nodes shrink to a normal size, they do not vanish
            value = round(lesion.baseline * (1 - (1 - fraction) * reached) * rng.uniform(0.96, 1.04))
            if lesion.status == MeasurementStatus.DISAPPEARED:
                continue  # a vanished lesion stays vanished until progression (§2 reappearance is PD)
            if not lesion.nodal and value < _TOO_SMALL_TENTHS:
                lesion.status = MeasurementStatus.DISAPPEARED if value < 30 or rng.random() < 0.5 else MeasurementStatus.TOO_SMALL
                lesion.tenths = None
            else:
                lesion.status, lesion.tenths = MeasurementStatus.MEASURED, min(value, 5000)
        total = sum(lesion.reading for lesion in targets)
        if _is_pd(total, min(self._line_sums)):
            # Noise must not fake a progression before the planned one: keep the smaller of each reading.
            for lesion in targets:
                status, tenths = previous[id(lesion)]
                old = 0 if status == MeasurementStatus.DISAPPEARED else (
                    _TOO_SMALL_TENTHS if status == MeasurementStatus.TOO_SMALL else tenths)
                if lesion.reading > old:
                    lesion.status, lesion.tenths = status, tenths
        for lesion in lesions:
            if not lesion.target and lesion.status == MeasurementStatus.PRESENT_NOT_MEASURED and reached == 1 \
                    and depth < 0.5 and rng.random() < 0.15:
                lesion.status = MeasurementStatus.DISAPPEARED

    def _progress(self, lesions, regimen: Regimen, profile: _RegimenProfile, *, new_only: bool = False) -> _Progression:
        """Makes this scan a RECIST progression: target growth over the nadir, new lesions, or
        unequivocal non-target progression."""
        rng = self.rng
        targets = [lesion for lesion in lesions if lesion.target]
        non_targets = [lesion for lesion in lesions if not lesion.target and lesion.status != MeasurementStatus.UNEQUIVOCAL_PROGRESSION]
        brain = rng.random() < profile.brain_progression_share
        draw = rng.random()
        grow = not new_only and (draw < 0.45 or draw >= 0.85 or (0.75 <= draw < 0.85 and not non_targets))
        new_lesions = new_only or brain or 0.45 <= draw < 0.75 or draw >= 0.85
        result = _Progression()
        sites: set[int] = set()
        if grow:
            nadir = min(self._line_sums)
            needed = max(-(-12 * nadir // 10), nadir + _MIN_GROWTH_TENTHS)
            total = needed + rng.randint(0, max(10, nadir * 3 // 10))
            growers = rng.sample(targets, rng.randint(1, min(3, len(targets))))
            increase = total - sum(lesion.reading for lesion in targets)
            weights = [rng.uniform(0.5, 1.5) for _ in growers]
            for lesion, weight in zip(growers, weights):
                # Rounded up, so that the shares add up to at least the increase the threshold needs.
                share = max(_MIN_GROWTH_TENTHS, math.ceil(increase * weight / sum(weights)))
                lesion.tenths = min(5000, lesion.reading + share)
                lesion.status = MeasurementStatus.MEASURED
                sites.add(lesion.site)
            result.n_progressing += len(growers)
        if 0.75 <= draw < 0.85 and non_targets and not new_only:
            lesion = rng.choice(non_targets)
            lesion.status = MeasurementStatus.UNEQUIVOCAL_PROGRESSION
            sites.add(lesion.site)
            result.n_progressing += 1
        if new_lesions:
            new_sites = {AnatomicSite.BRAIN} if brain else set()
            if not new_sites or rng.random() < 0.3:
                new_sites.add(self._pick(_NEW_LESION_SITES))
            count = rng.choices((1, 2, 3, 4, 6), (40, 25, 15, 10, 10))[0]
            count = max(count, len(new_sites))
            result.new_sites = tuple(sorted(new_sites))
            result.new_count = None if rng.random() < 0.05 else count  # sometimes the count was not recorded
            result.n_progressing += count
            sites |= new_sites
            if AnatomicSite.BRAIN in new_sites:
                self.brain_disease = True
        result.progressing_sites = frozenset(sites)
        return result

    def _grow(self, lesions: list[_LesionState]) -> None:
        for lesion in lesions:
            if lesion.target and lesion.status == MeasurementStatus.MEASURED:
                lesion.tenths = min(5000, round(lesion.tenths * self.rng.uniform(1.02, 1.15)))

    def _assessment(self, day: date, lesions: list[_LesionState], *, baseline: bool = False,
                    progression: _Progression | None = None, brain_imaging: bool = False,
                    after_progression: bool = False) -> None:
        rng = self.rng
        out = self.out
        targets = [lesion for lesion in lesions if lesion.target]
        target_sum = sum(lesion.reading for lesion in targets)
        new_sites = progression.new_sites if progression else ()
        symptoms = None
        neuro = None
        if not baseline:
            if progression is not None:
                symptoms = int(rng.random() < (0.6 if AnatomicSite.BRAIN in new_sites else 0.3))
            elif rng.random() < 0.9:
                symptoms = 0
            if symptoms == 1:
                neuro = int(AnatomicSite.BRAIN in new_sites and rng.random() < 0.6)
        non_targets = [lesion for lesion in lesions if not lesion.target]
        if non_targets and rng.random() < 0.01 and not baseline:
            # An occasional non-target lesion not evaluated, as in real reads.
            missing = rng.choice(non_targets)
            if missing.status == MeasurementStatus.PRESENT_NOT_MEASURED:
                missing.status = MeasurementStatus.NOT_EVALUATED
        nontarget_read = self._nontarget_read(non_targets)
        assessment = _new(TumorAssessment,
            patient=out.patient, redcap_repeat_instance=self._instance(out.tumor_assessments), ta_date=day,
            ta_scope_1=True, ta_scope_2=brain_imaging and rng.random() < 0.9,
            ta_scope_4=rng.random() < 0.04, ta_scope_5=baseline and rng.random() < 0.15,
            ta_nontarget=nontarget_read, ta_symptoms=symptoms, ta_neuro_symptoms=neuro,
            tumor_assessment_complete=RecordStatus.COMPLETE,
        )
        if brain_imaging and not assessment.ta_scope_2:
            assessment.ta_scope_3 = True
        if new_sites:
            assessment.ta_new_lesion = 1
            assessment.ta_new_count = progression.new_count
            for site in new_sites:
                setattr(assessment, f"ta_new_sites_{int(site)}", True)
        elif not baseline:
            assessment.ta_new_lesion = 0
        if baseline:
            self._line_sums = [target_sum]
            self._line_baseline_sum = target_sum
            self._previous_target_response = None
        else:
            assessment.ta_reported = self._reported(targets, non_targets, target_sum, bool(new_sites))
            if after_progression and assessment.ta_reported != ReportedResponse.PD:
                assessment.ta_reported = ReportedResponse.PD  # growth beyond progression is read as PD
            self._line_sums.append(target_sum)
        out.tumor_assessments.append(assessment)
        self.assessment_dates.add(day)
        self._seen(day)
        for lesion in lesions:
            status = lesion.status
            out.lesion_measurements.append(_new(LesionMeasurement,
                patient=out.patient, assessment=assessment, lesion=lesion.model,
                redcap_repeat_instance=self._instance(out.lesion_measurements), lm_status=status,
                lm_mm=_MM[lesion.tenths] if status == MeasurementStatus.MEASURED else None,
                lesion_measurement_complete=RecordStatus.COMPLETE,
            ))
            if status == MeasurementStatus.NOT_EVALUATED:
                lesion.status = MeasurementStatus.PRESENT_NOT_MEASURED

    @staticmethod
    def _nontarget_read(non_targets: list[_LesionState]) -> int:
        if not non_targets:
            return NonTargetRead.NO_NONTARGET_DISEASE
        statuses = {lesion.status for lesion in non_targets}
        if MeasurementStatus.UNEQUIVOCAL_PROGRESSION in statuses:
            return NonTargetRead.UNEQUIVOCAL_PROGRESSION
        if MeasurementStatus.NOT_EVALUATED in statuses:
            return NonTargetRead.NOT_EVALUATED
        if statuses == {MeasurementStatus.DISAPPEARED}:
            return NonTargetRead.CR
        return NonTargetRead.NON_CR_NON_PD

    def _reported(self, targets, non_targets, target_sum: int, new_lesions: bool) -> int:
        """The radiologist's read: the RECIST 1.1 response of these measurements (§2), now and then not."""
        nadir = min(self._line_sums)
        non_target = self._nontarget_read(non_targets)
        reappeared = self._previous_target_response == ReportedResponse.CR and any(
            not lesion.nodal and lesion.reading > 0 for lesion in targets)
        if _is_pd(target_sum, nadir) or reappeared:
            target = ReportedResponse.PD
        elif all(lesion.reading == 0 for lesion in targets if not lesion.nodal) and all(
                lesion.reading < 100 for lesion in targets if lesion.nodal):
            target = ReportedResponse.CR
        elif 10 * target_sum <= 7 * self._line_baseline_sum:
            target = ReportedResponse.PR
        else:
            target = ReportedResponse.SD
        self._previous_target_response = target
        if target == ReportedResponse.PD or new_lesions or non_target == NonTargetRead.UNEQUIVOCAL_PROGRESSION:
            return ReportedResponse.PD
        if target == ReportedResponse.CR and non_target in (NonTargetRead.CR, NonTargetRead.NO_NONTARGET_DISEASE):
            overall = ReportedResponse.CR
        elif target in (ReportedResponse.CR, ReportedResponse.PR):
            overall = ReportedResponse.PR
        else:
            overall = ReportedResponse.SD
        if self.rng.random() < 0.03:
            # A deliberate discrepancy between the read and the measurements (a §0 data-quality flag).
            overall = {ReportedResponse.CR: ReportedResponse.PR, ReportedResponse.PR: ReportedResponse.SD,
                       ReportedResponse.SD: ReportedResponse.PR}[overall]
        return overall

    # -- local therapy, biopsies, variants --
    def _local_therapy(self, day: date, progression: _Progression) -> None:
        if day > DATA_CUTOFF:
            return
        sites = sorted(progression.progressing_sites) or [AnatomicSite.OTHER]
        site = AnatomicSite.BRAIN if AnatomicSite.BRAIN in sites else self.rng.choice(sites)
        if site == AnatomicSite.BRAIN:
            kind = LocalTherapyType.SRS if (progression.new_count or 4) <= 3 else LocalTherapyType.WBRT
        elif site in _SBRT_SITES:
            kind = self._pick(((LocalTherapyType.SBRT, 70), (LocalTherapyType.CONVENTIONAL_RT, 15),
                               (LocalTherapyType.SURGERY, 8), (LocalTherapyType.THERMAL_ABLATION, 7)))
        else:
            kind = LocalTherapyType.CONVENTIONAL_RT
        self.out.local_therapies.append(_new(LocalTherapy,
            patient=self.out.patient, redcap_repeat_instance=self._instance(self.out.local_therapies), lt_date=day,
            lt_type=kind, lt_site=site, lt_intent=LocalTherapyIntent.OLIGO_PROGRESSION,
            local_therapy_complete=RecordStatus.COMPLETE,
        ))
        self._seen(day)

    def _biopsy(self, day: date, **values) -> Biopsy | None:
        if day in self.biopsy_dates or day > DATA_CUTOFF:
            return None
        biopsy = _new(Biopsy, patient=self.out.patient, redcap_repeat_instance=self._instance(self.out.biopsies),
                        bx_date=day, biopsy_complete=RecordStatus.COMPLETE, **values)
        self.out.biopsies.append(biopsy)
        self.biopsy_dates.add(day)
        self._seen(day)
        return biopsy

    def _diagnostic_biopsy(self, diagnosis: date) -> None:
        rng = self.rng
        patient = self.out.patient
        ngs = int(rng.random() < 0.6)
        biopsy = self._biopsy(
            diagnosis - self._days(3, 30), bx_specimen=Specimen.TISSUE,
            bx_site=self._pick(((AnatomicSite.LUNG, 70), (AnatomicSite.LYMPH_NODE, 20), (AnatomicSite.PLEURA, 10))),
            bx_adequate=1, bx_histology=patient.histology, bx_ngs=ngs,
            bx_ngs_panel=rng.choice(_TISSUE_PANELS) if ngs else "",
        )
        if biopsy is not None and ngs:
            self._fusion(biopsy, Decimal(rng.randint(500, 4500)) / 100)
            if rng.random() < 0.25:
                self._variant(biopsy, "TP53", VariantKind.POINT_MUTATION, protein=rng.choice(("R273H", "R248Q", "Y220C")),
                              vaf=Decimal(rng.randint(500, 4500)) / 100)

    def _progression_biopsy(self, pd_day: date, regimen: Regimen, progression: _Progression) -> None:
        rng = self.rng
        day = pd_day + self._days(-5, 21)
        if day <= self.out.treatment_lines[-1].line_start:
            return
        brain = AnatomicSite.BRAIN in progression.progressing_sites
        specimen = self._pick(((Specimen.TISSUE, 50), (Specimen.PLASMA, 42), (Specimen.PLEURAL_EFFUSION, 4),
                               (Specimen.CSF if brain else Specimen.PLASMA, 4)))
        histology = self.out.patient.histology
        if specimen == Specimen.TISSUE:
            sites = sorted(progression.progressing_sites - {AnatomicSite.BRAIN} - _EXTENSIVE_SITES) or [AnatomicSite.LUNG]
            site = rng.choice(sites)
            adequate = self._pick(((1, 90), (0, 7), (None, 3)))
            if regimen in TKI_GENERATION_BY_REGIMEN and histology == Histology.ADENOCARCINOMA:
                histology = self._pick(((histology, 94), (BiopsyHistology.SMALL_CELL, 4), (BiopsyHistology.SQUAMOUS, 2)))
            panels = _TISSUE_PANELS
        else:
            site = {Specimen.PLASMA: None, Specimen.PLEURAL_EFFUSION: AnatomicSite.PLEURAL_EFFUSION,
                    Specimen.CSF: AnatomicSite.LEPTOMENINGES}[specimen]
            adequate = self._pick(((1, 88), (0, 12)))
            histology = BiopsyHistology.NOT_ASSESSED if specimen == Specimen.PLASMA else self._pick(
                ((histology, 70), (BiopsyHistology.NOT_ASSESSED, 30)))
            panels = _PLASMA_PANELS if specimen == Specimen.PLASMA else _TISSUE_PANELS
        ngs = int(adequate == 1 and rng.random() < 0.92)
        biopsy = self._biopsy(day, bx_specimen=specimen, bx_site=site, bx_adequate=adequate, bx_histology=histology,
                              bx_ngs=ngs, bx_ngs_panel=rng.choice(panels) if ngs else "")
        if biopsy is None or not ngs or regimen not in TKI_GENERATION_BY_REGIMEN:
            return
        generation = TKI_GENERATION_BY_REGIMEN[regimen]
        plasma = specimen == Specimen.PLASMA

        def vaf() -> Decimal:
            return Decimal(rng.randint(10, 1500) if plasma else rng.randint(300, 6000)) / 100

        if rng.random() < 0.7:
            self._fusion(biopsy, vaf())
        if rng.random() < _ALK_MUTATION_SHARE[generation]:
            if rng.random() < _COMPOUND_SHARE[generation]:
                mutations = rng.choice(_COMPOUND_MUTATIONS)
            else:
                mutations = (self._pick(_ALK_MUTATIONS_AFTER[generation]),)
            for mutation in mutations:
                self._variant(biopsy, "ALK", VariantKind.POINT_MUTATION, protein=self._protein_notation(mutation), vaf=vaf())
        if rng.random() < _MET_AMPLIFICATION_SHARE[generation]:
            self._variant(biopsy, "MET", VariantKind.AMPLIFICATION, cn=Decimal(rng.randint(60, 200)) / 10)
        other = rng.random()
        if other < 0.03:
            self._variant(biopsy, "KRAS", VariantKind.POINT_MUTATION, protein=rng.choice(("G12C", "G12D", "G12V")), vaf=vaf())
        elif other < 0.04:
            self._variant(biopsy, "KRAS", VariantKind.AMPLIFICATION, cn=Decimal(rng.randint(50, 120)) / 10)
        elif other < 0.055:
            self._variant(biopsy, "EGFR", VariantKind.POINT_MUTATION, protein=rng.choice(("L858R", "E746_A750del")), vaf=vaf())
        elif other < 0.065:
            self._variant(biopsy, "EGFR", VariantKind.AMPLIFICATION, cn=Decimal(rng.randint(60, 150)) / 10)
        elif other < 0.08:
            self._variant(biopsy, "BRAF", VariantKind.POINT_MUTATION, protein="V600E", vaf=vaf())
        elif other < 0.085:
            self._variant(biopsy, "BRAF", VariantKind.FUSION, partner="AGK")
        if rng.random() < 0.3:
            self._variant(biopsy, "TP53", VariantKind.POINT_MUTATION, protein=rng.choice(("R273H", "R248Q", "Y220C")), vaf=vaf())

    def _protein_notation(self, change: str) -> str:
        # The three spellings §7 normalises: G1202R, p.G1202R and p.Gly1202Arg.
        notation = self._pick(((change, 70), (f"p.{change}", 20), (None, 10)))
        if notation is None:
            notation = f"p.{_THREE_LETTER[change[0]]}{change[1:-1]}{_THREE_LETTER[change[-1]]}"
        return notation

    def _fusion(self, biopsy: Biopsy, vaf: Decimal) -> None:
        partner = "KIF5B" if self.out.patient.alk_variant == AlkVariant.NON_EML4 else "EML4"
        self._variant(biopsy, "ALK", VariantKind.FUSION, partner=partner, vaf=vaf)

    def _variant(self, biopsy: Biopsy, gene: str, kind: int, *, protein: str = "", partner: str = "",
                 vaf: Decimal | None = None, cn: Decimal | None = None) -> None:
        self.out.ngs_variants.append(_new(NgsVariant,
            patient=self.out.patient, biopsy=biopsy, redcap_repeat_instance=self._instance(self.out.ngs_variants),
            var_gene=gene, var_kind=kind, var_protein=protein, var_partner=partner, var_vaf=vaf, var_cn=cn,
            ngs_variant_complete=RecordStatus.COMPLETE,
        ))

    # -- vital status --
    def _vital_status(self, patient: Patient, *, death: date | None, lost_on: date | None) -> None:
        rng = self.rng
        if death is not None:
            patient.vital = VitalStatus.DEAD
            patient.death_date = max(death, self.last_date)
            patient.death_cause = self._pick(((DeathCause.PROGRESSION, 85), (DeathCause.TOXICITY, 2),
                                              (DeathCause.OTHER, 6), (DeathCause.UNKNOWN, 7)))
            patient.last_alive_date = patient.death_date
        elif lost_on is not None:
            patient.vital = VitalStatus.LOST_TO_FOLLOW_UP
            patient.last_alive_date = self.last_date
        else:
            patient.vital = VitalStatus.ALIVE
            patient.last_alive_date = max(self.last_date, DATA_CUTOFF - self._days(0, 120))


__all__ = [
    "ANCHOR_DATE", "DATA_CUTOFF", "DEFAULT_FOLLOW_UP", "FOLLOW_UP_PROFILES", "FollowUpProfile",
    "SyntheticCohortSummary", "SyntheticPatient", "synthetic_cohort_create",
    "synthetic_patient", "synthetic_record_id",
]
