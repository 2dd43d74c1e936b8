"""Rules §0 (v2): a missing-data code in a REQUIRED field (issue 12 §4 follow-up) makes it unknown: a label
derived from it is blank, never a guess, and each case is a data-quality flag. Day numbers from 2020-01-01;
cut-off day 2000 unless given. A required field's None ("" for var_gene) is its code (registry/derive/inputs.py)."""
from dataclasses import replace

from registry.derive import quality
from registry.derive.codes import MeasurementStatus, Regimen, ReportedResponse, Site, YesNo
from registry.derive.results import Response

from .builders import (
    assessment, biopsy, day, derive, line, local_therapy, mm, nontarget, patient, status, target, variant,
)

PD = ReportedResponse.PD


def _flags(record) -> list[str]:
    return [flag.code for flag in derive(record).flags]


def _type_coded(treatment_line):
    return replace(treatment_line, line_type=None)


# ---------------------------------------------------------------- line_type, line_drug


def test_a_line_of_unknown_type_has_no_tki_labels_and_leaves_the_sequence_blank():
    # Line 1 alectinib (day 0), line 2 from day 400 with line_type coded: whether line 2 is an ALK TKI line
    # is unknown, so its generation and name are blank, and so is the sequence ("alectinib" alone would
    # say line 2 is no TKI; "alectinib>?" names nothing).
    record = patient(lines=[line(1, Regimen.ALECTINIB, 0), _type_coded(line(2, Regimen.LORLATINIB, 400))])

    derivation = derive(record)

    assert [(result.tki_generation, result.tki_drug_name) for result in derivation.lines] == [
        (2, "alectinib"), (None, None)]
    assert derivation.tki_sequence is None
    assert _flags(record) == [quality.LINE_TYPE_CODED]


def test_an_alk_tki_line_of_unknown_drug_has_no_generation_or_name():
    # Line 1 is an ALK TKI (line_type 1) whose regimen is coded: §1 generation and §6 name need the drug.
    record = patient(lines=[replace(line(1, Regimen.ALECTINIB, 0), line_drug=None)],
                     assessments=[assessment(300, ta_reported=PD)])

    derivation = derive(record)

    assert (derivation.lines[0].tki_generation, derivation.lines[0].tki_drug_name) == (None, None)
    assert derivation.tki_sequence is None
    # §6 cohort 1 needs line 1 to be alectinib: unknown, so no cohort (blank), although it progressed on day 300.
    assert (derivation.cohort, derivation.index_line_no) == (None, None)
    assert derivation.lines[0].pd_date == day(300)  # progression does not depend on the drug
    assert _flags(record) == [quality.LINE_DRUG_CODED]


def test_a_first_line_of_unknown_type_gives_no_cohort():
    # Line 1 alectinib by drug, but its type coded: it may not be an ALK TKI line (the drug alone does not
    # say so in §1), so cohort 1 is unknown: blank.
    record = patient(lines=[_type_coded(line(1, Regimen.ALECTINIB, 0))], assessments=[assessment(300, ta_reported=PD)])

    assert derive(record).cohort is None


def test_a_line_of_unknown_type_between_crizotinib_and_the_second_generation_line_gives_no_cohort_two():
    # Crizotinib PD day 300; line 2 (day 300) of unknown type; alectinib from day 500 with PD day 800.
    # With line 2 chemotherapy this is cohort 2 (tests/derive/test_cohorts.py); line 2 may be "the next ALK
    # TKI line" itself, and then not second-generation-with-progression-known: cohort 2 is unknown.
    record = patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), _type_coded(line(2, Regimen.PEMETREXED_PLATINUM, 300)),
               line(3, Regimen.ALECTINIB, 500)],
        assessments=[assessment(300, ta_reported=PD), assessment(800, ta_reported=PD)],
    )

    assert (derive(record).cohort, derive(record).index_line_no) == (None, None)


def test_a_line_of_unknown_type_after_the_last_tki_progression_leaves_the_biopsy_phase_blank():
    # Alectinib PD day 300; line 2 of unknown type from day 320; biopsy day 330. §7: L = alectinib
    # (300 − 30 ≤ 330); a later ALK TKI line started after 300 and by 330 would make it on_tki, else
    # post_2g. Line 2 may or may not be one: the phase is unknown.
    record = patient(lines=[line(1, Regimen.ALECTINIB, 0), _type_coded(line(2, Regimen.LORLATINIB, 320))],
                     assessments=[assessment(300, ta_reported=PD)], biopsies=[biopsy(330)])

    assert derive(record).biopsies[0].phase is None
    # The same with line 2 known as chemotherapy: post_2g (hand check of the rule, not of the code).
    known = patient(lines=[line(1, Regimen.ALECTINIB, 0), line(2, Regimen.PEMETREXED_PLATINUM, 320)],
                    assessments=[assessment(300, ta_reported=PD)], biopsies=[biopsy(330)])
    assert derive(known).biopsies[0].phase == "post_2g"


def test_a_line_of_unknown_type_after_the_index_leaves_the_mutation_status_at_index_blank():
    # Cohort 1: alectinib PD day 300. Line 2 of unknown type from day 350. Biopsy day 400, sequenced, no
    # variant. §7: the index resistance runs to the next ALK TKI line's start. If line 2 is one (start 350),
    # the day-400 biopsy is on_tki and not at the index; if not, it is post_2g at the index → no_mutation.
    record = patient(lines=[line(1, Regimen.ALECTINIB, 0), _type_coded(line(2, Regimen.LORLATINIB, 350))],
                     assessments=[assessment(300, ta_reported=PD)], biopsies=[biopsy(400)])

    derivation = derive(record)

    assert derivation.cohort == 1
    assert derivation.alk_mut_status_at_index is None


# ---------------------------------------------------------------- les_class


def test_a_lesion_of_unknown_class_makes_the_target_response_not_evaluable():
    # T1 target 20 → 10 mm (10 × 10 = 100 ≤ 7 × 20 = 140: PR if T1 were the only target). L2 of unknown
    # class measured 15 → 15: it may be a target, so no target sum is complete (§2 "every target lesion
    # known"): target NE; it may be a non-target of unknown status: non-target NE. Overall NE, no PD.
    lesions = [target("T1"), replace(nontarget("L2"), les_class=None)]
    measurements = [mm("T1", 0, 20), mm("L2", 0, 15), mm("T1", 56, 10), mm("L2", 56, 15)]
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=[assessment(0), assessment(56)])

    result = derive(record).lines[0].assessments[0]

    assert (result.target_response, result.nontarget_response, result.overall_response) == (
        Response.NE, Response.NE, Response.NE)
    assert result.target_sum_mm is None
    assert _flags(record) == [quality.LESION_CLASS_CODED]


def test_a_lesion_of_unknown_class_keeps_a_progression_from_new_lesions_but_its_count_is_unknown():
    # As above, with an unequivocal new lesion (count 1) on day 56: §2 new lesions → PD whatever the
    # lesions. §3: L2 has a row at the progression and may be progressing: the number is unknown (blank),
    # its lower bound 1 (the new lesion), so the extent is not oligo but unknown.
    lesions = [target("T1"), replace(nontarget("L2"), les_class=None)]
    measurements = [mm("T1", 0, 20), mm("L2", 0, 15), mm("T1", 56, 10), mm("L2", 56, 15)]
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=[assessment(0), assessment(56, ta_new_lesion=YesNo.YES, ta_new_count=1)])

    result = derive(record).lines[0]

    assert result.assessments[0].overall_response is Response.PD
    assert (result.pd_date, result.n_progressing_lesions, result.extent) == (day(56), None, "unknown")


def test_a_lesion_of_unknown_class_keeps_a_known_non_target_progression():
    # N1 non-target in unequivocal progression on day 56 → non-target PD, certain whatever L2 is.
    lesions = [nontarget("N1"), replace(target("L2"), les_class=None)]
    measurements = [status("N1", 0, MeasurementStatus.MEASURED), mm("L2", 0, 15),
                    status("N1", 56, MeasurementStatus.UNEQUIVOCAL_PROGRESSION), mm("L2", 56, 15)]
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=[assessment(0), assessment(56)])

    result = derive(record).lines[0].assessments[0]

    assert (result.target_response, result.nontarget_response, result.overall_response) == (
        Response.NE, Response.PD, Response.PD)


# ---------------------------------------------------------------- les_site, lm_status


def test_a_target_of_unknown_site_between_0_and_10_mm_is_not_a_complete_response():
    # T1 lung 20 → 0 mm; T2 of unknown site 12 → 6 mm. §2 CR: non-nodal 0 mm, nodal below 10 mm: T2 at
    # 6 mm is CR only if nodal. Not PR either way? If not nodal: sum 6, 10 × 6 = 60 ≤ 7 × 32 = 224 → PR;
    # if nodal: CR. So the target response is unknown: NE.
    lesions = [target("T1"), replace(target("T2"), les_site=None)]
    measurements = [mm("T1", 0, 20), mm("T2", 0, 12), mm("T1", 56, 0), mm("T2", 56, 6)]
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=[assessment(0), assessment(56)])

    assert derive(record).lines[0].assessments[0].target_response is Response.NE
    assert _flags(record) == [quality.LESION_SITE_CODED]


def test_a_target_of_unknown_site_that_grew_leaves_cns_progression_and_oligo_blank():
    # T1 of unknown site 20 → 30 mm: 300 ≥ 240 and +10 ≥ 5 → PD, T1 progressing (30 ≥ 20 + 5). Its site is
    # unknown: it may be the brain (CNS progression blank, not no) or an effusion (extensive), so with one
    # lesion the extent is unknown rather than oligo. A local therapy 10 days later with a site and no
    # oligo intent may have treated that site: blank, not no.
    lesions = [replace(target("T1"), les_site=None)]
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=[mm("T1", 0, 20), mm("T1", 56, 30)],
                     assessments=[assessment(0), assessment(56)],
                     local_therapies=[local_therapy(66, site=Site.BONE, intent=2)])

    result = derive(record).lines[0]

    assert (result.pd_date, result.n_progressing_lesions) == (day(56), 1)
    assert (result.extent, result.cns_progression, result.involved_sites) == ("unknown", None, frozenset())
    assert result.local_therapy_for_pd is None


def test_a_coded_measurement_status_is_a_row_whose_value_is_unknown():
    # T1 20 mm at baseline; on day 56 its status is coded: a row (the response is derived, not the reported
    # PR) whose value is unknown: target NE (§2 "not evaluated ... unknown").
    record = patient(lines=[line(1, start=0)], lesions=[target("T1")],
                     measurements=[mm("T1", 0, 20), status("T1", 56, None)],
                     assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR)])

    result = derive(record).lines[0].assessments[0]

    # Derived NE with a reported PR: §2 takes the reported response then (NE and ta_reported not blank).
    assert (result.target_response, result.overall_response) == (Response.NE, Response.PR)
    assert _flags(record) == [quality.MEASUREMENT_STATUS_CODED]


# ---------------------------------------------------------------- var_gene, var_kind, adv_dx_date


def test_a_variant_of_unknown_alteration_leaves_the_mechanism_blank():
    # Biopsy day 100, sequenced adequately; one ALK variant G1202R whose kind is coded: it may be the
    # kinase-domain point mutation or not, so the mutation lists and the category are blank (not
    # "none_identified").
    record = patient(biopsies=[biopsy(100)], variants=[replace(variant(100, "ALK", "G1202R"), var_kind=None)])

    result = derive(record).biopsies[0]

    assert (result.alk_kd_mutations, result.alk_independent, result.g1202r, result.mechanism_category) == (
        None, None, None, "")
    assert _flags(record) == [quality.VARIANT_CODED]


def test_a_known_mutation_beside_a_variant_of_unknown_gene_still_decides_the_category():
    # I1171N is a known ALK kinase-domain mutation (codon 1171): alk_kd_mutation comes first in §7 whatever
    # the other variant is; the list itself may be longer: blank.
    record = patient(biopsies=[biopsy(100)],
                     variants=[variant(100, "ALK", "I1171N"), replace(variant(100, "MET"), var_gene="")])

    result = derive(record).biopsies[0]

    assert (result.mechanism_category, result.alk_kd_mutations, result.alk_compound) == ("alk_kd_mutation", None, None)


def test_a_coded_date_of_advanced_diagnosis_blanks_survival_from_diagnosis_and_is_flagged():
    record = patient(adv_dx_date_missing="UNK", lines=[line(1, start=0)])

    derivation = derive(record)

    assert (derivation.os_dx_days, derivation.age_at_adv_dx) == (None, None)
    assert _flags(record) == [quality.ADV_DX_DATE_CODED]


def test_each_new_flag_has_a_label():
    for code in (quality.ADV_DX_DATE_CODED, quality.LINE_TYPE_CODED, quality.LINE_DRUG_CODED,
                 quality.LESION_CLASS_CODED, quality.LESION_SITE_CODED, quality.MEASUREMENT_STATUS_CODED,
                 quality.VARIANT_CODED):
        assert code in quality.FLAG_LABELS

