"""Data entry for coordinators: one module per concept, each registering its admins on import."""
from . import audit, imports, instruments, mixins, patients, sites

__all__ = ["audit", "imports", "instruments", "mixins", "patients", "sites"]
