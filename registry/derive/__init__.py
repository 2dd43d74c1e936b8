"""Derivation rules (docs/derivation-rules.md, version 2) as pure functions.

Frozen dataclasses of one patient's raw records go in (`inputs.PatientRecord`), settings beside them
(`settings.AnalysisSettings`), and dataclasses come out (`results.PatientDerivation`). Nothing here
imports Django, reads the database or reads the clock: the data cut-off is a setting.
"""
from .patient import derive_patient
from .settings import RULES_VERSION, AnalysisSettings

__all__ = ["AnalysisSettings", "RULES_VERSION", "derive_patient"]
