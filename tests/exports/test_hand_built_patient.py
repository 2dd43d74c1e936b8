"""One patient worked out by hand, checked cell by cell in every dataset.

ex-2 (site-a), born 1965-07-01, advanced disease 2020-03-02, data cut-off 2024-06-30 (30.4375 days a
month): alectinib from 2020-03-10 progresses on 2021-08-30 (two new brain lesions) and so puts her in
cohort 1 with that index progression; lorlatinib from 2021-09-20 is censored at its last adequate
assessment, 2022-10-05 (380 days = 12.484600 months, stored so and written 12.4846); pemetrexed +
platinum starts after the cut-off and has no stored derivation, as has her biopsy of 2024-09-10
(tests/exports/hand_built.py).
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
