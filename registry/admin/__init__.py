"""Data entry for coordinators: one module per concept, each registering its admins on import."""
from . import (
    api_tokens, audit, data_quality, derived, exports, identified_exports, imports, instruments, mixins, patients, sites, soft_checks,
    third_party, workspace,
)

__all__ = [
    "api_tokens", "audit", "data_quality", "derived", "exports", "identified_exports", "imports", "instruments", "mixins", "patients",
    "sites", "soft_checks", "third_party", "workspace",
]
