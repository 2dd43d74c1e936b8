"""What a statistician receives in SPSS, Stata, Parquet and SAS transport files (issue 13 §5), read
back with pyreadstat and pyarrow: text codes as labelled integer codes, SPSS text of its declared
width, one integer type for every 0/1 flag, and the ADaM variables of an ADaM dataset as xpt.

The patient is tests/exports/hand_built.py's ex-2: line 1 (alectinib) best response PR, extent
oligo, PFS event at its progression 2021-08-30; line 2 (lorlatinib) best response PR, PFS censored
at the cut-off rule's last adequate assessment 2022-10-05 (reason `cutoff`); line 3 starts after the
cut-off: no row (rules §0 v2).
"""
import csv
from dataclasses import replace
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from registry.exports import analysis_columns
from registry.exports.catalog import dataset_names, exportable
from registry.exports.columns import Column, Kind
from registry.exports.formats import ExportFile
from registry.exports.statistics_writer import write_sav
from registry.records.missing_codes import Coded
from registry.services.datasets import codebook_path, dataset_export
from tests import factories
from tests.exports.hand_built import make_hand_built_patient

# Worked out from the codebook's lists (registry/exports/analysis_columns.py), counting from 1:
RESPONSE_NUMBERS = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6}
EXTENT_NUMBERS = {"oligo": 1, "extensive": 2, "unknown": 3}
CENSOR_NUMBERS = {"death_after_missed_assessments": 1, "new_therapy": 2, "no_adequate_assessment": 3, "cutoff": 4}
PARAMCD_NUMBERS = {"PFS": 1, "OS": 2}
EVNTDESC_NUMBERS = {
    "PROGRESSION": 1, "DEATH": 2, "DEATH_AFTER_MISSED_ASSESSMENTS": 3, "NEW_THERAPY": 4,
    "NO_ADEQUATE_ASSESSMENT": 5, "CUTOFF": 6, "LAST KNOWN ALIVE": 7, "DATA CUTOFF": 8,
}


@pytest.fixture
def hand_built_patient(site_a):
    return make_hand_built_patient(site_a)


def _export(tmp_path, name, file_format, **options):
    output = tmp_path / f"{name}.{file_format}"
    rows = dataset_export(name=name, output=output, file_format=file_format, **options)
    return output, rows


def _blank(value):
    return value != value  # NaN: a blank number


@pytest.mark.parametrize("file_format", ["sav", "dta"])
def test_text_codes_are_integer_codes_labelled_from_the_codebook(hand_built_patient, tmp_path, file_format):
    output, _ = _export(tmp_path, "lines", file_format)

    data, meta = (pyreadstat.read_sav if file_format == "sav" else pyreadstat.read_dta)(output)
    assert len(data) == 2  # line 3 starts after the cut-off (rules §0 v2)
    alectinib, lorlatinib = (data.iloc[index] for index in range(2))
    assert (alectinib["best_response"], alectinib["extent"]) == (RESPONSE_NUMBERS["PR"], EXTENT_NUMBERS["oligo"])
    assert _blank(alectinib["pfs_censor_reason"])  # an event: no censoring reason
    assert (lorlatinib["best_response"], lorlatinib["pfs_censor_reason"]) == (
        RESPONSE_NUMBERS["PR"], CENSOR_NUMBERS["cutoff"])
    assert _blank(lorlatinib["extent"])  # no progression
    assert meta.variable_value_labels["best_response"] == {
        1: "Complete response", 2: "Partial response", 3: "Stable disease",
        4: "Non-CR/Non-PD (non-target lesions only)", 5: "Progressive disease", 6: "Not evaluable",
    }
    assert meta.variable_value_labels["extent"][1].startswith("Oligo-progression")
    assert meta.readstat_variable_types["best_response"] != "string"


@pytest.mark.parametrize("file_format", ["sav", "dta"])
def test_the_endpoints_codes_are_integers_too(hand_built_patient, tmp_path, file_format):
    output, _ = _export(tmp_path, "endpoints", file_format)

    data, meta = (pyreadstat.read_sav if file_format == "sav" else pyreadstat.read_dta)(output)
    # Rows as tests/exports/test_hand_built_patient.py lists them: line 1 PFS, OS; line 2 PFS, OS.
    assert list(data["paramcd"]) == [1, 2, 1, 2]
    assert list(data["evntdesc"]) == [
        EVNTDESC_NUMBERS["PROGRESSION"], EVNTDESC_NUMBERS["DATA CUTOFF"], EVNTDESC_NUMBERS["CUTOFF"],
        EVNTDESC_NUMBERS["DATA CUTOFF"],
    ]
    assert meta.variable_value_labels["paramcd"] == {
        1: "Progression-free survival of the line", 2: "Overall survival from the start of the line"}
    assert meta.variable_value_labels["evntdesc"][6] == "PFS censored: Data cut-off"


def test_the_codebook_says_which_integer_stands_for_which_text(hand_built_patient, tmp_path):
    output, _ = _export(tmp_path, "lines", "csv")

    with codebook_path(output).open(encoding="utf-8", newline="") as stream:
        codebook = {row["column"]: row for row in csv.DictReader(stream)}
    assert codebook["best_response"]["storage"] == (
        "stored as integer codes in .sav/.dta: 1 = CR, 2 = PR, 3 = SD, 4 = NON-CR/NON-PD, 5 = PD, 6 = NE")
    assert codebook["pfs_censor_reason"]["storage"] == (
        "stored as integer codes in .sav/.dta: 1 = death_after_missed_assessments, 2 = new_therapy, "
        "3 = no_adequate_assessment, 4 = cutoff")
    assert codebook["record_id"]["storage"] == "text of at most 100 bytes (.sav A100)"
    assert codebook["pfs_days"]["storage"] == ""


def test_every_text_code_of_every_dataset_has_its_integer_codes_and_every_text_a_width():
    for name in dataset_names():
        for column in exportable(name).columns:
            if column.kind is Kind.TEXT_CODE:
                assert column.codes and len(column.integer_codes) == len(column.codes), (name, column.name)
            if column.kind is Kind.TEXT:
                assert column.width, f"{name}.{column.name} declares no width"


def test_a_text_value_not_among_its_codes_is_refused_and_nothing_is_written(hand_built_patient, tmp_path,
                                                                            monkeypatch):
    best_response = analysis_columns.ANALYSIS_COLUMNS["best_response"]
    monkeypatch.setitem(analysis_columns.ANALYSIS_COLUMNS, "best_response", replace(
        best_response, codes=tuple(code for code in best_response.codes if code[0] != "PR")))

    for file_format in ("sav", "dta"):
        with pytest.raises(ValueError, match=r"best_response: 'PR' not among its codebook codes"):
            _export(tmp_path, "lines", file_format)

    assert list(tmp_path.iterdir()) == []


def test_a_coded_text_code_cell_stays_user_missing_in_spss(tmp_path):
    # A text code that takes missing-data codes (none of the analysis datasets' does yet).
    column = Column("reason", "A reason", Kind.TEXT_CODE, codes=(("a", "Reason A"), ("b", "Reason B")),
                    takes_missing_code=True)
    note = Column("note", "A note", Kind.TEXT, width=12, takes_missing_code=True)
    output = tmp_path / "coded.sav"

    write_sav(output, ExportFile("coded", (column, note), [], {}), [
        [Coded("UNK"), Coded("NASK")], ["b", "x"], [None, None]])

    data, meta = pyreadstat.read_sav(output, user_missing=True)
    # UNK is the second code: -991 - 1 = -992; b the second text code: 2.
    assert list(data["reason"][:2]) == [-992, 2] and _blank(data["reason"][2])
    assert meta.missing_ranges["reason"] == [{"lo": -997.0, "hi": -991.0}]
    assert meta.variable_value_labels["reason"][-992] == "UNK Unknown"
    assert meta.variable_value_labels["reason"][2] == "Reason B"
    # The text column keeps its code as a user-missing string, and its declared width although the code
    # took the padded first cell.
    assert list(data["note"]) == ["NASK", "x", ""]
    assert meta.original_variable_types["note"] == "A12"


def test_spss_text_takes_the_declared_width_whatever_the_values(site_a, site_b, tmp_path):
    # Two exports of ngs_variant whose text differs in length (record id, gene, protein change).
    first = factories.make_biopsy(factories.make_patient(site_a, "A-1"))
    second = factories.make_biopsy(factories.make_patient(site_b, "a-much-longer-record-id-2"))
    factories.make_variant(first, var_gene="ALK", var_protein="G1202R")
    factories.make_variant(second, var_gene="EGFR", var_protein="E746_A750del")
    layouts, read = [], []
    for site in (site_a, site_b):
        output = tmp_path / f"{site.code}.sav"
        dataset_export(name="ngs_variant", output=output, file_format="sav", site=site)
        data, meta = pyreadstat.read_sav(output)
        layouts.append(meta.original_variable_types)
        read.append((data["record_id"][0], data["var_gene"][0], data["var_protein"][0]))

    assert layouts[0] == layouts[1]
    # The model fields' max_length: Patient.record_id 100, Site.code 30, NgsVariant.var_gene 30 and
    # var_protein 60.
    assert (layouts[0]["record_id"], layouts[0]["site"], layouts[0]["var_gene"], layouts[0]["var_protein"]) == (
        "A100", "A30", "A30", "A60")
    # The padding is SPSS's own: read back, the values are as stored.
    assert read == [("A-1", "ALK", "G1202R"), ("a-much-longer-record-id-2", "EGFR", "E746_A750del")]


def _is_flag(column: Column) -> bool:
    return column.kind is Kind.BOOLEAN or (column.kind is Kind.CODE and {code for code, _ in column.codes} == {"0", "1"})


def test_every_parquet_flag_is_int32_whatever_its_values(site_a, tmp_path):
    # Not derived: every derived flag of the patient's rows is blank (an all-null column).
    factories.make_full_patient(site_a, "F-1")
    seen = {}
    for name in dataset_names():
        output = tmp_path / f"{name}.parquet"
        dataset_export(name=name, output=output, file_format="parquet")
        table = pq.read_table(output)
        for column in exportable(name).columns:
            if _is_flag(column):
                seen[f"{name}.{column.name}"] = (table.schema.field(column.name).type,
                                                 table.column(column.name).null_count == table.num_rows)

    assert {flag_type for flag_type, _ in seen.values()} == {pa.int32()}
    # Among them booleans, an integer code of 0/1, a checkbox option and a yes/no field; some all blank.
    assert {"lines.pfs_event", "endpoints.cnsr", "enrollment.alk_method___1", "treatment_line.line_cns_mets"} <= set(seen)
    assert seen["lines.pfs_event"] == (pa.int32(), True)
