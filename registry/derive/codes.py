"""The data dictionary's codes that the derivations use, mirrored without Django.

Values are the codes of the data dictionary (fixtures/data_dictionary.csv) (the same as registry/models/choices.py).
"""
from enum import IntEnum


class YesNo(IntEnum):
    NO = 0
    YES = 1


class Histology(IntEnum):
    """Diagnosis histology; `bx_histology` shares these codes and adds 98, Not assessed."""

    ADENOCARCINOMA = 1
    SQUAMOUS = 2
    ADENOSQUAMOUS = 3
    LARGE_CELL = 4
    SMALL_CELL = 5
    OTHER = 99
    NOT_ASSESSED = 98


class LineType(IntEnum):
    ALK_TKI = 1
    CHEMOTHERAPY = 2
    CHEMOTHERAPY_ANTIANGIOGENIC = 3
    IMMUNOTHERAPY = 4
    OTHER = 99


class Regimen(IntEnum):
    CRIZOTINIB = 1
    ALECTINIB = 2
    CERITINIB = 3
    BRIGATINIB = 4
    ENSARTINIB = 5
    IRUPLINIB = 6
    LORLATINIB = 7
    PEMETREXED_PLATINUM = 20
    PEMETREXED_PLATINUM_BEVACIZUMAB = 21
    DOCETAXEL = 22
    GEMCITABINE_PLATINUM = 23
    OTHER = 99


class LineEndReason(IntEnum):
    PROGRESSION = 1
    TOXICITY = 2
    DEATH = 3
    PATIENT_DECISION = 4
    PLANNED_COMPLETION = 5
    CLINICAL_PROGRESSION = 6
    LOST_TO_FOLLOW_UP = 7
    OTHER = 99


class Site(IntEnum):
    """Anatomic sites of lesions, new lesions, local therapy and biopsies."""

    LUNG = 1
    LYMPH_NODE = 2
    BRAIN = 3
    LEPTOMENINGES = 4
    PLEURAL_EFFUSION = 5
    PERICARDIAL_EFFUSION = 6
    LYMPHANGITIS = 7
    LIVER = 8
    BONE = 9
    ADRENAL = 10
    PLEURA = 11
    ASCITES = 12
    OTHER = 99


class LocalTherapyIntent(IntEnum):
    OLIGO_PROGRESSION = 1
    SYMPTOM_PALLIATION = 2
    CONSOLIDATION = 3
    OTHER = 99


class NonTargetRead(IntEnum):
    CR = 1
    NON_CR_NON_PD = 2
    UNEQUIVOCAL_PROGRESSION = 3
    NOT_EVALUATED = 4
    NO_NONTARGET_DISEASE = 5


class ReportedResponse(IntEnum):
    CR = 1
    PR = 2
    SD = 3
    PD = 4
    NE = 5
    NON_CR_NON_PD = 6


class LesionClass(IntEnum):
    TARGET = 1
    NON_TARGET = 2


class MeasurementStatus(IntEnum):
    MEASURED = 1
    DISAPPEARED = 2
    TOO_SMALL = 3
    UNEQUIVOCAL_PROGRESSION = 4
    NOT_EVALUATED = 5
    PRESENT_NOT_MEASURED = 6


class VariantKind(IntEnum):
    POINT_MUTATION = 1
    AMPLIFICATION = 2
    FUSION = 3
    DELETION = 4


class VitalStatus(IntEnum):
    ALIVE = 1
    DEAD = 2
    LOST_TO_FOLLOW_UP = 3


# §3: sites whose progression makes it extensive (Wu 2024: lymphangitis, effusions, leptomeninges);
# §0: the same sites are non-measurable, so never a target lesion.
EXTENSIVE_PROGRESSION_SITES = frozenset(
    {Site.LYMPHANGITIS, Site.PLEURAL_EFFUSION, Site.PERICARDIAL_EFFUSION, Site.ASCITES, Site.LEPTOMENINGES}
)
NON_MEASURABLE_SITES = EXTENSIVE_PROGRESSION_SITES
CNS_SITES = frozenset({Site.BRAIN, Site.LEPTOMENINGES})
