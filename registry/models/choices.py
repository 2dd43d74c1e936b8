"""Coded values of the data dictionary (fixtures/data_dictionary.csv).

Each value is the dictionary's code and each label its label, character for character;
tests/models/test_dictionary_contract.py fails if the two drift apart.
"""
from django.db import models


class RecordStatus(models.IntegerChoices):
    """REDCap's `<form>_complete` status of one instrument instance."""

    INCOMPLETE = 0, "Incomplete"
    UNVERIFIED = 1, "Unverified"
    COMPLETE = 2, "Complete"


class YesNo(models.IntegerChoices):
    """REDCap `yesno` fields. Blank (NULL) means unknown, which is not No."""

    YES = 1, "Yes"
    NO = 0, "No"


class Sex(models.IntegerChoices):
    MALE = 1, "Male"
    FEMALE = 2, "Female"


class Smoking(models.IntegerChoices):
    NEVER = 0, "Never smoker"
    FORMER = 1, "Former smoker"
    CURRENT = 2, "Current smoker"


class Histology(models.IntegerChoices):
    ADENOCARCINOMA = 1, "Adenocarcinoma"
    SQUAMOUS = 2, "Squamous cell carcinoma"
    ADENOSQUAMOUS = 3, "Adenosquamous carcinoma"
    LARGE_CELL = 4, "Large cell carcinoma"
    SMALL_CELL = 5, "Small cell carcinoma"
    OTHER = 99, "Other"


class BiopsyHistology(models.IntegerChoices):
    """The diagnosis histology codes plus 98, Not assessed."""

    ADENOCARCINOMA = 1, "Adenocarcinoma"
    SQUAMOUS = 2, "Squamous cell carcinoma"
    ADENOSQUAMOUS = 3, "Adenosquamous carcinoma"
    LARGE_CELL = 4, "Large cell carcinoma"
    SMALL_CELL = 5, "Small cell carcinoma"
    OTHER = 99, "Other"
    NOT_ASSESSED = 98, "Not assessed"


class AlkMethod(models.IntegerChoices):
    IHC = 1, "IHC (Ventana D5F3)"
    FISH = 2, "FISH"
    TISSUE_NGS = 3, "Tissue NGS"
    PLASMA_NGS = 4, "Plasma NGS"
    RT_PCR = 5, "RT-PCR"


class AlkVariant(models.IntegerChoices):
    EML4_ALK_V1 = 1, "EML4-ALK variant 1"
    EML4_ALK_V2 = 2, "EML4-ALK variant 2"
    EML4_ALK_V3 = 3, "EML4-ALK variant 3a/b"
    EML4_ALK_OTHER = 4, "Other EML4-ALK variant"
    NON_EML4 = 5, "Non-EML4 partner"
    UNKNOWN = 99, "Unknown"


class Stage(models.IntegerChoices):
    IIIB = 1, "IIIB"
    IIIC = 2, "IIIC"
    IVA = 3, "IVA"
    IVB = 4, "IVB"
    RECURRENCE = 5, "Recurrence after curative treatment"


class LineType(models.IntegerChoices):
    ALK_TKI = 1, "ALK tyrosine kinase inhibitor"
    CHEMOTHERAPY = 2, "Chemotherapy"
    CHEMOTHERAPY_ANTIANGIOGENIC = 3, "Chemotherapy + anti-angiogenic"
    IMMUNOTHERAPY = 4, "Immunotherapy-containing"
    OTHER = 99, "Other systemic therapy"


class Regimen(models.IntegerChoices):
    CRIZOTINIB = 1, "Crizotinib"
    ALECTINIB = 2, "Alectinib"
    CERITINIB = 3, "Ceritinib"
    BRIGATINIB = 4, "Brigatinib"
    ENSARTINIB = 5, "Ensartinib"
    IRUPLINIB = 6, "Iruplinib (WX-0593)"
    LORLATINIB = 7, "Lorlatinib"
    PEMETREXED_PLATINUM = 20, "Pemetrexed + platinum"
    PEMETREXED_PLATINUM_BEVACIZUMAB = 21, "Pemetrexed + platinum + bevacizumab"
    DOCETAXEL = 22, "Docetaxel"
    GEMCITABINE_PLATINUM = 23, "Gemcitabine + platinum"
    OTHER = 99, "Other"


# The dictionary's annotation on line_drug: the ALK TKI generation of each named inhibitor.
TKI_GENERATION_BY_REGIMEN = {
    Regimen.CRIZOTINIB: 1,
    Regimen.ALECTINIB: 2,
    Regimen.CERITINIB: 2,
    Regimen.BRIGATINIB: 2,
    Regimen.ENSARTINIB: 2,
    Regimen.IRUPLINIB: 2,
    Regimen.LORLATINIB: 3,
}
CHEMOTHERAPY_REGIMENS = frozenset(
    {
        Regimen.PEMETREXED_PLATINUM,
        Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB,
        Regimen.DOCETAXEL,
        Regimen.GEMCITABINE_PLATINUM,
    }
)


class TkiGeneration(models.IntegerChoices):
    FIRST = 1, "First"
    SECOND = 2, "Second"
    THIRD = 3, "Third"


class LineEndReason(models.IntegerChoices):
    PROGRESSION = 1, "Progression"
    TOXICITY = 2, "Toxicity"
    DEATH = 3, "Death"
    PATIENT_DECISION = 4, "Patient decision"
    PLANNED_COMPLETION = 5, "Planned course completed"
    CLINICAL_PROGRESSION = 6, "Clinical progression without imaging"
    LOST_TO_FOLLOW_UP = 7, "Lost to follow-up"
    OTHER = 99, "Other"


class Ecog(models.IntegerChoices):
    ECOG_0 = 0, "0"
    ECOG_1 = 1, "1"
    ECOG_2 = 2, "2"
    ECOG_3 = 3, "3"
    ECOG_4 = 4, "4"


class LocalTherapyType(models.IntegerChoices):
    SRS = 1, "Stereotactic radiosurgery"
    WBRT = 2, "Whole-brain radiotherapy"
    SBRT = 3, "Stereotactic body radiotherapy"
    CONVENTIONAL_RT = 4, "Conventional radiotherapy"
    SURGERY = 5, "Surgery"
    THERMAL_ABLATION = 6, "Thermal ablation"
    OTHER = 99, "Other"


class AnatomicSite(models.IntegerChoices):
    """Sites of lesions, new lesions, local therapy and biopsies (one code list in the dictionary)."""

    LUNG = 1, "Lung"
    LYMPH_NODE = 2, "Lymph node"
    BRAIN = 3, "Brain"
    LEPTOMENINGES = 4, "Leptomeninges"
    PLEURAL_EFFUSION = 5, "Pleural effusion"
    PERICARDIAL_EFFUSION = 6, "Pericardial effusion"
    LYMPHANGITIS = 7, "Pulmonary lymphangitis"
    LIVER = 8, "Liver"
    BONE = 9, "Bone"
    ADRENAL = 10, "Adrenal"
    PLEURA = 11, "Pleura (nodule or mass)"
    ASCITES = 12, "Ascites"
    OTHER = 99, "Other"


class LocalTherapyIntent(models.IntegerChoices):
    OLIGO_PROGRESSION = 1, "Oligo-progression"
    SYMPTOM_PALLIATION = 2, "Symptom palliation"
    CONSOLIDATION = 3, "Consolidation of residual disease"
    OTHER = 99, "Other"


class ImagingScope(models.IntegerChoices):
    CT_CHEST_ABDOMEN = 1, "CT chest/abdomen"
    BRAIN_MRI = 2, "Brain MRI"
    BRAIN_CT = 3, "Brain CT"
    PET_CT = 4, "PET-CT"
    BONE_SCAN = 5, "Bone scan"


class NonTargetRead(models.IntegerChoices):
    CR = 1, "CR"
    NON_CR_NON_PD = 2, "Non-CR/Non-PD"
    UNEQUIVOCAL_PROGRESSION = 3, "Unequivocal progression"
    NOT_EVALUATED = 4, "Not evaluated"
    NO_NONTARGET_DISEASE = 5, "No non-target disease"


class ReportedResponse(models.IntegerChoices):
    CR = 1, "CR"
    PR = 2, "PR"
    SD = 3, "SD"
    PD = 4, "PD"
    NE = 5, "NE"
    NON_CR_NON_PD = 6, "Non-CR/Non-PD"


class LesionClass(models.IntegerChoices):
    TARGET = 1, "Target"
    NON_TARGET = 2, "Non-target"


class MeasurementStatus(models.IntegerChoices):
    MEASURED = 1, "Measured"
    DISAPPEARED = 2, "Disappeared"
    TOO_SMALL = 3, "Present, too small to measure"
    UNEQUIVOCAL_PROGRESSION = 4, "Unequivocal progression"
    NOT_EVALUATED = 5, "Not evaluated"
    PRESENT_NOT_MEASURED = 6, "Present (non-target, not measured)"


class Specimen(models.IntegerChoices):
    TISSUE = 1, "Tissue"
    PLASMA = 2, "Plasma (ctDNA)"
    CSF = 3, "Cerebrospinal fluid"
    PLEURAL_EFFUSION = 4, "Pleural effusion"


class VariantKind(models.IntegerChoices):
    POINT_MUTATION = 1, "Point mutation or small indel"
    AMPLIFICATION = 2, "Amplification"
    FUSION = 3, "Fusion"
    DELETION = 4, "Deletion / loss"


class VitalStatus(models.IntegerChoices):
    ALIVE = 1, "Alive"
    DEAD = 2, "Dead"
    LOST_TO_FOLLOW_UP = 3, "Lost to follow-up"


class DeathCause(models.IntegerChoices):
    PROGRESSION = 1, "Disease progression"
    TOXICITY = 2, "Treatment toxicity"
    OTHER = 3, "Other"
    UNKNOWN = 99, "Unknown"
