"""The demo cohort: 73 invented patients built so that the registry's own derivations reproduce the
reference study (Wu et al., J Transl Med 2024;22:582): its Tables 1-3, Fig. 2
and, approximately, the survival medians of Figs. 5 and 6.

Nothing here is a derived label. Each patient is planned as a clinical course (lines of therapy,
what each progression looked like, biopsies and their variants, death or last contact) and written
as raw REDCap records: treatment lines, imaging time points with lesion measurements, new-lesion
sites and counts, symptoms, local therapy, biopsies, NGS variants, vital status. The registry then
derives RECIST responses, progression labels, cohorts, mechanisms and endpoints from those records
like any other. `demo_cohort_rows()` builds the flat rows; `fixtures/demo_cohort.csv` is their
committed REDCap flat export (a test keeps the two equal), and `load_demo` imports that file.

How the counts are reached (each list below states the published figure it is built to give):

- Cohort 1: 20 patients, line 1 alectinib with a progression (WU-001 .. WU-020).
- Cohort 2: 53 patients, line 1 crizotinib with a progression, line 2 a second-generation TKI
  (alectinib 33, brigatinib 10, ceritinib 7, iruplinib 2, ensartinib 1) from that progression,
  with a progression (WU-021 .. WU-073).
- After the index progression (the second-generation one) every patient follows one of the plans
  of `POST_INDEX_PLANS`, whose numbers give Table 3 and the groups of Figs. 5 and 6.

The records also exercise the rules that the published figures do not depend on
(docs/derivation-rules.md):

- Each line has 1 to 5 target lesions (dealt in turn over the cohort's lines in record order: 1, 2,
  3, 4, 5, 1, ...), at most two per organ, the first in the lung; diameters are in tenths of a
  millimetre (e.g. 23.4 mm), drawn from a generator seeded with the record and line, so the sums meet
  the §0 thresholds exactly as computed here (each line's plan is checked before it is written).
- Some progressions are unequivocal progression of a known non-target lesion instead of new lesions
  or target growth (§2, §3): a brain metastasis, a pleural effusion, a bone metastasis.
- Some lines after the first subsequent one end without a progression: switched to docetaxel for
  toxicity (PFS censored `new_therapy`, §4), or imaging stopped long before the death (the death is
  beyond `death_window_days`: PFS censored `death_after_missed_assessments`, §4). Only first
  subsequent lines enter Figs. 5 and 6 and Table 3 counts regimens, so the figures are unchanged.

Dates are invented; every date lies before the study's data cut-off, 2024-02-28.
"""
from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from registry.derive.settings import AnalysisSettings as RuleSettings
from registry.models import Patient, Site
from registry.models.choices import (
    AnatomicSite, Histology, LineEndReason, LineType, LocalTherapyIntent, LocalTherapyType, MeasurementStatus,
    Regimen, Smoking, Specimen, Stage, VariantKind, VitalStatus,
)
from registry.records.instruments import flat_columns, format_value

DEFAULT_RULE_SETTINGS = RuleSettings()
STUDY_DATA_CUTOFF = date(2024, 2, 28)  # Wu 2024, Methods: "The data cut-off date ... was February 28, 2024"
RECORD_PREFIX = "WU-"
COHORT_1_SIZE = 20
COHORT_2_SIZE = 53
DEMO_SITE_CODES = ("demo-a", "demo-b")  # odd record numbers in the first, even in the second

SCAN_INTERVAL_DAYS = 56  # imaging every 8 weeks (the study: every 2-3 months)
BASELINE_DAYS_BEFORE_START = 7
MAX_TARGET_LESIONS = 5  # RECIST 1.1: at most five target lesions, two per organ
TENTH_MM = Decimal("0.1")
# The demo is derived with the default settings (rules §0): the plan uses the same numbers.
LESION_PROGRESSION_MIN_MM = DEFAULT_RULE_SETTINGS.lesion_progression_min_mm  # 5 mm (§3)
DEATH_WINDOW_DAYS = DEFAULT_RULE_SETTINGS.death_window_days  # 182 days (§4)
# Sites of the target lesions after the first (a lung primary): two per organ at most.
EXTRA_TARGET_SITES = (AnatomicSite.LUNG, AnatomicSite.LYMPH_NODE, AnatomicSite.LYMPH_NODE, AnatomicSite.LIVER,
                      AnatomicSite.LIVER, AnatomicSite.ADRENAL, AnatomicSite.PLEURA)


# ---------------------------------------------------------------------------------------- plans

@dataclass(frozen=True)
class Progression:
    """What the progression scan of a line shows (the registry derives the labels from it).

    `cns`: new lesions in the brain; `extent` "oligo" (1-3 progressing lesions at ordinary sites),
    "extensive" (more than 3, or an effusion) or "unknown" (new lesions without a count);
    `symptomatic` / `neuro`: ta_symptoms / ta_neuro_symptoms; `local_therapy`: radiotherapy of the
    progressing site two weeks later, the line continued beyond progression for `beyond_days`.
    `by_nontarget`: the progression is unequivocal progression of a non-target lesion known since the
    line's baseline, not new lesions or target growth: the brain metastasis (`cns`, oligo), a pleural
    effusion (extensive, not CNS) or a bone metastasis (oligo, not CNS).
    """

    cns: bool
    extent: str
    symptomatic: bool
    neuro: bool = False
    local_therapy: bool = False
    beyond_days: int = 0
    by_nontarget: bool = False


@dataclass(frozen=True)
class LinePlan:
    drug: Regimen
    ecog: int
    cns_mets: bool
    pfs_days: int | None  # days from the start to the progression scan; None: no progression
    progression: Progression | None = None


@dataclass(frozen=True)
class IndexBiopsy:
    """The re-biopsy at the second-generation progression (Fig. 2)."""

    specimen: Specimen = Specimen.TISSUE
    adequate: bool = True
    ngs: bool = True
    histology: Histology | int = Histology.ADENOCARCINOMA
    alk_mutations: tuple[str, ...] = ()  # as the laboratory wrote them
    other_variants: tuple[tuple[str, VariantKind, str, str], ...] = ()  # (gene, kind, protein, partner/cn)


@dataclass(frozen=True)
class PostIndexPlan:
    """What happened after the index progression.

    `first`: the first subsequent line's regimen (None: no further systemic therapy); `first_pfs_days`
    its progression (None: still on it, without progression, at the last contact); `later`: the
    regimen of one more line after it, if any; `os_days`: death that many days after the first
    subsequent line started (or after the index progression when there is none); None: alive.
    `first_by_nontarget`: the first subsequent line progresses by a bone metastasis (a non-target
    lesion) instead of target growth. The later line has no progression; `later_switch_days`: it
    stopped for toxicity that many days after its start and docetaxel followed two weeks later;
    `later_imaging_stops_days`: its last scan is at most that many days after its start.
    """

    name: str
    first: Regimen | None
    first_pfs_days: int | None
    later: Regimen | None
    os_days: int | None
    first_by_nontarget: bool = False
    later_switch_days: int | None = None
    later_imaging_stops_days: int | None = None


@dataclass
class PatientPlan:
    number: int  # 1..73
    cohort: int
    sex: int
    smoking: int
    histology: int
    lines: list[LinePlan]
    ages_at_line_starts: tuple[int, ...]  # completed years at line 1 start (and line 2 for cohort 2)
    post_index: PostIndexPlan
    index_biopsy: IndexBiopsy | None
    transformed_after_line_1: bool = False

    @property
    def record_id(self) -> str:
        return f"{RECORD_PREFIX}{self.number:03d}"


# --- Table 1: baseline characteristics ---------------------------------------------------------

# Completed years at the start of line 1 (cohort 1: alectinib; cohort 2: crizotinib). Table 1:
# cohort 1 median 52 (33-76), 18 under 65; cohort 2 crizotinib stage median 49 (20-68), 50 under 65.
# Cohort 2 patients are one year older at the start of line 2: median 50 (21-69), 49 under 65.
COHORT_1_AGES = (33, 38, 41, 44, 46, 47, 49, 50, 51, 52, 52, 54, 55, 57, 58, 60, 61, 63, 68, 76)
COHORT_2_AGES = (
    20, 24, 27, 29, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 43, 44, 45, 45, 46, 47, 47, 48, 48,
    49,  # the 27th of 53: the median
    49, 50, 50, 51, 52, 52, 53, 54, 54, 55, 56, 56, 57, 58, 58, 59, 60, 60, 61, 62, 62, 63, 64, 65, 66, 68,
)


def _spread(values: tuple, seed: str) -> list:
    """The values in a fixed shuffled order, so that ages do not follow the record numbers."""
    shuffled = list(values)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _members(count: int, of: int, seed: str) -> set[int]:
    """`count` fixed positions out of range(of)."""
    return set(random.Random(seed).sample(range(of), count))


# --- the cohort 1 (alectinib) progressions: Table 2, "Alectinib n = 20" --------------------------
# Baseline CNS metastases 6: CNS progression 1 (16.7 %); without 14: 2 (14.3 %); all 3/20 (15.0 %).
# Symptomatic 8/20 (40.0 %), symptomatic CNS 1/20 (5.0 %). Oligo 6/20 (30 %), 3 treated locally.
# A known pleural effusion progressing unequivocally makes two of the extensive progressions (WU-004,
# WU-012: otherwise a new effusion, the same site and count).
COHORT_1_NONTARGET_PROGRESSION = {3, 11}


def _cohort_1_index_line(i: int) -> LinePlan:
    cns_mets = i < 6
    cns = i in (0, 6, 7)
    symptomatic = i in (0, 1, 8, 9, 10, 11, 12, 13)
    oligo = i in (0, 6, 14, 15, 16, 17)
    local_therapy = i in (0, 14, 15)
    progression = Progression(
        cns=cns, extent="oligo" if oligo else "extensive", symptomatic=symptomatic, neuro=i == 0,
        local_therapy=local_therapy, beyond_days=_beyond_days(i) if local_therapy else 0,
        by_nontarget=i in COHORT_1_NONTARGET_PROGRESSION,
    )
    return LinePlan(Regimen.ALECTINIB, ecog=1 if i < 9 else 2, cns_mets=cns_mets,  # ECOG 0-1: 9, ≥ 2: 11
                    pfs_days=300 + (i * 137) % 620, progression=progression)


# --- cohort 2, line 1 (crizotinib): Table 2, "Crizotinib n = 53" ---------------------------------
# Baseline CNS metastases 11 (j 0-10): CNS progression 8 (72.7 %); without 42: 22 (52.4 %);
# all 30/53 (56.6 %). Symptomatic 27/53 (50.9 %), symptomatic CNS 17/53 (32.1 %).
# Oligo 18 of the 52 with a known extent (34.6 %), 9 treated locally; one extent unknown.
CRIZOTINIB_CNS = set(range(0, 8)) | set(range(11, 33))
CRIZOTINIB_SYMPTOMATIC_CNS = set(range(0, 6)) | set(range(11, 22))
CRIZOTINIB_SYMPTOMATIC = CRIZOTINIB_SYMPTOMATIC_CNS | set(range(33, 43))
CRIZOTINIB_OLIGO = {0, 1, 2, 11, 12, 13, 14, 15, 16, 33, 34, 35, 36, 37, 43, 44, 45, 46}
CRIZOTINIB_UNKNOWN_EXTENT = {47}
CRIZOTINIB_LOCAL_THERAPY = {0, 1, 11, 12, 13, 33, 34, 43, 44}
# ECOG at the start of crizotinib 0-1: 41, ≥ 2: 12; of the second-generation line 0-1: 31, ≥ 2: 22.
CRIZOTINIB_ECOG_2 = set(range(41, 53))
SECOND_LINE_ECOG_2 = CRIZOTINIB_ECOG_2 | set(range(31, 41))
# Unequivocal progression of a known non-target lesion: the brain metastasis in two oligo CNS
# progressions with metastases at the start (1, 2: otherwise one new brain lesion, the same site and
# count) and a pleural effusion in two extensive ones of even record numbers (9, 41: otherwise a new
# effusion).
CRIZOTINIB_NONTARGET_PROGRESSION = {1, 2, 9, 41}

# --- cohort 2, line 2 (second generation): Table 2, "Ceritinib n = 7" and "Other ALK-TKIs n = 46" --
# CNS metastases at its start: the 11 with them before crizotinib and 21 of the 22 whose brain
# progressed on it: 32 (60.4 %, Table 1), j 0-31.
SECOND_LINE_CNS_METS = set(range(0, 32))
CERITINIB = {3, 14, 25, 35, 41, 47, 51}  # 3 with CNS metastases, 4 without
BRIGATINIB = {5, 9, 17, 22, 28, 37, 43, 48, 49, 52}
IRUPLINIB = {30, 45}
ENSARTINIB = {39}
# Ceritinib: CNS progression 3/3 with metastases (100 %), 3/4 without (75 %), 6/7 (85.7 %);
# symptomatic 2/7 (28.6 %), both symptomatic CNS (28.6 %).
# Others: 15/29 with metastases (51.7 %), 3/17 without (17.6 %), 18/46 (39.1 %); symptomatic
# 17/46 (37.0 %; the paper prints 36.9), symptomatic CNS 4/46 (8.7 %).
SECOND_LINE_CNS = {3, 14, 25, 35, 41, 47} | {0, 1, 2, 4, 6, 7, 8, 10, 11, 12, 13, 15, 16, 18, 19} | {32, 33, 34}
SECOND_LINE_SYMPTOMATIC_CNS = {3, 35} | {0, 1, 2, 4}
SECOND_LINE_SYMPTOMATIC = SECOND_LINE_SYMPTOMATIC_CNS | {20, 21, 23, 24, 26, 27, 29, 31, 36, 38, 40, 42, 44}
# Oligo 16/53 (30.2 %), 8 treated locally.
SECOND_LINE_OLIGO = {0, 6, 7, 8, 32, 33, 20, 21, 23, 36, 38, 40, 42, 44, 46, 50}
SECOND_LINE_LOCAL_THERAPY = {0, 6, 32, 20, 21, 36, 38, 40}
# The brain metastasis progressing in two oligo CNS progressions with metastases at the start.
SECOND_LINE_NONTARGET_PROGRESSION = {6, 8}
# One patient's tumour turned squamous after crizotinib (the only re-biopsy at crizotinib
# resistance, Table 1: "Other type" 1 → 2); brigatinib then failed within two months (Fig. 3A).
TRANSFORMED_AFTER_CRIZOTINIB = 48
ADENOSQUAMOUS_AT_DIAGNOSIS = 50


def _beyond_days(position: int) -> int:
    # Local therapy extended the line by about 6.4 months (195 days) in the study.
    return 165 + (position * 23) % 60


def _second_generation_drug(j: int) -> Regimen:
    for drugs, regimen in ((CERITINIB, Regimen.CERITINIB), (BRIGATINIB, Regimen.BRIGATINIB),
                           (IRUPLINIB, Regimen.IRUPLINIB), (ENSARTINIB, Regimen.ENSARTINIB)):
        if j in drugs:
            return regimen
    return Regimen.ALECTINIB


def _cohort_2_lines(j: int) -> list[LinePlan]:
    crizotinib_extent = ("oligo" if j in CRIZOTINIB_OLIGO else "unknown" if j in CRIZOTINIB_UNKNOWN_EXTENT
                         else "extensive")
    crizotinib_local = j in CRIZOTINIB_LOCAL_THERAPY
    crizotinib = LinePlan(
        Regimen.CRIZOTINIB, ecog=2 if j in CRIZOTINIB_ECOG_2 else 1, cns_mets=j < 11,
        pfs_days=150 + (j * 89) % 330,  # with local therapy and beyond, line 2 starts within 2 years
        progression=Progression(
            cns=j in CRIZOTINIB_CNS, extent=crizotinib_extent, symptomatic=j in CRIZOTINIB_SYMPTOMATIC,
            neuro=j in CRIZOTINIB_SYMPTOMATIC_CNS, local_therapy=crizotinib_local,
            beyond_days=_beyond_days(j) if crizotinib_local else 0, by_nontarget=j in CRIZOTINIB_NONTARGET_PROGRESSION,
        ),
    )
    second_local = j in SECOND_LINE_LOCAL_THERAPY
    second = LinePlan(
        _second_generation_drug(j), ecog=2 if j in SECOND_LINE_ECOG_2 else 1, cns_mets=j in SECOND_LINE_CNS_METS,
        pfs_days=50 if j == TRANSFORMED_AFTER_CRIZOTINIB else 120 + (j * 113) % 560,
        progression=Progression(
            cns=j in SECOND_LINE_CNS, extent="oligo" if j in SECOND_LINE_OLIGO else "extensive",
            symptomatic=j in SECOND_LINE_SYMPTOMATIC, neuro=j in SECOND_LINE_SYMPTOMATIC_CNS,
            local_therapy=second_local, beyond_days=_beyond_days(j + 7) if second_local else 0,
            by_nontarget=j in SECOND_LINE_NONTARGET_PROGRESSION,
        ),
    )
    return [crizotinib, second]


# --- after the index progression: Table 3 and the groups of Figs. 5 and 6 ------------------------
#
# Table 3, cohort 1 (20, 13 dead): a subsequent line 18, a subsequent ALK TKI 17, lorlatinib 11,
# chemotherapy 12 (8 of the 13 dead). Cohort 2 (53, 28 dead): 48, 44, 29, 23 (15 of the 28 dead).
# Fig. 5: the first subsequent line an ALK TKI: with an ALK resistance mutation 22 (3 compound;
# PFS median 8.6 months; OS not reached), without 13 (PFS 2.7, OS 11.9 months); lorlatinib first
# 19 and 8. Fig. 6: the first subsequent line platinum chemotherapy, no known ALK mutation: 31
# (PFS 6.9 months). Fig. 2: 44 sequenced re-biopsies: 25 ALK kinase-domain mutations (12 G1202R),
# 19 without (2 squamous transformations, 6 ALK-independent mechanisms, 11 none identified).

# PFS of the first subsequent ALK TKI, in days (30.4375 a month), and OS from its start.
# With a mutation (22): the 11th and 12th of 22 both at 262 days (8.6 months): the curve steps from
# 12/22 over 0.5 to 10/22. The first three are the compound mutations; without them the 10th of
# 19 is at 329 days (10.8 months, Fig. 5C). The last four were still on treatment.
MUTATION_TKI_PFS = (45, 70, 110, 60, 95, 150, 175, 205, 225, 245, 262, 262, 329, 360, 400, 450, 500, 560,
                    None, None, None, None)
# Deaths 6 of 22 (median not reached): 2 in cohort 1, 4 in cohort 2.
MUTATION_TKI_OS = (100, 160, 220, None, 300, None, None, None, 380, None, None, None, None, None, None, None,
                   None, 600, None, None, None, None)
# Without a mutation (13): the 7th of 13 at 82 days (2.7 months).
# By position: 0-1 lorlatinib and 2 brigatinib in cohort 1; 3-8 lorlatinib, 9-10 ceritinib and 11-12
# brigatinib in cohort 2.
NO_MUTATION_TKI_PFS = (35, 140, 42, 50, 190, 82, 320, 63, 510, 56, 250, 75, 420)
# Deaths 7 of 13 (2 in cohort 1, 5 in cohort 2), the 7th at 362 days (11.9 months); the other six
# alive beyond it.
NO_MUTATION_TKI_OS = (120, None, 180, 220, None, 362, None, 260, None, 300, None, 340, None)
# First subsequent line platinum chemotherapy (31): the 16th of 31 at 210 days (6.9 months).
CHEMOTHERAPY_PFS = (40, 49, 56, 70, 84, 98, 112, 126, 140, 154, 168, 175, 182, 196, 203, 210, 224, 238, 252,
                    266, 280, 294, 308, 330, 360, 390, 420, 460, 520, 600, 720)

PLATINUM_DOUBLETS = (Regimen.PEMETREXED_PLATINUM, Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB,
                     Regimen.GEMCITABINE_PLATINUM)

# Patients who had platinum chemotherapy first, then an ALK TKI without a progression (rules §4):
# - the TKI stopped for toxicity that many days after its start, docetaxel two weeks later (its PFS
#   is censored new_therapy at its last scan; chemotherapy was already counted in Table 3);
LATER_LINE_SWITCH_DAYS = {2: 896, 43: 1120, 35: 200}  # WU-002 and WU-043 alive, WU-035 dead
# - imaging stopped after the first follow-up scan (56 days) and the death came more than
#   death_window_days later (its PFS is censored death_after_missed_assessments at that scan).
LATER_LINE_IMAGING_STOPS = {16, 58, 63}
LATER_LINE_IMAGING_STOPS_DAYS = 60
# Every fifth platinum first subsequent line in plan order (7 of 31) progresses by a bone metastasis,
# a non-target lesion, on the day it would otherwise have progressed by target growth.
CHEMOTHERAPY_NONTARGET_PROGRESSION_EVERY = 5


def _mutation_biopsies() -> list[IndexBiopsy]:
    # 25 ALK kinase-domain mutations, 12 with G1202R, 3 compound, written in the laboratories' notations.
    compound = [("G1202R", "L1196M"), ("p.Gly1202Arg", "p.Gly1269Ala"), ("I1171N", "E1210K")]
    single = ["G1202R", "p.G1202R", "p.Gly1202Arg", "G1202R", "G1202R", "p.G1202R", "G1202R", "G1202R",
              "p.Gly1202Arg", "G1202R",  # 10 G1202R alone + 2 in compounds = 12
              "I1171N", "p.I1171N", "I1171T", "I1171T", "V1180L", "p.Val1180Leu", "L1196M", "L1196M",
              "F1174L", "G1269A", "E1210K", "D1203N"]
    return ([IndexBiopsy(alk_mutations=pair) for pair in compound]
            + [IndexBiopsy(alk_mutations=(change,)) for change in single])


def _no_mutation_biopsies() -> list[IndexBiopsy]:
    # 19 sequenced without an ALK kinase-domain mutation: MET amplification (copy number 4.5),
    # AKAP9-BRAF fusion, BRAF V600E, KRAS G12A, KRAS amplification (2.1 and 3.4), two squamous
    # transformations, 11 with no mechanism found (an ALK fusion and TP53 only).
    return [
        IndexBiopsy(histology=Histology.SQUAMOUS),  # the patient transformed after crizotinib
        IndexBiopsy(histology=Histology.SQUAMOUS),
        IndexBiopsy(other_variants=(("MET", VariantKind.AMPLIFICATION, "", "4.5"),)),
        IndexBiopsy(other_variants=(("BRAF", VariantKind.FUSION, "", "AKAP9"),)),
        IndexBiopsy(other_variants=(("BRAF", VariantKind.POINT_MUTATION, "V600E", ""),)),
        IndexBiopsy(other_variants=(("KRAS", VariantKind.POINT_MUTATION, "p.G12A", ""),)),
        IndexBiopsy(other_variants=(("KRAS", VariantKind.AMPLIFICATION, "", "2.1"),)),
        IndexBiopsy(other_variants=(("KRAS", VariantKind.AMPLIFICATION, "", "3.4"),)),
    ] + [IndexBiopsy(other_variants=(("TP53", VariantKind.POINT_MUTATION, "R273H", ""),) if n % 3 == 0 else ())
         for n in range(11)]




# 47 re-biopsies at second-generation resistance, of which 44 were sequenced: two tissue samples
# were inadequate, one was plasma with too little tumour DNA.
UNSEQUENCED_BIOPSIES = (
    IndexBiopsy(adequate=False, ngs=False, histology=Histology.ADENOCARCINOMA),
    IndexBiopsy(adequate=False, ngs=False, histology=Histology.ADENOCARCINOMA),
    IndexBiopsy(specimen=Specimen.PLASMA, adequate=False, ngs=False, histology=98),  # 98: not assessed
)


def _post_index_plans() -> dict[int, tuple[PostIndexPlan, IndexBiopsy | None]]:
    """Patient number → (plan after the index progression, index re-biopsy), for all 73.

    Cohort 1 (20): ALK TKI first with a mutation 5, without 3; nothing further 2; platinum first 10.
    Cohort 2 (53): ALK TKI first with a mutation 17, without 10; nothing further 5; platinum first 21.
    """
    mutation_biopsies = _mutation_biopsies()  # 3 compound, then 22 single
    no_mutation = _no_mutation_biopsies()  # 0-1 transformations, 2-7 ALK-independent, 8-18 none found
    transformed = 21 + TRANSFORMED_AFTER_CRIZOTINIB
    # Shuffled once, so that the groups do not follow the record numbers.
    cohort_1 = _spread(tuple(range(1, 21)), "post-index cohort 1")
    cohort_2 = _spread(tuple(n for n in range(21, 74) if n != transformed), "post-index cohort 2")

    def take(numbers: list[int], count: int) -> list[int]:
        taken = numbers[:count]
        del numbers[:count]
        return taken

    plans: dict[int, tuple[PostIndexPlan, IndexBiopsy | None]] = {}

    # With an ALK mutation, an ALK TKI first (22). The compound mutations (positions 0-2 of the
    # PFS and OS lists) are one lorlatinib patient of cohort 1 and two of cohort 2.
    c1_lorlatinib, c1_other = take(cohort_1, 4), take(cohort_1, 1)
    c2_lorlatinib, c2_other = take(cohort_2, 15), take(cohort_2, 2)
    mutation_tki = (
        [(c1_lorlatinib[0], Regimen.LORLATINIB), (c2_lorlatinib[0], Regimen.LORLATINIB),
         (c2_lorlatinib[1], Regimen.LORLATINIB)]
        + [(n, Regimen.LORLATINIB) for n in c1_lorlatinib[1:]] + [(n, Regimen.CERITINIB) for n in c1_other]
        + [(n, Regimen.LORLATINIB) for n in c2_lorlatinib[2:]] + [(n, Regimen.BRIGATINIB) for n in c2_other]
    )
    # Positions 0 and 4 are cohort 1's deaths; 1, 2, 8 and 17 cohort 2's.
    # Chemotherapy after the TKI: position 3 (cohort 1, alive) and 8 (cohort 2, dead).
    for position, (number, drug) in enumerate(mutation_tki):
        later = Regimen.PEMETREXED_PLATINUM if position in (3, 8) else None
        plans[number] = (PostIndexPlan("mutation_tki", drug, MUTATION_TKI_PFS[position], later,
                                       MUTATION_TKI_OS[position]), mutation_biopsies[position])

    # Without a mutation, an ALK TKI first (13). Chemotherapy after it: position 2 (cohort 1,
    # dead) and 10 (cohort 2, alive).
    no_mutation_tki = (
        [(n, Regimen.LORLATINIB) for n in take(cohort_1, 2)] + [(n, Regimen.BRIGATINIB) for n in take(cohort_1, 1)]
        + [(n, Regimen.LORLATINIB) for n in take(cohort_2, 6)] + [(n, Regimen.CERITINIB) for n in take(cohort_2, 2)]
        + [(n, Regimen.BRIGATINIB) for n in take(cohort_2, 2)]
    )
    for position, (number, drug) in enumerate(no_mutation_tki):
        later = Regimen.GEMCITABINE_PLATINUM if position in (2, 10) else None
        plans[number] = (PostIndexPlan("no_mutation_tki", drug, NO_MUTATION_TKI_PFS[position], later,
                                       NO_MUTATION_TKI_OS[position]), no_mutation[6 + position])

    # No further systemic therapy (7, all dead within months of the index progression).
    spare_mutations = iter(mutation_biopsies[22:])
    for cohort, biopsies in ((cohort_1, (next(spare_mutations), None)),
                             (cohort_2, (next(spare_mutations), next(spare_mutations), no_mutation[5], None, None))):
        for number, biopsy in zip(take(cohort, len(biopsies)), biopsies):
            plans[number] = (PostIndexPlan("none", None, None, None, 40 + (number * 7) % 90), biopsy)

    # Platinum chemotherapy first (31), no known ALK mutation. Cohort 1: sequenced without a
    # mutation 2, an unsequenced re-biopsy 1, none 7; later an ALK TKI for 9 (5 lorlatinib); 7 of
    # the 10 dead. Cohort 2: the transformed patient and 2 more sequenced, 2 unsequenced, 16 none;
    # later an ALK TKI for 17 (8 lorlatinib); 14 of the 21 dead.
    chemotherapy = (
        (take(cohort_1, 10), [no_mutation[1], no_mutation[2], UNSEQUENCED_BIOPSIES[0]], 9, 5, 7),
        ([transformed] + take(cohort_2, 20),
         [no_mutation[0], no_mutation[3], no_mutation[4], UNSEQUENCED_BIOPSIES[1], UNSEQUENCED_BIOPSIES[2]], 17, 8, 14),
    )
    assert not cohort_1 and not cohort_2, "every patient has a plan"
    chemo_position = 0
    for numbers, biopsies, later_tki, later_lorlatinib, deaths in chemotherapy:
        for position, number in enumerate(numbers):
            later = (None if position >= later_tki else Regimen.LORLATINIB if position < later_lorlatinib
                     else Regimen.BRIGATINIB if position % 2 else Regimen.ALECTINIB)
            # 11 and 31 are coprime: every PFS of the list is used once.
            pfs = CHEMOTHERAPY_PFS[(chemo_position * 11) % len(CHEMOTHERAPY_PFS)]
            by_nontarget = chemo_position % CHEMOTHERAPY_NONTARGET_PROGRESSION_EVERY == 0
            chemo_position += 1
            dead = position >= len(numbers) - deaths
            os_days = pfs + 200 + (number * 31) % 300 if dead else None
            plans[number] = (
                PostIndexPlan("chemotherapy", PLATINUM_DOUBLETS[number % len(PLATINUM_DOUBLETS)], pfs, later, os_days,
                              first_by_nontarget=by_nontarget, later_switch_days=LATER_LINE_SWITCH_DAYS.get(number),
                              later_imaging_stops_days=(LATER_LINE_IMAGING_STOPS_DAYS
                                                        if number in LATER_LINE_IMAGING_STOPS else None)),
                biopsies[position] if position < len(biopsies) else None,
            )
    for number in (*LATER_LINE_SWITCH_DAYS, *LATER_LINE_IMAGING_STOPS):
        assert plans[number][0].later in TKI_REGIMENS, f"{number}: no ALK TKI after the chemotherapy"
    for number in LATER_LINE_IMAGING_STOPS:
        assert plans[number][0].os_days is not None, f"{number}: imaging stops only before a death"
    return plans


# --- sex, smoking and histology: Table 1 -------------------------------------------------------
# Cohort 1: male 10, female 10; smokers 6, never 14; all adenocarcinoma.
# Cohort 2: male 30, female 23; smokers 15, never 38; one adenosquamous carcinoma.
COHORT_1_FEMALE = _members(10, COHORT_1_SIZE, "cohort 1 female")
COHORT_1_SMOKERS = _members(6, COHORT_1_SIZE, "cohort 1 smokers")
COHORT_2_FEMALE = _members(23, COHORT_2_SIZE, "cohort 2 female")
COHORT_2_SMOKERS = _members(15, COHORT_2_SIZE, "cohort 2 smokers")


def demo_patient_plans() -> list[PatientPlan]:
    """The 73 patients' courses, in record order."""
    post_index = _post_index_plans()
    plans = []
    ages_1 = _spread(COHORT_1_AGES, "cohort 1 ages")
    ages_2 = _spread(COHORT_2_AGES, "cohort 2 ages")
    for i in range(COHORT_1_SIZE):
        number = i + 1
        plan, biopsy = post_index[number]
        plans.append(PatientPlan(
            number=number, cohort=1, sex=2 if i in COHORT_1_FEMALE else 1,
            smoking=(Smoking.FORMER if i % 2 else Smoking.CURRENT) if i in COHORT_1_SMOKERS else Smoking.NEVER,
            histology=Histology.ADENOCARCINOMA, lines=[_cohort_1_index_line(i)], ages_at_line_starts=(ages_1[i],),
            post_index=plan, index_biopsy=biopsy,
        ))
    for j in range(COHORT_2_SIZE):
        number = COHORT_1_SIZE + j + 1
        plan, biopsy = post_index[number]
        plans.append(PatientPlan(
            number=number, cohort=2, sex=2 if j in COHORT_2_FEMALE else 1,
            smoking=(Smoking.FORMER if j % 3 else Smoking.CURRENT) if j in COHORT_2_SMOKERS else Smoking.NEVER,
            histology=Histology.ADENOSQUAMOUS if j == ADENOSQUAMOUS_AT_DIAGNOSIS else Histology.ADENOCARCINOMA,
            lines=_cohort_2_lines(j), ages_at_line_starts=(ages_2[j], ages_2[j] + 1),
            post_index=plan, index_biopsy=biopsy, transformed_after_line_1=j == TRANSFORMED_AFTER_CRIZOTINIB,
        ))
    return plans


# ---------------------------------------------------------------------------------------- writing

def completed_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def birth_date_for(ages: tuple[tuple[date, int], ...]) -> date:
    """The first birth date (searching back from the youngest possible) with each completed age on its date."""
    first_day, first_age = ages[0]
    latest = date(first_day.year - first_age, first_day.month, min(first_day.day, 28))
    for back in range(0, 800):
        born = latest - timedelta(days=back)
        if all(completed_years(born, day) == age for day, age in ages):
            return born
    raise ValueError(f"no birth date gives the ages {ages}")


class _Rows:
    """One patient's flat rows: the record row, then each repeating instrument's instances."""

    def __init__(self, record_id: str):
        self.record_id = record_id
        self.record: dict[str, str] = {}
        self.instances: dict[str, list[dict[str, str]]] = {}
        self.assessment_dates: set[date] = set()
        self.biopsy_dates: set[date] = set()

    def add(self, form: str, **values) -> None:
        rows = self.instances.setdefault(form, [])
        rows.append({name: format_value(value) for name, value in values.items()} | {f"{form}_complete": "2"})

    def flat(self, columns: tuple[str, ...]) -> list[list[str]]:
        rows = [[self.record_id, "", "", *(self.record.get(name, "") for name in columns[3:])]]
        for form in ("treatment_line", "local_therapy", "tumor_assessment", "lesion", "lesion_measurement",
                     "biopsy", "ngs_variant"):
            for instance, values in enumerate(self.instances.get(form, ()), start=1):
                rows.append([self.record_id, form, str(instance), *(values.get(name, "") for name in columns[3:])])
        return rows


NEW_LESION_SITE_CODES = (*range(1, 13), 99)
SCOPE_CODES = range(1, 6)


@dataclass(frozen=True)
class LineLesions:
    """One line's lesions as planned (rules §2): the target lesions' diameters at the baseline and at
    every follow-up scan before the progression (a partial response), which of them grow at a
    progression by target growth, and the non-target lesions (read present, not measured, except the
    one that progresses unequivocally, if any)."""

    target_ids: tuple[str, ...]
    target_sites: tuple[int, ...]
    baseline_mm: tuple[Decimal, ...]
    response_mm: tuple[Decimal, ...]
    growing: tuple[int, ...]  # positions of the targets that grow at a progression by target growth
    growth_margin_mm: Decimal  # grown beyond the least the thresholds need
    nontargets: tuple[tuple[str, int], ...]  # (les_id, les_site)
    progressing_nontarget: str | None = None

    @property
    def targets(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.target_ids, self.target_sites))

    def read(self, target_mm: tuple[Decimal, ...], *, progressed: str | None = None
             ) -> list[tuple[str, int, Decimal | None]]:
        """(les_id, lm_status, lm_mm) of every lesion of the line at one scan."""
        rows = [(les_id, MeasurementStatus.MEASURED, mm) for les_id, mm in zip(self.target_ids, target_mm)]
        rows += [(les_id, MeasurementStatus.UNEQUIVOCAL_PROGRESSION if les_id == progressed
                  else MeasurementStatus.PRESENT_NOT_MEASURED, None) for les_id, _ in self.nontargets]
        return rows

    def grown_mm(self, nadir_mm: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        """The targets at a progression by target growth over `nadir_mm` (each one's smallest value so
        far): the growing ones by at least lesion_progression_min_mm each, together by at least what
        makes the sum PD, the others as they were (rules §0, §3)."""
        nadir_sum = sum(nadir_mm)
        # 10 × (nadir + increase) ≥ 12 × nadir ⇔ increase ≥ nadir / 5; and the increase ≥ 5 mm.
        least = max((nadir_sum / 5).quantize(TENTH_MM, rounding=ROUND_CEILING), Decimal(5))
        increase = max(least + self.growth_margin_mm, LESION_PROGRESSION_MIN_MM * len(self.growing))
        extra_tenths = int((increase - LESION_PROGRESSION_MIN_MM * len(self.growing)) / TENTH_MM)
        share, left = divmod(extra_tenths, len(self.growing))
        grown = list(nadir_mm)
        for order, position in enumerate(self.growing):
            grown[position] += LESION_PROGRESSION_MIN_MM + TENTH_MM * (share + (order < left))
        total = sum(grown)
        if not (10 * total >= 12 * nadir_sum and total - nadir_sum >= 5):
            raise ValueError(f"{self.target_ids}: {grown} is no progression over {nadir_mm}")
        return tuple(grown)


def plan_line_lesions(record_id: str, line_no: int, target_count: int, plan: LinePlan) -> LineLesions:
    """The lesions of one line: `target_count` targets, the first in the lung, diameters in tenths of a
    millimetre from a generator seeded with the record and line (the same file on every run)."""
    rng = random.Random(f"{record_id} line {line_no} lesions")
    sites = (AnatomicSite.LUNG, *rng.sample(EXTRA_TARGET_SITES, target_count - 1))
    # RECIST 1.1: a measurable lymph node is at least 15 mm in short axis, any other lesion 10 mm.
    baseline = tuple(Decimal(rng.randint(150, 320) if site == AnatomicSite.LYMPH_NODE else rng.randint(100, 480))
                     * TENTH_MM for site in sites)
    # Each shrinks to 51-65 % of its baseline: together at most 65 % plus 0.05 mm of rounding per lesion,
    # under the 70 % of a partial response; none by more than half, which the target_change soft check
    # would ask about (docs/soft-checks.md).
    response = tuple((mm * rng.randint(51, 65) / 100).quantize(TENTH_MM, rounding=ROUND_HALF_UP) for mm in baseline)
    if not 10 * sum(response) <= 7 * sum(baseline):
        raise ValueError(f"{record_id} line {line_no}: {response} is no partial response from {baseline}")
    growing = tuple(sorted(rng.sample(range(target_count), rng.randint(1, min(3, target_count)))))
    margin = Decimal(rng.randint(0, 30)) * TENTH_MM

    nontargets: list[tuple[str, int]] = []
    if plan.cns_mets:
        nontargets.append((f"L{line_no}-NT1", AnatomicSite.BRAIN))
    progressing = None
    progression = plan.progression
    if progression is not None and progression.by_nontarget:
        if progression.cns:
            if not plan.cns_mets or progression.extent != "oligo":
                raise ValueError(f"{record_id} line {line_no}: a progressing brain metastasis is planned only as an "
                                 "oligo CNS progression of a line started with brain metastases")
            progressing = nontargets[0][0]
        else:
            site = AnatomicSite.PLEURAL_EFFUSION if progression.extent == "extensive" else AnatomicSite.BONE
            progressing = f"L{line_no}-NT{len(nontargets) + 1}"
            nontargets.append((progressing, site))
    return LineLesions(
        target_ids=tuple(f"L{line_no}-T{n}" for n in range(1, target_count + 1)), target_sites=sites,
        baseline_mm=baseline, response_mm=response, growing=growing, growth_margin_mm=margin,
        nontargets=tuple(nontargets), progressing_nontarget=progressing,
    )


class _Course:
    """Writes one planned patient as raw records, date by date."""

    def __init__(self, plan: PatientPlan, start: date, target_counts: Iterator[int]):
        self.plan = plan
        self.target_counts = target_counts  # each line takes the next number of target lesions
        self.rows = _Rows(plan.record_id)
        self.first_start = start
        self.line_starts: list[date] = []
        self.last_date = start  # latest date written so far

    # -- helpers --
    def _seen(self, day: date) -> date:
        self.last_date = max(self.last_date, day)
        return day

    def _assessment(self, day: date, *, lesions: list[tuple[str, int, float | None]], new_sites=(),
                    new_count: int | None = None, symptomatic: bool | None = None, neuro: bool | None = None,
                    reported: int | None = None, brain_imaging: bool = False) -> None:
        """One imaging time point; `lesions` are (les_id, lm_status, lm_mm) read on it."""
        if day in self.rows.assessment_dates:
            raise ValueError(f"{self.plan.record_id}: two assessments on {day}")
        self.rows.assessment_dates.add(day)
        values = {"ta_date": day, "ta_reported": reported}
        for code in SCOPE_CODES:
            values[f"ta_scope___{code}"] = code == 1 or (code == 2 and brain_imaging)
        values["ta_nontarget"] = None
        values["ta_new_lesion"] = bool(new_sites)
        for code in NEW_LESION_SITE_CODES:
            values[f"ta_new_sites___{code}"] = code in new_sites
        values["ta_new_count"] = new_count if new_sites else None
        values["ta_symptoms"] = symptomatic
        values["ta_neuro_symptoms"] = neuro if symptomatic else None
        self.rows.add("tumor_assessment", **values)
        for les_id, status, mm in lesions:
            self.rows.add("lesion_measurement", lm_date=day, lm_lesion=les_id, lm_status=status,
                          lm_mm=_mm(mm) if status == MeasurementStatus.MEASURED else None)
        self._seen(day)

    def _biopsy(self, day: date, biopsy: IndexBiopsy, site: int) -> None:
        if day in self.rows.biopsy_dates:
            raise ValueError(f"{self.plan.record_id}: two biopsies on {day}")
        self.rows.biopsy_dates.add(day)
        self.rows.add("biopsy", bx_date=day, bx_specimen=biopsy.specimen,
                      bx_site=None if biopsy.specimen == Specimen.PLASMA else site, bx_adequate=biopsy.adequate,
                      bx_histology=biopsy.histology, bx_ngs=biopsy.ngs,
                      bx_ngs_panel="Tissue NGS, 168 genes" if biopsy.ngs else "")
        if biopsy.ngs:
            self._variant(day, "ALK", VariantKind.FUSION, partner="EML4", vaf="21.4")
            for change in biopsy.alk_mutations:
                self._variant(day, "ALK", VariantKind.POINT_MUTATION, protein=change, vaf="8.2")
            for gene, kind, protein, extra in biopsy.other_variants:
                if kind == VariantKind.AMPLIFICATION:
                    self._variant(day, gene, kind, copy_number=extra)
                elif kind == VariantKind.FUSION:
                    self._variant(day, gene, kind, partner=extra)
                else:
                    self._variant(day, gene, kind, protein=protein, vaf="11.5")
        self._seen(day)

    def _variant(self, day: date, gene: str, kind: int, *, protein: str = "", partner: str = "", vaf=None,
                 copy_number=None) -> None:
        self.rows.add("ngs_variant", var_bx_date=day, var_gene=gene, var_kind=kind, var_protein=protein,
                      var_vaf=vaf, var_cn=copy_number, var_partner=partner)

    # -- a line of therapy --
    def line(self, line_no: int, plan: LinePlan, start: date, *, ends_by: date | None,
             continue_after_progression: bool = False, end_reason: int = LineEndReason.DEATH,
             last_scan_by: date | None = None) -> date | None:
        """Writes the line from `start`; returns the progression date (None: none).

        `ends_by`: the last day of follow-up on this line (death, the next line, the last contact).
        Without a progression the line runs until then (ending for `end_reason` unless still ongoing
        at the last contact); after a progression it ends a week later, or runs on beyond it (local
        therapy, or `continue_after_progression` for the last line). `last_scan_by`: no follow-up
        scan after this day (imaging stopped).
        """
        self.line_starts.append(start)
        lesions = plan_line_lesions(self.plan.record_id, line_no, next(self.target_counts), plan)
        for les_id, site in lesions.targets:
            self.rows.add("lesion", les_id=les_id, les_line=line_no, les_class=1, les_site=site)
        for les_id, site in lesions.nontargets:
            self.rows.add("lesion", les_id=les_id, les_line=line_no, les_class=2, les_site=site)

        self._assessment(start - timedelta(days=BASELINE_DAYS_BEFORE_START),
                         lesions=lesions.read(lesions.baseline_mm), brain_imaging=plan.cns_mets)
        progression_day = start + timedelta(days=plan.pfs_days) if plan.pfs_days is not None else None
        last_follow_up = progression_day - timedelta(days=14) if progression_day else ends_by
        if last_scan_by is not None and last_follow_up is not None:
            last_follow_up = min(last_follow_up, last_scan_by)
        nadir_mm = lesions.baseline_mm
        scan = start + timedelta(days=SCAN_INTERVAL_DAYS)
        while last_follow_up is not None and scan <= last_follow_up:
            self._assessment(scan, lesions=lesions.read(lesions.response_mm), symptomatic=False, reported=2,  # PR
                             brain_imaging=plan.cns_mets)
            nadir_mm = lesions.response_mm
            scan += timedelta(days=SCAN_INTERVAL_DAYS)
        ecog_values = {"line_ecog": plan.ecog, "line_cns_mets": plan.cns_mets}
        line_type = LineType.ALK_TKI if plan.drug in TKI_REGIMENS else (
            LineType.CHEMOTHERAPY_ANTIANGIOGENIC if plan.drug == Regimen.PEMETREXED_PLATINUM_BEVACIZUMAB
            else LineType.CHEMOTHERAPY)
        if progression_day is None:
            end = ends_by if ends_by is not None and ends_by < STUDY_DATA_CUTOFF - timedelta(days=30) else None
            self.rows.add("treatment_line", line_no=line_no, line_type=line_type, line_drug=plan.drug,
                          line_start=start, line_end=end, line_end_reason=end_reason if end else None,
                          line_beyond_pd=None, **ecog_values)
            self._seen(start)
            return None

        progression = plan.progression
        at_progression_mm = self._progression_scan(progression_day, progression, lesions, nadir_mm, plan.cns_mets)
        beyond = progression.local_therapy or continue_after_progression
        if progression.local_therapy:
            therapy_day = progression_day + timedelta(days=14)
            self.rows.add("local_therapy", lt_date=therapy_day,
                          lt_type=LocalTherapyType.SRS if progression.cns else LocalTherapyType.SBRT,
                          lt_site=AnatomicSite.BRAIN if progression.cns else AnatomicSite.LUNG,
                          lt_intent=LocalTherapyIntent.OLIGO_PROGRESSION)
            self._seen(therapy_day)
            end = progression_day + timedelta(days=progression.beyond_days)
        elif continue_after_progression:
            end = None  # still on it, beyond progression, at the last contact
        else:
            end = progression_day + timedelta(days=7)
        if beyond:
            # Imaging goes on while the line continues beyond its progression: the brain treated by
            # radiosurgery, the rest as at the progression (these scans come after it: rules §3).
            scan = progression_day + timedelta(days=SCAN_INTERVAL_DAYS)
            stop = (end or ends_by) - timedelta(days=7)
            later_reading = (lesions.read(nadir_mm) if progression.cns
                             else lesions.read(at_progression_mm, progressed=lesions.progressing_nontarget))
            while scan <= stop:
                self._assessment(scan, lesions=later_reading, symptomatic=False,
                                 brain_imaging=plan.cns_mets or progression.cns)
                scan += timedelta(days=SCAN_INTERVAL_DAYS)
        self.rows.add("treatment_line", line_no=line_no, line_type=line_type, line_drug=plan.drug, line_start=start,
                      line_end=end, line_end_reason=LineEndReason.PROGRESSION if end else None,
                      line_beyond_pd=beyond, **ecog_values)
        if end:
            self._seen(end)
        return progression_day

    def _progression_scan(self, day: date, progression: Progression, lesions: LineLesions,
                          nadir_mm: tuple[Decimal, ...], cns_mets: bool) -> tuple[Decimal, ...]:
        """The first PD time point: a known non-target lesion progressing (`by_nontarget`), new brain
        lesions (CNS), target growth (oligo elsewhere), new liver and bone lesions or a pleural effusion
        (extensive elsewhere), or new lesions left uncounted (unknown). Returns the target diameters read.

        Targets that do not grow are read at their nadir, so that the target response is no PD and no
        target lesion counts as progressing (rules §3).
        """
        target_mm = nadir_mm
        new_sites: tuple[int, ...] = ()
        new_count = None
        if progression.by_nontarget:
            pass  # the non-target lesion alone: one progressing lesion at its site
        elif progression.cns:
            new_sites, new_count = (AnatomicSite.BRAIN,), 1 if progression.extent == "oligo" else 5
        elif progression.extent == "oligo":
            target_mm = lesions.grown_mm(nadir_mm)
        elif progression.extent == "unknown":
            new_sites, new_count = (AnatomicSite.LIVER,), None
        elif self.plan.number % 2:
            new_sites, new_count = (AnatomicSite.LIVER, AnatomicSite.BONE), 6
        else:
            new_sites, new_count = (AnatomicSite.PLEURAL_EFFUSION,), 1
        self._assessment(day, lesions=lesions.read(target_mm, progressed=lesions.progressing_nontarget),
                         new_sites=new_sites, new_count=new_count, symptomatic=progression.symptomatic,
                         neuro=progression.neuro, reported=4,  # PD
                         brain_imaging=cns_mets or progression.cns)
        return target_mm

    # -- the whole course --
    def write(self) -> _Rows:
        plan = self.plan
        start = self.first_start
        diagnosis = start - timedelta(days=21)
        self._biopsy(diagnosis - timedelta(days=10),
                     IndexBiopsy(histology=plan.histology, ngs=plan.number % 2 == 0), site=AnatomicSite.LUNG)

        index_plan = plan.lines[-1]
        for line_no, line_plan in enumerate(plan.lines, start=1):
            pd_day = self.line(line_no, line_plan, start, ends_by=None)
            line_end = self._line_end(line_no)
            if line_no < len(plan.lines):
                if plan.transformed_after_line_1:
                    # The only re-biopsy at crizotinib resistance: a squamous tumour (Table 1, Fig. 3A).
                    self._biopsy(pd_day + timedelta(days=5), IndexBiopsy(histology=Histology.SQUAMOUS),
                                 site=AnatomicSite.LUNG)
                start = line_end + timedelta(days=7)
        index_pd = pd_day
        if plan.index_biopsy is not None:
            site = AnatomicSite.BRAIN if index_plan.progression.cns and plan.index_biopsy.specimen == Specimen.TISSUE \
                and False else AnatomicSite.LUNG
            self._biopsy(index_pd + timedelta(days=5), plan.index_biopsy, site=site)
        index_end = self._line_end(len(plan.lines))
        self._post_index(index_pd, index_end)
        return self.rows

    def _line_end(self, line_no: int) -> date:
        return date.fromisoformat(self.rows.instances["treatment_line"][line_no - 1]["line_end"])

    def _post_index(self, index_pd: date, index_end: date) -> None:
        plan = self.plan.post_index
        last_contact = STUDY_DATA_CUTOFF - timedelta(days=10)
        if plan.first is None:
            death = index_pd + timedelta(days=plan.os_days)
            self._vital(death=max(death, self.last_date + timedelta(days=3)))
            return
        start = index_end + timedelta(days=7)
        death = start + timedelta(days=plan.os_days) if plan.os_days is not None else None
        follow_up_end = death or last_contact
        line_no = len(self.plan.lines) + 1
        first = LinePlan(plan.first, ecog=1, cns_mets=False, pfs_days=plan.first_pfs_days,
                         progression=Progression(cns=False, extent="oligo", symptomatic=False,
                                                 by_nontarget=plan.first_by_nontarget)
                         if plan.first_pfs_days is not None else None)
        pd_day = self.line(line_no, first, start, ends_by=follow_up_end - timedelta(days=1),
                           continue_after_progression=plan.later is None and death is None)
        if plan.later is not None:
            later_start = pd_day + timedelta(days=14)
            later = LinePlan(plan.later, ecog=2, cns_mets=False, pfs_days=None)
            if plan.later_switch_days is not None:
                self._switch_for_toxicity(line_no + 1, later, later_start, plan.later_switch_days, follow_up_end)
            else:
                last_scan_by = (later_start + timedelta(days=plan.later_imaging_stops_days)
                                if plan.later_imaging_stops_days is not None else None)
                self.line(line_no + 1, later, later_start, ends_by=follow_up_end - timedelta(days=1),
                          last_scan_by=last_scan_by)
                if last_scan_by is not None:
                    self._check_death_beyond_window(later_start, last_scan_by, death)
        if death is not None and death <= self.last_date:
            raise ValueError(f"{self.plan.record_id}: death {death} before the last record {self.last_date}")
        self._vital(death=death)

    def _switch_for_toxicity(self, line_no: int, plan: LinePlan, start: date, days: int, follow_up_end: date) -> None:
        """The line stops for toxicity `days` after `start`, without a progression; docetaxel starts two
        weeks later and runs until the end of follow-up. Rules §4: the first line's PFS is censored
        new_therapy at its last scan (the docetaxel baseline, in its window, is no adequate assessment:
        none of its lesions is read there)."""
        switch_day = start + timedelta(days=days)
        docetaxel_start = switch_day + timedelta(days=14)
        if days < SCAN_INTERVAL_DAYS or docetaxel_start + timedelta(days=SCAN_INTERVAL_DAYS) >= follow_up_end:
            raise ValueError(f"{self.plan.record_id}: no room for a scan on each side of the switch on {switch_day}")
        self.line(line_no, plan, start, ends_by=switch_day, end_reason=LineEndReason.TOXICITY)
        if self.rows.instances["treatment_line"][-1]["line_end"] != switch_day.isoformat():
            raise ValueError(f"{self.plan.record_id}: line {line_no} did not end on {switch_day}")
        docetaxel = LinePlan(Regimen.DOCETAXEL, ecog=2, cns_mets=False, pfs_days=None)
        self.line(line_no + 1, docetaxel, docetaxel_start, ends_by=follow_up_end - timedelta(days=1))

    def _check_death_beyond_window(self, start: date, last_scan_by: date, death: date | None) -> None:
        # Rules §4: a death more than death_window_days after the last adequate assessment is censored.
        last_scan = max((day for day in self.rows.assessment_dates if start < day <= last_scan_by), default=start)
        if death is None or (death - last_scan).days <= DEATH_WINDOW_DAYS:
            raise ValueError(f"{self.plan.record_id}: death {death} is within {DEATH_WINDOW_DAYS} days of {last_scan}")

    def _vital(self, *, death: date | None) -> None:
        if death is not None and death > STUDY_DATA_CUTOFF:
            raise ValueError(f"{self.plan.record_id}: death {death} after the cut-off")
        if self.last_date > STUDY_DATA_CUTOFF:
            raise ValueError(f"{self.plan.record_id}: a record dated {self.last_date}, after the cut-off")
        plan = self.plan
        starts = list(zip(self.line_starts, plan.ages_at_line_starts))
        born = birth_date_for(tuple(starts))
        diagnosis = self.first_start - timedelta(days=21)
        self.rows.record = {name: format_value(value) for name, value in {
            "mrn": f"MRN-{plan.record_id}",
            "birth_date": born,
            "sex": plan.sex,
            "smoking": plan.smoking,
            "histology": plan.histology,
            "alk_method___1": True, "alk_method___2": plan.number % 3 == 0, "alk_method___3": plan.number % 2 == 0,
            "alk_method___4": False, "alk_method___5": False,
            "alk_variant": (1, 3, 2, 99)[plan.number % 4],
            "consent_date": diagnosis + timedelta(days=10),
            "adv_dx_date": diagnosis,
            "stage_dx": Stage.IVB if plan.number % 3 else Stage.IVA,
            "cns_mets_dx": plan.lines[0].cns_mets,
            "enrollment_complete": 2,
            "last_alive_date": death if death is not None else STUDY_DATA_CUTOFF - timedelta(days=10),
            "vital": VitalStatus.DEAD if death is not None else VitalStatus.ALIVE,
            "death_date": death,
            "death_cause": 1 if death is not None else None,
            "vital_status_complete": 2,
        }.items()}


TKI_REGIMENS = {Regimen.CRIZOTINIB, Regimen.ALECTINIB, Regimen.CERITINIB, Regimen.BRIGATINIB, Regimen.ENSARTINIB,
                Regimen.IRUPLINIB, Regimen.LORLATINIB}


def _mm(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _first_line_start(plan: PatientPlan) -> date:
    # Cohort 1 started alectinib between 2018 and 2020; cohort 2 crizotinib between 2014 and 2018.
    if plan.cohort == 1:
        return date(2018, 2, 5) + timedelta(days=41 * (plan.number - 1))
    return date(2014, 3, 3) + timedelta(days=29 * (plan.number - COHORT_1_SIZE - 1))


def demo_cohort_rows() -> Iterator[list[str]]:
    """The flat REDCap rows of the demo cohort, header first (`flat_columns()` order)."""
    columns = flat_columns()
    yield list(columns)
    # One to five target lesions, dealt in turn over every line of the cohort in record order.
    target_counts = itertools.cycle(range(1, MAX_TARGET_LESIONS + 1))
    for plan in demo_patient_plans():
        yield from _Course(plan, _first_line_start(plan), target_counts).write().flat(columns)


def demo_site_code(record_id: str) -> str:
    return DEMO_SITE_CODES[(int(record_id.removeprefix(RECORD_PREFIX)) + 1) % 2]


def write_demo_cohort(stream) -> int:
    """Writes the cohort as a REDCap flat CSV (LF line ends, minimal quoting); returns the rows written."""
    writer = csv.writer(stream, lineterminator="\n")
    count = 0
    for row in demo_cohort_rows():
        writer.writerow(row)
        count += 1
    return count - 1


# ---------------------------------------------------------------------------------------- loading

DEMO_COHORT_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_cohort.csv"
LOAD_DOOR = "load_demo"


class DemoCohortError(Exception):
    """The demo file did not import; nothing was written. `problems` lists every problem."""

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class DemoCohortLoad:
    loaded: dict[str, tuple[str, ...]]  # site code → record IDs imported now
    cutoff_set: date | None  # the data cut-off set now (None: the settings existed and were kept)


@transaction.atomic
def demo_cohort_load(*, sites: dict[str, Site], source: Path | None = None, user=None) -> DemoCohortLoad:
    """Imports the demo patients that are not in the registry yet, each into its site (`sites` maps
    the codes of DEMO_SITE_CODES to sites), all or nothing; patients already there keep any change
    made to them. On a database without analysis settings the data cut-off is set to the study's
    (2024-02-28) first, so that the derivation queued by the import uses it; settings that exist are
    left as an administrator chose them. Raises DemoCohortError, writing nothing, on any problem.
    `source` None: fixtures/demo_cohort.csv.
    """
    from registry.models import AnalysisSettings
    from registry.services.derivation import analysis_settings_update
    from registry.services.records import records_import

    source = source or DEMO_COHORT_FILE
    with source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    record_ids = list(dict.fromkeys(row[0] for row in rows))
    present = set(Patient.objects.filter(record_id__in=record_ids).values_list("record_id", flat=True))
    cutoff_set = None
    if not AnalysisSettings.objects.exists():
        analysis_settings_update(values={"data_cutoff": STUDY_DATA_CUTOFF}, user=user, derive_all_after_commit=False)
        cutoff_set = STUDY_DATA_CUTOFF
    loaded: dict[str, tuple[str, ...]] = {}
    for code in DEMO_SITE_CODES:
        wanted = [record_id for record_id in record_ids if demo_site_code(record_id) == code and record_id not in present]
        loaded[code] = tuple(wanted)
        if not wanted:
            continue
        keep = set(wanted)
        part = io.StringIO()
        writer = csv.writer(part, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(row for row in rows if row[0] in keep)
        result = records_import(source=io.BytesIO(part.getvalue().encode("utf-8")), file_format="csv",
                                site=sites[code], user=user, door=LOAD_DOOR, file_name=source.name)
        if not result.ok:
            transaction.set_rollback(True)
            listed = "\n".join(
                f"  line {problem.line} {problem.record} {problem.instrument} #{problem.instance} "
                f"{problem.field}={problem.value!r}: {problem.reason}" for problem in result.problems
            )
            raise DemoCohortError(f"{source.name} did not import into {code}; nothing was written:\n{listed}",
                                  result.problems)
    return DemoCohortLoad(loaded=loaded, cutoff_set=cutoff_set)
