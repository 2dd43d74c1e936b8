"""One patient worked out by hand, checked cell by cell in every dataset.

ex-2 (site-a), born 1965-07-01, advanced disease 2020-03-02, data cut-off 2024-06-30 (30.4375 days a
month): alectinib from 2020-03-10 progresses on 2021-08-30 (two new brain lesions) and so puts her in
cohort 1 with that index progression; lorlatinib from 2021-09-20 is censored at its last adequate
assessment, 2022-10-05 (380 days = 12.484600 months, stored so and written 12.4846); pemetrexed +
platinum starts after the cut-off and has no stored derivation, as has her biopsy of 2024-09-10
(tests/exports/hand_built.py). Rules §0 (v2): the datasets show her records as they stood at the
cut-off, so neither has a row, and lorlatinib's end (2024-07-28, after the cut-off) is blank with its
reason: the line was ongoing at the cut-off.
"""
from datetime import date

import pytest

from tests import factories
from tests.exports.exported import export_rows
from tests.exports.hand_built import make_hand_built_patient


@pytest.fixture
def hand_built_patient(site_a):
    return make_hand_built_patient(site_a)


def test_lines_are_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "lines")

    # v2 columns last: first_subsequent_line, first_subsequent_tki_line, alk_mut_status_at_index,
    # compound_mutation_at_index, os_censor_reason.
    assert rows == [
        ["ex-2", "site-a", "1", "1", "2", "2", "2020-03-10", "2021-09-14", "1", "1", "0", "54", "1", "2020-03-04",
         "1", "0", "2021-08-30", "PR", "oligo", "2", "1", "1", "0", "0", "1", "0", "", "538", "17.675565", "1", "",
         "1573", "51.679671", "0", "0", "0", "mutation", "1", "cutoff"],
        # line_end 2024-07-28 and its reason are after the cut-off: blank (ongoing at the cut-off).
        ["ex-2", "site-a", "2", "1", "7", "3", "2021-09-20", "", "", "0", "1", "56", "1", "2021-08-30",
         "1", "1", "", "PR", "", "", "", "", "", "", "", "", "", "380", "12.4846", "0", "cutoff",
         "1014", "33.314168", "0", "1", "1", "mutation", "1", "cutoff"],
        # Line 3 starts after the cut-off: no row.
    ]


def test_endpoints_are_a_pfs_and_an_os_row_per_line(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "endpoints")

    subject = ["ALK-REGISTRY", "ALK-REGISTRY-ex-2", "ex-2", "site-a"]
    pfs, os = "Progression-free survival (days)", "Overall survival (days)"
    # flags: cohort, subsequent_to_index, first_subsequent_line, first_subsequent_tki_line, tki_generation,
    # alk_mut_status_at_index
    line_1_flags, line_2_flags = ["1", "0", "0", "0", "2", "mutation"], ["1", "1", "1", "1", "3", "mutation"]
    assert rows == [
        ["ex-2", "site-a", "1", "PFS", "2020-03-10", "2021-08-30", "538", "17.675565", "0", "PROGRESSION",
         *subject, pfs, "538", "DAYS", "ALECTINIB", "", "tumor_assessment", "ta_date", "2", *line_1_flags],
        ["ex-2", "site-a", "1", "OS", "2020-03-10", "2024-06-30", "1573", "51.679671", "1", "DATA CUTOFF",
         *subject, os, "1573", "DAYS", "ALECTINIB", "DATA CUTOFF", "settings", "data_cutoff", "", *line_1_flags],
        ["ex-2", "site-a", "2", "PFS", "2021-09-20", "2022-10-05", "380", "12.4846", "1", "CUTOFF",
         *subject, pfs, "380", "DAYS", "LORLATINIB", "LAST ADEQUATE TUMOR ASSESSMENT", "tumor_assessment", "ta_date",
         "1", *line_2_flags],
        ["ex-2", "site-a", "2", "OS", "2021-09-20", "2024-06-30", "1014", "33.314168", "1", "DATA CUTOFF",
         *subject, os, "1014", "DAYS", "LORLATINIB", "DATA CUTOFF", "settings", "data_cutoff", "", *line_2_flags],
        # Line 3 starts after the cut-off: no rows.
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

    # The biopsy of 2024-09-10 is after the cut-off: no row (§0 v2).
    assert rows == [
        ["ex-2", "2021-09-02", "post_2g", "I1171N;G1202R", "1", "1", "", "", "alk_kd_mutation", "1"],
    ]


def test_the_patient_is_written_cell_by_cell(hand_built_patient, tmp_path):
    _, *rows = export_rows(tmp_path, "patients")

    # cns_mets_dx was never answered: blank, not 0.
    assert rows == [
        ["ex-2", "site-a", "2", "54", "0", "1", "", "1", "alectinib>lorlatinib", "2021-08-30", "mutation", "1581",
         "51.942505", "0",
         # v2: studyid, usubjid, stage_dx (never answered), adv_dx_date, death_date (alive),
         # last_known_alive_date (capped at the cut-off), compound_mutation_at_index, n_lines
         "ALK-REGISTRY", "ALK-REGISTRY-ex-2", "", "2020-03-02", "", "2024-06-30", "1", "2"],
    ]


def test_a_patient_not_derived_yet_has_raw_columns_only(site_a, tmp_path):
    patient = factories.make_patient(site_a, "new-1", sex=1, smoking=2, histology=5, cns_mets_dx=1)
    factories.make_line(patient, 1, line_type=1, line_drug=1, line_start=date(2023, 1, 9))

    _, patient_row = export_rows(tmp_path, "patients")
    _, line_row = export_rows(tmp_path, "lines")

    # Not derived: no cut-off to look from, so every record shows; studyid is the setting's default (as in
    # responses and tumor_sums, so that usubjid joins them).
    assert patient_row == (["new-1", "site-a", "1", "", "2", "5", "1"] + [""] * 7
                           + ["ALK-REGISTRY", "ALK-REGISTRY-new-1", "", "2020-03-02"] + [""] * 4)
    assert line_row == ["new-1", "site-a", "1", "1", "1", "", "2023-01-09"] + [""] * 32
