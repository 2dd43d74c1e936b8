"""Missing-data codes in datasets: blank in every file, SPSS user-missing values in .sav, and the codes
named in the codebook (issue 12 §4)."""
import csv
from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from registry.services.datasets import dataset_export
from tests import factories
from tests.exports.exported import export_records


@pytest.fixture
def coded(site_a):
    """R-1: dead, date of death UNK, cause NI; line 1 with its end ND and ECOG UNK; a measurement
    (status measured) whose diameter is NAVU; an NGS panel NASK (text)."""
    patient = factories.make_patient(site_a, "R-1", vital=2, death_date_missing="UNK", death_cause_missing="NI",
                                     mrn_missing="ASKU")
    factories.make_line(patient, line_end_missing="ND", line_ecog_missing="UNK")
    assessment = factories.make_assessment(patient, date(2021, 4, 6), ta_new_lesion_missing="ASKU")
    lesion = factories.make_lesion(patient, "L1-T1")
    factories.make_measurement(assessment, lesion, lm_status=1, lm_mm=None, lm_mm_missing="NAVU")
    factories.make_biopsy(patient, date(2021, 5, 2), bx_ngs_panel_missing="NASK")
    factories.make_patient(site_a, "R-2", vital=1, death_cause=None)
    return patient


def test_a_coded_cell_is_blank_in_the_instrument_and_analysis_csv(coded, tmp_path):
    vital, _ = export_records(tmp_path, "vital_status")
    line, = export_records(tmp_path, "treatment_line")
    analysis_line, = export_records(tmp_path, "lines")

    assert (vital["vital"], vital["death_date"], vital["death_cause"]) == ("2", "", "")
    assert (line["line_end"], line["line_ecog"]) == ("", "")
    assert analysis_line["line_end"] == ""


def test_a_coded_cell_is_null_in_parquet(coded, tmp_path):
    output = tmp_path / "vital_status.parquet"
    dataset_export(name="vital_status", output=output, file_format="parquet")

    table = pq.read_table(output).to_pydict()

    assert table["death_date"] == [None, None] and table["death_cause"] == [None, None]


def test_coded_cells_are_spss_user_missing_values_named_by_value_labels(coded, tmp_path):
    output = tmp_path / "measurements.sav"
    dataset_export(name="lesion_measurement", output=output, file_format="sav")
    vital_output = tmp_path / "vital_status.sav"
    dataset_export(name="vital_status", output=vital_output, file_format="sav")
    biopsy_output = tmp_path / "biopsy.sav"
    dataset_export(name="biopsy", output=biopsy_output, file_format="sav")

    # Read with user-missing values kept: the numbers stand; without, they are system-missing (NaN).
    kept, meta = pyreadstat.read_sav(output, user_missing=True)
    dropped, _ = pyreadstat.read_sav(output)
    vital, vital_meta = pyreadstat.read_sav(vital_output, user_missing=True)
    biopsy, biopsy_meta = pyreadstat.read_sav(biopsy_output, user_missing=True)

    # REDCap's list in order from -991: NI -991, UNK -992, NASK -993, ASKU -994, NA -995, NAVU -996, ND -997.
    assert kept["lm_mm"].tolist() == [-996]
    assert pd.isna(dropped["lm_mm"][0])
    assert meta.missing_ranges["lm_mm"] == [{"lo": -997.0, "hi": -991.0}]
    assert meta.variable_value_labels["lm_mm"][-996] == "NAVU Not available"
    assert vital["death_cause"].tolist()[0] == -991  # NI
    assert vital_meta.variable_value_labels["death_cause"][-991] == "NI No information"
    assert vital_meta.variable_value_labels["death_cause"][1] != ""  # the field's own labels stay
    assert pd.isna(vital["death_date"][0])  # a date variable holds no code: blank
    # A text holds the code itself, declared missing.
    assert biopsy["bx_ngs_panel"].tolist() == ["NASK"]
    assert biopsy_meta.missing_ranges["bx_ngs_panel"] == [{"lo": "NASK", "hi": "NASK"}] or \
        biopsy_meta.missing_ranges["bx_ngs_panel"] == ["NASK"]


def test_the_codebook_names_the_codes_of_a_codable_column_only(coded, tmp_path):
    output = tmp_path / "vital_status.csv"
    dataset_export(name="vital_status", output=output)

    with (tmp_path / "vital_status.csv.codebook.csv").open(encoding="utf-8") as stream:
        codebook = {row["column"]: row["codes"] for row in csv.DictReader(stream)}

    assert codebook["death_cause"].endswith(
        "|| Missing-data codes, written blank (SPSS: user-missing values): NI -991 No information | UNK -992 "
        "Unknown | NASK -993 Not asked | ASKU -994 Asked but unknown | NA -995 Not applicable | NAVU -996 Not "
        "available | ND -997 Not done"
    )
    assert codebook["death_date"].startswith("Missing-data codes, written blank (SPSS: user-missing values, a date "
                                             "or text blank)")
    assert "Missing-data codes" not in codebook["record_id"]
    assert "Missing-data codes" not in codebook["vital_status_complete"]


def test_a_de_identified_export_leaves_a_coded_date_blank(coded, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = "a-test-key-of-more-than-32-characters-x"

    line, = export_records(tmp_path, "treatment_line", deidentify=True)

    assert line["line_end"] == ""


def test_an_analysis_dataset_keeps_a_coded_raw_column_user_missing_in_spss(coded, tmp_path):
    # R-1's line 1: its end reason is coded NASK (-993); the lines dataset's raw column carries it.
    from registry.models import TreatmentLine
    TreatmentLine.objects.filter(patient=coded).update(line_end_reason=None, line_end_reason_missing="NASK")
    output = tmp_path / "lines.sav"
    dataset_export(name="lines", output=output, file_format="sav")

    data, meta = pyreadstat.read_sav(output, user_missing=True)

    assert data["line_end_reason"].tolist() == [-993]
    assert meta.missing_ranges["line_end_reason"] == [{"lo": -997.0, "hi": -991.0}]
    assert export_records(tmp_path, "lines")[0]["line_end_reason"] == ""
