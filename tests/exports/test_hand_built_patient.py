"""One patient worked out by hand, checked cell by cell in every dataset.

ex-2 (site-a), born 1965-07-01, advanced disease 2020-03-02, data cut-off 2024-06-30 (30.4375 days a
month): alectinib from 2020-03-10 progresses on 2021-08-30 (two new brain lesions) and so puts her in
cohort 1 with that index progression; lorlatinib from 2021-09-20 is censored at its last adequate
assessment, 2022-10-05 (380 days = 12.484600 months, stored so and written 12.4846); pemetrexed +
platinum starts after the cut-off and has no stored derivation, as has her biopsy of 2024-09-10.
"""
from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tests.exports.exported import export_rows
from tests.exports.stored_results import (
    make_assessment_derivation, make_biopsy_derivation, make_line_derivation, make_patient_derivation,
)

NO_PROGRESSION = {
    "pd_date": None, "extent": "", "n_progressing_lesions": None, "cns_progression": None,
    "cns_only_progression": None, "symptomatic_progression": None, "symptomatic_cns_progression": None,
    "local_therapy_for_pd": None, "continued_beyond_pd": None, "beyond_pd_days": None,
}


@pytest.fixture
def hand_built_patient(site_a):
    patient = factories.make_patient(
        site_a, "ex-2", birth_date=date(1965, 7, 1), sex=2, smoking=0, histology=1, cns_mets_dx=None,
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
        os_censor_reason="cutoff",
    )
    make_line_derivation(
        lorlatinib, tki_generation=3, age_at_start=56, histology_at_start=1, baseline_date=date(2021, 8, 30),
        subsequent_to_index=True, best_response="PR", **NO_PROGRESSION,
        pfs_date=date(2022, 10, 5), pfs_days=380, pfs_months=Decimal("12.484600"), pfs_event=False,
        pfs_event_type="", pfs_censor_reason="cutoff",
        os_date=date(2024, 6, 30), os_days=1014, os_months=Decimal("33.314168"), os_event=False,
        os_censor_reason="cutoff",
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
        alk_independent="", transformation="", mechanism_category="alk_kd_mutation",
    )
    return patient


def test_lines_are_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "lines")

    assert rows == [
        ["ex-2", "site-a", "1", "1", "2", "2", "2020-03-10", "2021-09-14", "1", "1", "0", "54", "1", "2020-03-04",
         "1", "0", "2021-08-30", "PR", "oligo", "2", "1", "1", "0", "0", "1", "0", "", "538", "17.675565", "1", "",
         "1573", "51.679671", "0"],
        ["ex-2", "site-a", "2", "1", "7", "3", "2021-09-20", "2024-07-28", "1", "0", "1", "56", "1", "2021-08-30",
         "1", "1", "", "PR", "", "", "", "", "", "", "", "", "", "380", "12.4846", "0", "cutoff",
         "1014", "33.314168", "0"],
        # Not derived (it starts after the cut-off): raw columns, the patient's cohort, blank derived ones.
        ["ex-2", "site-a", "3", "2", "20", "", "2024-08-01", "", "", "", "", "", "", "", "1"] + [""] * 19,
    ]


def test_endpoints_are_a_pfs_and_an_os_row_per_line(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "endpoints")

    assert rows == [
        ["ex-2", "site-a", "1", "PFS", "2020-03-10", "2021-08-30", "538", "17.675565", "0", "PROGRESSION"],
        ["ex-2", "site-a", "1", "OS", "2020-03-10", "2024-06-30", "1573", "51.679671", "1", "DATA CUTOFF"],
        ["ex-2", "site-a", "2", "PFS", "2021-09-20", "2022-10-05", "380", "12.4846", "1", "CUTOFF"],
        ["ex-2", "site-a", "2", "OS", "2021-09-20", "2024-06-30", "1014", "33.314168", "1", "DATA CUTOFF"],
        ["ex-2", "site-a", "3", "PFS", "2024-08-01", "", "", "", "", ""],
        ["ex-2", "site-a", "3", "OS", "2024-08-01", "", "", "", "", ""],
    ]


def test_assessments_are_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "assessments")

    assert rows == [
        ["ex-2", "1", "2020-05-05", "45.5", "-35", "-35", "PR", "NON-CR/NON-PD", "0", "PR", "derived", "0"],
        ["ex-2", "1", "2021-08-30", "52", "-25.714286", "14.285714", "SD", "NON-CR/NON-PD", "1", "PD", "derived", ""],
        ["ex-2", "2", "2022-10-05", "", "", "", "", "", "0", "PR", "reported", ""],
    ]


def test_biopsies_are_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "biopsies")

    assert rows == [
        ["ex-2", "2021-09-02", "post_2g", "I1171N;G1202R", "1", "1", "", "", "alk_kd_mutation"],
        ["ex-2", "2024-09-10", "", "", "", "", "", "", ""],
    ]


def test_the_patient_is_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "patients")

    # cns_mets_dx was never answered: blank, not 0.
    assert rows == [
        ["ex-2", "site-a", "2", "54", "0", "1", "", "1", "alectinib>lorlatinib", "2021-08-30", "mutation", "1581",
         "51.942505", "0"],
    ]


def test_a_patient_not_derived_yet_has_raw_columns_only(site_a, tmp_path):
    patient = factories.make_patient(site_a, "new-1", sex=1, smoking=2, histology=5, cns_mets_dx=1)
    factories.make_line(patient, 1, line_type=1, line_drug=1, line_start=date(2023, 1, 9))

    _, patient_row = export_rows(tmp_path, "patients")
    _, line_row = export_rows(tmp_path, "lines")

    assert patient_row == ["new-1", "site-a", "1", "", "2", "5", "1"] + [""] * 7
    assert line_row == ["new-1", "site-a", "1", "1", "1", "", "2023-01-09"] + [""] * 27
