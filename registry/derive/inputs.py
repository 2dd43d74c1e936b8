"""One patient's raw records as frozen dataclasses (field names as in the data dictionary).

Dates are `datetime.date`, decimals `decimal.Decimal`, coded fields the dictionary's `int` codes,
yes/no fields 1/0, blanks `None` (text blanks ""). A checkbox field is the frozenset of its ticked codes.
A missing-data code entered instead of a value (issue 12 §4) leaves the value None and is carried in
`<field>_missing` for the fields whose code the rules read differently from a blank (rules §0, v2):
a blank `line_end` means ongoing, a coded one an end not known; a blank `ta_new_lesion` counts as no,
a coded one is unknown. A field the dictionary requires is never blank (the database keeps a value or a
code), so None (text "") in one of them (`line_type`, `line_drug`, `lt_type`, `les_class`, `les_site`,
`lm_status`, `bx_specimen`, `var_gene`, `var_kind`, `sex`, `adv_dx_date`) always means a missing-data code:
the value is unknown (rules §0 v2).
The selector that builds these from the database is the only place that knows about models.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class TreatmentLine:
    line_no: int
    line_type: int | None  # None: a missing-data code (unknown)
    line_drug: int | None  # None: a missing-data code (unknown)
    line_start: date
    line_end: date | None = None
    line_end_reason: int | None = None
    line_drug_other: str = ""
    line_tki_generation: int | None = None
    line_ecog: int | None = None
    line_cns_mets: int | None = None
    line_beyond_pd: int | None = None
    line_end_missing: str = ""  # a missing-data code: the line ended on a date not known
    instance: int | None = None  # REDCap repeat instance: only named in §8's srcseq, never read by a rule

    @property
    def end_unknown(self) -> bool:
        return self.line_end is None and bool(self.line_end_missing)


@dataclass(frozen=True)
class LocalTherapy:
    lt_date: date
    lt_type: int | None  # None: a missing-data code (unknown)
    lt_site: int | None = None
    lt_intent: int | None = None
    instance: int | None = None  # REDCap repeat instance (§8 srcseq)


@dataclass(frozen=True)
class TumorAssessment:
    ta_date: date
    ta_scope: frozenset[int] = frozenset()
    ta_nontarget: int | None = None
    ta_new_lesion: int | None = None
    ta_new_sites: frozenset[int] = frozenset()
    ta_new_count: int | None = None
    ta_symptoms: int | None = None
    ta_neuro_symptoms: int | None = None
    ta_reported: int | None = None
    ta_new_lesion_missing: str = ""  # a missing-data code: whether there are new lesions is unknown
    ta_new_sites_missing: str = ""  # a missing-data code: the sites of the new lesions are unknown
    instance: int | None = None  # REDCap repeat instance (§8 srcseq)


@dataclass(frozen=True)
class Lesion:
    les_id: str
    les_line: int
    les_class: int | None  # None: a missing-data code (unknown)
    les_site: int | None  # None: a missing-data code (unknown)


@dataclass(frozen=True)
class LesionMeasurement:
    lm_date: date
    lm_lesion: str
    lm_status: int | None  # None: a missing-data code (unknown)
    lm_mm: Decimal | None = None


@dataclass(frozen=True)
class Biopsy:
    bx_date: date
    bx_specimen: int | None  # None: a missing-data code (unknown)
    bx_site: int | None = None
    bx_adequate: int | None = None
    bx_histology: int | None = None
    bx_ngs: int | None = None
    bx_ngs_panel: str = ""
    instance: int | None = None  # REDCap repeat instance (§8 srcseq)


@dataclass(frozen=True)
class NgsVariant:
    var_bx_date: date
    var_gene: str  # "": a missing-data code (unknown)
    var_kind: int | None  # None: a missing-data code (unknown)
    var_protein: str = ""
    var_vaf: Decimal | None = None
    var_cn: Decimal | None = None
    var_partner: str = ""


@dataclass(frozen=True)
class PatientRecord:
    """The enrollment and vital-status fields of one patient and all of its repeating records."""

    record_id: str
    adv_dx_date: date | None = None
    birth_date: date | None = None
    sex: int | None = None
    smoking: int | None = None
    histology: int | None = None
    cns_mets_dx: int | None = None
    last_alive_date: date | None = None
    vital: int | None = None
    death_date: date | None = None
    death_cause: int | None = None
    death_date_missing: str = ""  # a missing-data code: dead (if vital says so) on a date not known
    adv_dx_date_missing: str = ""  # a missing-data code: diagnosed with advanced disease on a date not known
    lines: tuple[TreatmentLine, ...] = ()
    local_therapies: tuple[LocalTherapy, ...] = ()
    assessments: tuple[TumorAssessment, ...] = ()
    lesions: tuple[Lesion, ...] = ()
    measurements: tuple[LesionMeasurement, ...] = ()
    biopsies: tuple[Biopsy, ...] = ()
    variants: tuple[NgsVariant, ...] = ()
