"""§7 biopsies and resistance mechanisms."""
from registry.derive.biopsies import is_alk_kinase_domain_mutation, normalise_protein_change
from registry.derive.codes import Histology, Regimen, ReportedResponse, VariantKind

from .builders import NO, assessment, biopsy, day, derive, line, patient, variant

PD = ReportedResponse.PD
AMPLIFICATION, FUSION = VariantKind.AMPLIFICATION, VariantKind.FUSION


def reported(*pairs):
    return [assessment(on, ta_reported=response) for on, response in pairs]


def one_biopsy(*variants, histology=Histology.ADENOCARCINOMA, histology_of_sample=None, **biopsy_fields):
    """The result of one biopsy on day 100 of a patient on first-line alectinib (no progression)."""
    sample = biopsy(100, histology=histology_of_sample, **biopsy_fields)
    record = patient(lines=[line(1)], biopsies=[sample], variants=variants, histology=histology)
    return derive(record).biopsies[0]


def test_one_letter_prefixed_and_three_letter_protein_changes_are_the_same_variant():
    assert normalise_protein_change("G1202R") == "G1202R"
    assert normalise_protein_change("p.G1202R") == "G1202R"
    assert normalise_protein_change("p.Gly1202Arg") == "G1202R"
    assert normalise_protein_change(" p.(Leu1196Met) ") == "L1196M"
    assert normalise_protein_change("p.Leu1152_Glu1153del") == "L1152_E1153del"


def test_kinase_domain_bounds_are_codons_1116_to_1399_inclusive():
    # codons 1116 and 1399 are in the kinase domain; 1115 and 1400 are not
    def in_domain(protein):
        return is_alk_kinase_domain_mutation(variant(0, "ALK", protein))

    assert [in_domain(p) for p in ("A1116V", "p.Ala1399Thr", "A1115V", "p.A1400T")] == [True, True, False, False]


def test_only_alk_point_mutations_are_kinase_domain_mutations():
    # an EGFR change at an in-range codon, an ALK amplification and an ALK frameshift do not count
    assert is_alk_kinase_domain_mutation(variant(0, "EGFR", "G1202R")) is False
    assert is_alk_kinase_domain_mutation(variant(0, "ALK", "", kind=AMPLIFICATION)) is False
    assert is_alk_kinase_domain_mutation(variant(0, "ALK", "p.L1200fs")) is False


def test_two_distinct_mutations_are_compound_and_listed_in_codon_order():
    # given p.Gly1202Arg and I1171N (entered in that order) → "I1171N;G1202R" (1171 < 1202),
    # two distinct → compound; G1202R reported on its own
    result = one_biopsy(variant(100, "ALK", "p.Gly1202Arg"), variant(100, "ALK", "I1171N"))
    assert result.alk_kd_mutations == "I1171N;G1202R"
    assert result.alk_compound is True
    assert result.g1202r is True
    assert result.mechanism_category == "alk_kd_mutation"


def test_one_mutation_written_two_ways_is_not_compound():
    # given G1202R and p.Gly1202Arg in the same biopsy → one distinct mutation → not compound
    result = one_biopsy(variant(100, "ALK", "G1202R"), variant(100, "ALK", "p.Gly1202Arg"))
    assert (result.alk_kd_mutations, result.alk_compound, result.g1202r) == ("G1202R", False, True)


def test_variants_belong_to_the_biopsy_of_their_date():
    # given a variant dated day 101 and the biopsy on day 100 → not this biopsy's; NGS adequate
    # → none identified
    result = one_biopsy(variant(101, "ALK", "G1202R"))
    assert (result.alk_kd_mutations, result.g1202r, result.mechanism_category) == ("", False, "none_identified")


def test_alk_independent_mechanisms_are_listed_in_the_rule_order():
    # given EGFR amplification, BRAF V600E (three-letter), KRAS G12C, a BRAF fusion and MET
    # amplification → MET_amplification;BRAF_V600E;BRAF_fusion;KRAS_mutation;EGFR_amplification
    result = one_biopsy(
        variant(100, "EGFR", kind=AMPLIFICATION), variant(100, "BRAF", "p.Val600Glu"),
        variant(100, "KRAS", "G12C"), variant(100, "AGK", kind=FUSION, partner="BRAF"),
        variant(100, "MET", kind=AMPLIFICATION),
    )
    assert result.alk_independent == "MET_amplification;BRAF_V600E;BRAF_fusion;KRAS_mutation;EGFR_amplification"
    assert result.mechanism_category == "alk_independent"


def test_braf_mutation_other_than_v600e_is_not_alk_independent():
    result = one_biopsy(variant(100, "BRAF", "G469A"))
    assert result.alk_independent == ""
    assert result.mechanism_category == "none_identified"


def test_squamous_histology_after_adenocarcinoma_is_transformation():
    result = one_biopsy(histology=Histology.ADENOCARCINOMA, histology_of_sample=Histology.SQUAMOUS)
    assert (result.transformation, result.mechanism_category) == ("squamous", "transformation")


def test_small_cell_histology_after_adenocarcinoma_is_transformation():
    result = one_biopsy(histology=Histology.ADENOCARCINOMA, histology_of_sample=Histology.SMALL_CELL)
    assert result.transformation == "small_cell"


def test_squamous_histology_when_the_diagnosis_was_squamous_is_no_transformation():
    result = one_biopsy(histology=Histology.SQUAMOUS, histology_of_sample=Histology.SQUAMOUS)
    assert result.transformation is None
    assert result.mechanism_category == "none_identified"


def test_kinase_domain_mutation_takes_precedence_over_transformation_and_transformation_over_bypass():
    # first that applies: alk_kd_mutation, transformation, alk_independent
    with_mutation = one_biopsy(variant(100, "ALK", "G1202R"), variant(100, "MET", kind=AMPLIFICATION),
                               histology_of_sample=Histology.SMALL_CELL)
    without_mutation = one_biopsy(variant(100, "MET", kind=AMPLIFICATION), histology_of_sample=Histology.SMALL_CELL)
    assert with_mutation.mechanism_category == "alk_kd_mutation"
    assert without_mutation.mechanism_category == "transformation"
    assert without_mutation.alk_independent == "MET_amplification"


def test_biopsy_without_adequate_sequencing_or_findings_is_not_assessed_with_blank_labels():
    # given NGS done but sample inadequate, nothing found → not assessed; unknown, not "no mutation"
    result = one_biopsy(adequate=NO)
    assert result.mechanism_category == "not_assessed"
    assert (result.alk_kd_mutations, result.alk_compound, result.g1202r, result.alk_independent) == (
        None, None, None, None)


def crizotinib_then_alectinib_then_lorlatinib(*biopsies, variants=()):
    """Crizotinib PD day 300, alectinib from day 330 with PD day 700, lorlatinib from day 760 with
    PD day 1000: cohort 2, index = the alectinib progression on day 700."""
    return patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.ALECTINIB, 330), line(3, Regimen.LORLATINIB, 760)],
        assessments=reported((300, PD), (700, PD), (1000, PD)),
        biopsies=biopsies, variants=variants,
    )


def test_biopsy_phases_follow_the_latest_tki_progression():
    # day 100: no TKI progression yet → no_prior_tki_pd
    # day 270: crizotinib PD 300 − 30 = 270 ≤ 270 → post_1g (lookback, inclusive)
    # day 269: 270 > 269 → no_prior_tki_pd
    # day 500: after crizotinib PD, but alectinib started on day 330 (after PD 300, ≤ 500) → on_tki
    # day 710: alectinib PD 700 − 30 ≤ 710, no TKI started since → post_2g
    # day 1010: lorlatinib PD 1000 → post_3g
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(
        biopsy(100), biopsy(269), biopsy(270), biopsy(500), biopsy(710), biopsy(1010)))
    assert [result.phase for result in derivation.biopsies] == [
        "no_prior_tki_pd", "no_prior_tki_pd", "post_1g", "on_tki", "post_2g", "post_3g"]


def test_biopsy_on_the_day_the_next_tki_starts_after_the_progression_is_on_tki():
    # given crizotinib PD day 300 and alectinib from day 330: a biopsy on day 330 is on_tki
    # (started after the progression and on or before bx_date)
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(biopsy(330)))
    assert derivation.biopsies[0].phase == "on_tki"


def test_alk_mutation_at_index_comes_from_post_second_generation_biopsies_of_the_index_progression():
    # given cohort 2 (index alectinib PD day 700, next ALK TKI from day 760):
    # a G1202R biopsy on day 300 (post_1g) does not count; one on day 720 (post_2g) with I1171N does
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(
        biopsy(300), biopsy(720),
        variants=[variant(300, "ALK", "G1202R"), variant(720, "ALK", "I1171N")]))
    assert derivation.cohort == 2
    assert derivation.alk_mut_status_at_index == "mutation"
    # §7: only the day-720 biopsy is at the index resistance (post_2g, from 700 − 30 to 760)
    assert [b.at_index_resistance for b in derivation.biopsies] == [False, True]


def test_only_post_second_generation_biopsies_before_the_next_tki_are_at_the_index_resistance():
    # given cohort 2 (crizotinib PD day 300, alectinib from 330 with PD 700, lorlatinib from 760):
    # day 650: the latest TKI progression on or before it (less 30 days) is crizotinib's, and alectinib
    #          started after it → on_tki, not at the index
    # day 669: 700 − 30 = 670 > 669 → still on_tki (alectinib running)
    # day 759: 670 ≤ 759 and no TKI started since 700 → post_2g, inside 670..760 → at the index
    # day 760: lorlatinib starts that day (after 700, on or before 760) → on_tki: the §7 window runs
    #          to the next TKI's start, but only biopsies whose phase is post_2g count
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(biopsy(650), biopsy(669), biopsy(759), biopsy(760)))
    assert [(b.phase, b.at_index_resistance) for b in derivation.biopsies] == [
        ("on_tki", False), ("on_tki", False), ("post_2g", True), ("on_tki", False)]


def test_sequenced_index_biopsy_without_mutation_is_no_mutation():
    # given the only post_2g biopsy (day 690 = 700 − 10, within the lookback) sequenced, no ALK change
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(biopsy(690)))
    assert derivation.biopsies[0].phase == "post_2g"
    assert derivation.alk_mut_status_at_index == "no_mutation"


def test_index_resistance_without_biopsy_is_not_assessed():
    # given a sequenced biopsy only at the crizotinib progression → nothing at the index → not_assessed
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(biopsy(300)))
    assert derivation.alk_mut_status_at_index == "not_assessed"


def test_alk_mutation_status_is_blank_for_patients_in_no_cohort():
    derivation = derive(patient(lines=[line(1, Regimen.LORLATINIB, 0)], assessments=reported((300, PD)),
                                biopsies=[biopsy(310)], variants=[variant(310, "ALK", "G1202R")]))
    assert derivation.cohort is None
    assert derivation.biopsies[0].phase == "post_3g"
    assert derivation.alk_mut_status_at_index is None
    assert derivation.biopsies[0].at_index_resistance is None


def test_biopsies_after_the_cutoff_are_ignored():
    derivation = derive(patient(lines=[line(1)], biopsies=[biopsy(100), biopsy(900)]), cutoff=500)
    assert [result.bx_date for result in derivation.biopsies] == [day(100)]
