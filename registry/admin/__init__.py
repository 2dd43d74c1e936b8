"""Data entry for coordinators: one module per concept, each registering its admins on import."""
from . import (
    api_tokens, audit, data_quality, derived, exports, identified_exports, imports, instruments, mixins, patients, sites, soft_checks,
    third_party, workspace,
)
from . import locks
from . import queries  # issue 12 §2
from . import data_cuts
from . import derivation_runs  # issue 14 §1

__all__ = [
    "api_tokens", "audit", "data_quality", "derived", "exports", "identified_exports", "imports", "instruments", "mixins", "patients",
    "sites", "soft_checks", "third_party", "workspace",
    "locks",
    "queries",
    "data_cuts",
    "derivation_runs",
]
