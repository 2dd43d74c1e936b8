"""Data entry for coordinators: one module per concept, each registering its admins on import."""
from . import audit, derived, exports, imports, instruments, mixins, patients, sites

__all__ = ["audit", "derived", "exports", "imports", "instruments", "mixins", "patients", "sites"]
