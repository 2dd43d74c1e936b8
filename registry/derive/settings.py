"""§0 settings: every number that is a choice rather than a published definition, with its default."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Version 2 (issue 13): the datasets as they stood at the cut-off, the extent's lower bound, the ADaM
# variables and the columns of rules §8 (v2). A result derived under another version is stale.
RULES_VERSION = 2
DEFAULT_STUDY_ID = "ALK-REGISTRY"


@dataclass(frozen=True)
class AnalysisSettings:
    """Stored with every derived result together with `rules_version`.

    `data_cutoff` has no default: without it the responses, progression and biopsy labels are derived
    from all the data, and the endpoints (PFS, OS, continued beyond progression while ongoing) are blank.
    """

    data_cutoff: date | None = None
    baseline_window_days: int = 60
    death_window_days: int = 182
    pfs_death_is_event: bool = True
    lesion_progression_min_mm: Decimal = Decimal(5)
    sd_min_days: int = 42
    local_therapy_window_days: int = 60
    beyond_pd_min_days: int = 30
    biopsy_lookback_days: int = 30
    days_per_month: Decimal = Decimal("30.4375")
    # §0 (v2): written as STUDYID (and in USUBJID) in the ADaM-style datasets; derives nothing else.
    study_id: str = DEFAULT_STUDY_ID
    rules_version: int = RULES_VERSION
