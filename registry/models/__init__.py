"""The case report form as models; one module per concept, every class re-exported here."""
from .access import RegistryRole, Role, SiteMembership
from .api_tokens import ApiToken
from .biopsies import Biopsy
from .data_cuts import DataCut, DataCutBlob, DataCutEntry, DataCutScope
from .data_quality import QualityRule, QualityRuleHit, QualityRuleRun
from .derivation_runs import DerivationChunk, DerivationRun
from .derived import (
    AnalysisSettings, AssessmentDerivation, BiopsyDerivation, LineDerivation, PatientDerivation,
)
from .exports import ExportJob, ExportJobStatus
from .identified_exports import ExportDoor, IdentifiedExport
from .lesion_measurements import LesionMeasurement
from .lesions import Lesion
from .local_therapy import LocalTherapy
from .locks import RecordLock, RecordSignature
from .ngs_variants import NgsVariant
from .patients import Patient, PatientVersion
from .saved_reports import SavedReport, SortDirection
from .queries import Query, QueryMessage, QueryState, QueryTransition
from .sites import Site
from .treatment_lines import TreatmentLine
from .tumor_assessments import TumorAssessment
from .workspace import SoftCheckConfirmation, WorkspaceSettings

__all__ = [
    "AnalysisSettings",
    "ApiToken",
    "AssessmentDerivation",
    "BiopsyDerivation",
    "DerivationChunk",
    "DerivationRun",
    "LineDerivation",
    "PatientDerivation",
    "Biopsy",
    "DataCut",
    "DataCutBlob",
    "DataCutEntry",
    "DataCutScope",
    "ExportDoor",
    "ExportJob",
    "ExportJobStatus",
    "IdentifiedExport",
    "Lesion",
    "LesionMeasurement",
    "LocalTherapy",
    "NgsVariant",
    "Patient",
    "PatientVersion",
    "RecordLock",
    "RecordSignature",
    "Query",
    "QueryMessage",
    "QueryState",
    "QueryTransition",
    "QualityRule",
    "QualityRuleHit",
    "QualityRuleRun",
    "RegistryRole",
    "Role",
    "Site",
    "SiteMembership",
    "SavedReport",
    "SoftCheckConfirmation",
    "SortDirection",
    "TreatmentLine",
    "TumorAssessment",
    "WorkspaceSettings",
]
