"""What the derivations return: everything §8's analysis datasets need, per assessment, line, biopsy
and patient. `None` is blank: unknown or not applicable (§0 "unknown is not no")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from .settings import AnalysisSettings


class Response(str, Enum):
    """A RECIST 1.1 time-point response, valued as §8 writes it."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "NON-CR/NON-PD"


class ResponseSource(str, Enum):
    DERIVED = "derived"
    REPORTED = "reported"


@dataclass(frozen=True)
class DateSource:
    """§8 (v2): where an endpoint's date was read from, as ADTTE names it: the form (SRCDOM), the field
    (SRCVAR) and, for a repeating form, the record's repeat instance (SRCSEQ; None otherwise)."""

    srcdom: str
    srcvar: str
    srcseq: int | None = None


@dataclass(frozen=True)
class AssessmentResult:
    """One time point of one line's window (§2). The line's baseline is not one of its rows."""

    line_no: int
    ta_date: date
    target_sum_mm: Decimal | None  # complete sums only; a partial sum is blank
    pct_change_baseline: Decimal | None
    pct_change_nadir: Decimal | None
    target_response: Response | None  # None: the line has no target lesions
    nontarget_response: Response | None  # None: the line has no non-target lesions
    new_lesions: bool | None  # None: unknown (a missing-data code in ta_new_lesion, rules §0 v2)
    overall_response: Response
    response_source: ResponseSource
    discrepancy: bool | None  # None: nothing reported to compare with
    # The nadir pct_change_nadir is measured from (§2: the smallest complete sum at the baseline or an
    # earlier assessment of the line); None while the line has no complete baseline sum.
    nadir_mm: Decimal | None = None

    @property
    def adequate(self) -> bool:
        # §2: an assessment whose overall response is not NE is adequate.
        return self.overall_response is not Response.NE


@dataclass(frozen=True)
class LineResult:
    line_no: int
    line_type: int
    line_drug: int
    line_start: date
    line_end: date | None
    tki_generation: int | None
    tki_drug_name: str | None
    next_line_start: date | None
    age_at_start: int | None
    histology_at_start: int | None
    baseline_date: date | None
    assessments: tuple[AssessmentResult, ...]
    best_response: Response | None
    # §3, all blank without a progression
    pd_date: date | None
    extent: str | None  # "oligo", "extensive", "unknown"
    n_progressing_lesions: int | None
    involved_sites: frozenset[int] | None
    cns_progression: bool | None
    cns_only_progression: bool | None
    symptomatic_progression: bool | None
    symptomatic_cns_progression: bool | None
    local_therapy_for_pd: bool | None
    continued_beyond_pd: bool | None
    beyond_pd_days: int | None
    # §4 (blank without a data cut-off)
    pfs_date: date | None
    pfs_days: int | None
    pfs_months: Decimal | None
    pfs_event: bool | None
    pfs_event_type: str | None  # "progression", "death"
    pfs_censor_reason: str | None
    # §5
    os_date: date | None
    os_days: int | None
    os_months: Decimal | None
    os_event: bool | None
    os_censor_reason: str | None  # "last_known_alive", "cutoff"
    # §6
    subsequent_to_index: bool | None
    # §8 (v2): the first line (first ALK TKI line) subsequent to the index; None where subsequent_to_index is
    first_subsequent_line: bool | None = None
    first_subsequent_tki_line: bool | None = None
    # §8 (v2): where the PFS and OS dates were read from (None without a cut-off: no endpoint)
    pfs_source: DateSource | None = None
    os_source: DateSource | None = None
    # §2 the line's complete baseline target sum (None: unknown, or no target lesions or no baseline)
    # and §8 the date of the first follow-up assessment with the best response, as best_response counts
    # it: what the datasets `tumor_sums` and `responses` show.
    baseline_sum_mm: Decimal | None = None
    best_response_date: date | None = None


@dataclass(frozen=True)
class BiopsyResult:
    bx_date: date
    phase: str | None  # no_prior_tki_pd, on_tki, post_1g, post_2g, post_3g
    alk_kd_mutations: str | None  # "I1171N;G1202R"; "" when sequenced without one; None when not assessed
    alk_compound: bool | None
    g1202r: bool | None
    alk_independent: str | None
    transformation: str | None  # "squamous", "small_cell"
    mechanism_category: str
    # §7: taken at the index resistance (counted in alk_mut_status_at_index); None in no cohort.
    at_index_resistance: bool | None = None


@dataclass(frozen=True)
class DataQualityFlag:
    code: str
    message: str
    form: str  # the instrument the record is on, e.g. "treatment_line"
    instance: str  # which record, e.g. "line 2" or "2023-04-01"


@dataclass(frozen=True)
class PatientDerivation:
    record_id: str
    rules_version: int
    settings: AnalysisSettings
    age_at_adv_dx: int | None
    cohort: int | None
    tki_sequence: str | None
    index_line_no: int | None
    index_pd_date: date | None
    alk_mut_status_at_index: str | None
    os_dx_date: date | None
    os_dx_days: int | None
    os_dx_months: Decimal | None
    os_dx_event: bool | None
    os_dx_censor_reason: str | None
    lines: tuple[LineResult, ...]
    biopsies: tuple[BiopsyResult, ...]
    flags: tuple[DataQualityFlag, ...]
    # §8 (v2) `patients`
    last_known_alive_date: date | None = None  # capped at the cut-off; None when died on or before it
    compound_mutation_at_index: bool | None = None
    n_lines: int | None = None  # lines started on or before the cut-off
