"""One patient worked out by hand (ex-2, site-a), stored with her derivations: see
tests/exports/test_hand_built_patient.py for what each value means.

ex-2 (site-a), born 1965-07-01, advanced disease 2020-03-02, data cut-off 2024-06-30 (30.4375 days a
month): alectinib from 2020-03-10 progresses on 2021-08-30 (two new brain lesions) and so puts her in
cohort 1 with that index progression; lorlatinib from 2021-09-20 is censored at its last adequate
assessment, 2022-10-05 (380 days = 12.484600 months, stored so and written 12.4846); pemetrexed +
platinum starts after the cut-off and has no stored derivation, as has her biopsy of 2024-09-10.

Rules version 2 adds (each worked out from §6-§8): lorlatinib is her first subsequent line and first
subsequent ALK TKI line; her biopsy of 2021-09-02 (post_2g, from pd 2021-08-30 − 30 days up to the
lorlatinib start) is at the index resistance and holds a compound mutation; line 1's PFS date is the
progression assessment (instance 2: the second assessment entered), line 2's the last adequate one
(instance 1); both OS rows are censored at the cut-off; last known alive 2024-08-20 is capped at the
cut-off 2024-06-30; two lines started by the cut-off.
"""
from datetime import date
from decimal import Decimal

from tests import factories
from tests.exports.stored_results import (
    make_assessment_derivation, make_biopsy_derivation, make_line_derivation, make_patient_derivation,
)

NO_PROGRESSION = {
    "pd_date": None, "extent": "", "n_progressing_lesions": None, "cns_progression": None,
    "cns_only_progression": None, "symptomatic_progression": None, "symptomatic_cns_progression": None,
    "local_therapy_for_pd": None, "continued_beyond_pd": None, "beyond_pd_days": None,
}


def make_hand_built_patient(site, record_id: str = "ex-2"):
    patient = factories.make_patient(
        site, record_id, birth_date=date(1965, 7, 1), sex=2, smoking=0, histology=1, cns_mets_dx=None,
        adv_dx_date=date(2020, 3, 2), vital=1, last_alive_date=date(2024, 8, 20),
    )
    # Entered out of order: rows are ordered by line number and date, not by entry.
    pemetrexed = factories.make_line(
        patient, 3, line_type=2, line_drug=20, line_start=date(2024, 8, 1), line_ecog=None, line_cns_mets=None,
    )
    lorlatinib = factories.make_line(
        patient, 2, line_type=1, line_drug=7, line_start=date(2021, 9, 20), line_end=date(2024, 7, 28),
        line_end_reason=1, line_ecog=0, line_cns_mets=1,
    )
    alectinib = factories.make_line(
        patient, 1, line_type=1, line_drug=2, line_start=date(2020, 3, 10), line_end=date(2021, 9, 14),
        line_end_reason=1, line_ecog=1, line_cns_mets=0,
    )
    assert pemetrexed.pk  # stays without a derivation
    make_patient_derivation(
        patient, age_at_adv_dx=54, cohort=1, tki_sequence="alectinib>lorlatinib", index_line_no=1,
        index_pd_date=date(2021, 8, 30), alk_mut_status_at_index="mutation", os_dx_date=date(2024, 6, 30),
        os_dx_days=1581, os_dx_months=Decimal("51.942505"), os_dx_event=False, os_dx_censor_reason="cutoff",
        last_known_alive_date=date(2024, 6, 30), compound_mutation_at_index=True, n_lines=2,
    )
    make_line_derivation(
        alectinib, tki_generation=2, age_at_start=54, histology_at_start=1, baseline_date=date(2020, 3, 4),
        subsequent_to_index=False, best_response="PR", pd_date=date(2021, 8, 30), extent="oligo",
        n_progressing_lesions=2, involved_sites="11", cns_progression=True, cns_only_progression=True,
        symptomatic_progression=False, symptomatic_cns_progression=False, local_therapy_for_pd=True,
        continued_beyond_pd=False, beyond_pd_days=None,
        pfs_date=date(2021, 8, 30), pfs_days=538, pfs_months=Decimal("17.675565"), pfs_event=True,
        pfs_event_type="progression", pfs_censor_reason="",
        os_date=date(2024, 6, 30), os_days=1573, os_months=Decimal("51.679671"), os_event=False,
        os_censor_reason="cutoff", first_subsequent_line=False, first_subsequent_tki_line=False,
        pfs_srcdom="tumor_assessment", pfs_srcvar="ta_date", pfs_srcseq=2,
        os_srcdom="settings", os_srcvar="data_cutoff", os_srcseq=None,
    )
    make_line_derivation(
        lorlatinib, tki_generation=3, age_at_start=56, histology_at_start=1, baseline_date=date(2021, 8, 30),
        subsequent_to_index=True, best_response="PR", **NO_PROGRESSION,
        pfs_date=date(2022, 10, 5), pfs_days=380, pfs_months=Decimal("12.484600"), pfs_event=False,
        pfs_event_type="", pfs_censor_reason="cutoff",
        os_date=date(2024, 6, 30), os_days=1014, os_months=Decimal("33.314168"), os_event=False,
        os_censor_reason="cutoff", first_subsequent_line=True, first_subsequent_tki_line=True,
        pfs_srcdom="tumor_assessment", pfs_srcvar="ta_date", pfs_srcseq=1,
        os_srcdom="settings", os_srcvar="data_cutoff", os_srcseq=None,
    )
    reported = factories.make_assessment(patient, date(2022, 10, 5), ta_reported=2)
    progression = factories.make_assessment(patient, date(2021, 8, 30), ta_new_lesion=1, ta_new_count=2)
    factories.make_assessment(patient, date(2020, 3, 4))  # line 1's baseline: not a row of its own
    response = factories.make_assessment(patient, date(2020, 5, 5), ta_reported=2)
    make_assessment_derivation(
        reported, lorlatinib, target_sum_mm=None, pct_change_baseline=None, pct_change_nadir=None,
        target_response="", nontarget_response="", new_lesions=False, overall_response="PR",
        response_source="reported", discrepancy=None,
    )
    # Baseline sum 70 mm: 45.5 is -35 % from it (also the nadir); 52 is -25.714286 % from the
    # baseline and +14.285714 % from the nadir 45.5, not PD by size (520 < 12 × 45.5 = 546) but the new
    # brain lesions make it PD.
    make_assessment_derivation(
        progression, alectinib, target_sum_mm=Decimal("52.00"), pct_change_baseline=Decimal("-25.714286"),
        pct_change_nadir=Decimal("14.285714"), target_response="SD", nontarget_response="NON-CR/NON-PD",
        new_lesions=True, overall_response="PD", response_source="derived", discrepancy=None,
    )
    make_assessment_derivation(
        response, alectinib, target_sum_mm=Decimal("45.50"), pct_change_baseline=Decimal("-35.000000"),
        pct_change_nadir=Decimal("-35.000000"), target_response="PR", nontarget_response="NON-CR/NON-PD",
        new_lesions=False, overall_response="PR", response_source="derived", discrepancy=False,
    )
    factories.make_biopsy(patient, date(2024, 9, 10))
    biopsy = factories.make_biopsy(patient, date(2021, 9, 2), bx_adequate=1, bx_ngs=1)
    make_biopsy_derivation(
        biopsy, phase="post_2g", alk_kd_mutations="I1171N;G1202R", alk_compound=True, g1202r=True,
        alk_independent="", transformation="", mechanism_category="alk_kd_mutation", at_index_resistance=True,
    )
    return patient
