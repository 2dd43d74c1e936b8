"""§0 settings: every number that is a choice rather than a published definition, with its default."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

RULES_VERSION = 1


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
    rules_version: int = RULES_VERSION
