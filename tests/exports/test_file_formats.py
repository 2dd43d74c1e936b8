"""Excel, SPSS, Stata and Parquet files of the hand-built patient, read back value by value.

The patient is tests/exports/hand_built.py's ex-2. Her line 2 (lorlatinib, drug code 7, an ALK TKI of
the third generation) started 2021-09-20 and ended 2024-07-28, after the cut-off (so exported blank, and
her line 3 not at all: rules §0 v2); it had no progression (pd_date and
every progression label blank) and is censored for PFS at 380 days = 380 / 30.4375 = 12.4846 months
(stored 12.484600), so pfs_event is 0, No. Her cns_mets_dx was never answered: blank, not 0.
"""
import json
from datetime import date, datetime

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from registry.exports import xlsx_writer
from registry.services.datasets import dataset_export
from tests.exports.hand_built import make_hand_built_patient


@pytest.fixture
def hand_built_patient(site_a):
    return make_hand_built_patient(site_a)


def _export(tmp_path, name, file_format, **options):
    output = tmp_path / f"{name}.{file_format}"
    rows = dataset_export(name=name, output=output, file_format=file_format, **options)
    return output, rows


def test_every_format_writes_the_data_file_its_codebook_and_its_provenance(hand_built_patient, tmp_path):
    for file_format in ("csv", "xlsx", "sav", "dta", "parquet"):
        output, rows = _export(tmp_path, "lines", file_format)

        assert rows == 2  # line 3 starts after the cut-off (§0 v2)
        provenance = json.loads((tmp_path / f"lines.{file_format}.provenance.json").read_text(encoding="utf-8"))
        assert (provenance["format"], provenance["rows"], provenance["codebook"]) == (
            file_format, 2, f"lines.{file_format}.codebook.csv",
        )
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"lines.{file_format}{suffix}" for file_format in ("csv", "xlsx", "sav", "dta", "parquet")
        for suffix in ("", ".codebook.csv", ".provenance.json")
    )


def test_excel_has_typed_cells_a_codebook_and_a_provenance_sheet(hand_built_patient, tmp_path):
    output, _ = _export(tmp_path, "lines", "xlsx")

    workbook = openpyxl.load_workbook(output)
    assert workbook.sheetnames == ["lines", "codebook", "provenance"]
    header, _, lorlatinib = list(workbook["lines"].values)
    line = dict(zip(header, lorlatinib, strict=True))
    assert (line["record_id"], line["line_no"], line["line_drug"], line["tki_generation"]) == ("ex-2", 2, 7, 3)
    # Dates are date cells (Excel stores them as a day number shown as a date), not text.
    assert line["line_start"] == datetime(2021, 9, 20)
    assert workbook["lines"]["G3"].is_date and workbook["lines"]["G3"].number_format == "yyyy-mm-dd"
    assert (line["pfs_days"], line["pfs_months"], line["pfs_event"]) == (380, 12.4846, 0)
    assert (line["pd_date"], line["extent"], line["cns_progression"]) == (None, None, None)
    codebook = {row[0]: row for row in list(workbook["codebook"].values)[1:]}
    assert set(codebook) == set(header)
    assert codebook["line_drug"][1:4] == ("Regimen", "integer code", None)  # no unit: an empty cell
    assert codebook["line_drug"][4].startswith("1, Crizotinib | 2, Alectinib |")
    assert codebook["pfs_months"][2:4] == ("number", "months")
    provenance = dict(list(workbook["provenance"].values)[1:])
    assert (provenance["dataset"], provenance["rows"], provenance["data_cutoff"], provenance["rules_version"]) == (
        "lines", 2, "2024-06-30", 2,
    )


@pytest.mark.parametrize("file_format", ["sav", "dta"])
def test_spss_and_stata_have_variable_labels_value_labels_and_date_variables(hand_built_patient, tmp_path,
                                                                            file_format):
    output, _ = _export(tmp_path, "lines", file_format)

    data, meta = (pyreadstat.read_sav if file_format == "sav" else pyreadstat.read_dta)(output)
    lorlatinib = data.iloc[1]
    assert (lorlatinib["record_id"], lorlatinib["line_no"], lorlatinib["line_drug"]) == ("ex-2", 2, 7)
    assert lorlatinib["line_start"] == date(2021, 9, 20)
    assert lorlatinib["pfs_months"] == pytest.approx(12.4846, abs=1e-12)
    # pfs_censor_reason is a text code written as its place in the codebook's list: death after missed
    # assessments 1, new therapy 2, no adequate assessment 3, cut-off 4.
    assert (lorlatinib["pfs_event"], lorlatinib["pfs_censor_reason"]) == (0, 4)
    assert meta.variable_value_labels["pfs_censor_reason"][4] == "Data cut-off"
    assert lorlatinib["cohort"] == 1
    # The dictionary's field label for a raw field, the declared description for a derived one.
    assert meta.column_names_to_labels["line_drug"] == "Regimen"
    assert meta.column_names_to_labels["pfs_days"] == "Progression-free survival of the line"
    assert meta.variable_value_labels["line_drug"][7] == "Lorlatinib"
    assert meta.variable_value_labels["line_type"][1] == "ALK tyrosine kinase inhibitor"
    assert meta.variable_value_labels["tki_generation"] == {1: "First", 2: "Second", 3: "Third"}
    assert meta.variable_value_labels["histology_at_start"][1] == "Adenocarcinoma"
    assert meta.variable_value_labels["pfs_event"] == {1: "Yes", 0: "No"}
    date_format = "SDATE10" if file_format == "sav" else "%tdCCYY-NN-DD"
    assert meta.original_variable_types["line_start"] == meta.original_variable_types["pd_date"] == date_format
    if file_format == "sav":
        # Text takes its declared width, not its longest value (ex-2): record_id is a 100-character field.
        assert meta.original_variable_types["record_id"] == "A100"


def test_excel_rows_beyond_a_sheets_capacity_go_on_to_continuation_sheets(hand_built_patient, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(xlsx_writer, "EXCEL_MAX_ROWS", 3)  # the header and two rows a sheet

    output, rows = _export(tmp_path, "tumor_assessment", "xlsx")

    workbook = openpyxl.load_workbook(output)
    assert rows == 4
    assert workbook.sheetnames == ["tumor_assessment", "tumor_assessment (2)", "codebook", "provenance"]
    first, second = (list(workbook[name].values) for name in workbook.sheetnames[:2])
    assert first[0] == second[0] and first[0][0] == "record_id"
    assert [row[1] for row in first[1:] + second[1:]] == [1, 2, 3, 4]  # instances in order, none lost


def test_stata_keeps_blank_integers_missing_and_labels_within_80_bytes(hand_built_patient, tmp_path):
    output, _ = _export(tmp_path, "tumor_assessment", "dta")

    data, meta = pyreadstat.read_dta(output)
    assert meta.readstat_variable_types["ta_new_count"] == "int32"
    # Assessments by instance: 2022-10-05, 2021-08-30 (two new lesions), 2020-03-04, 2020-05-05.
    assert [None if value != value else value for value in data["ta_new_count"]] == [None, 2, None, None]
    # The dictionary's label is 79 characters: whole. A longer one would end in "...".
    assert meta.column_names_to_labels["ta_nontarget"] == (
        "Non-target lesions overall, as read (used when no lesion-level non-target data)"
    )
    assert all(len(label.encode()) <= 80 for label in meta.column_names_to_labels.values())


def test_parquet_columns_are_typed_and_carry_their_codebook(hand_built_patient, tmp_path):
    output, _ = _export(tmp_path, "lines", "parquet")

    table = pq.read_table(output)
    types = {field.name: field.type for field in table.schema}
    assert (types["line_start"], types["line_no"], types["line_drug"], types["pfs_months"], types["pfs_event"],
            types["extent"]) == (pa.date32(), pa.int32(), pa.int32(), pa.float64(), pa.int32(), pa.string())
    lorlatinib = table.to_pylist()[1]
    assert (lorlatinib["line_start"], lorlatinib["pfs_months"], lorlatinib["pfs_event"]) == (
        date(2021, 9, 20), 12.4846, 0,
    )
    # Blank is null, also for a text column stored as "".
    assert (lorlatinib["pd_date"], lorlatinib["extent"], lorlatinib["continued_beyond_pd"]) == (None, None, None)
    label = table.schema.field("pfs_months").metadata
    assert (label[b"label"], label[b"unit"]) == (
        b"Progression-free survival of the line (days / days_per_month)", b"months",
    )
    assert table.schema.metadata[b"registry.dataset"] == b"lines"


def test_a_patient_with_no_rows_gives_files_with_the_header_only(site_a, tmp_path):
    for file_format in ("xlsx", "sav", "dta", "parquet"):
        output, rows = _export(tmp_path, "biopsies", file_format)

        assert rows == 0
    assert pq.read_table(tmp_path / "biopsies.parquet").num_rows == 0
    assert list(openpyxl.load_workbook(tmp_path / "biopsies.xlsx")["biopsies"].values) == [(
        "record_id", "bx_date", "phase", "alk_kd_mutations", "alk_compound", "g1202r", "alk_independent",
        "transformation", "mechanism_category", "at_index_resistance",
    )]
