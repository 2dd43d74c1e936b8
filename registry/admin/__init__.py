"""Data entry for coordinators: one module per concept, each registering its admins on import."""
from . import audit, derived, imports, instruments, mixins, patients, sites

__all__ = ["audit", "derived", "imports", "instruments", "mixins", "patients", "sites"]
