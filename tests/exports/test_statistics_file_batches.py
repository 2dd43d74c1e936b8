"""SPSS and Stata files gathered a batch of rows at a time (registry/exports/statistics_writer.py): read
back with pyreadstat, every value, label and user-missing code is where a one-batch file has it, the
coded cells of later batches included, and every integer column is the same file type whatever the
integer type that held it in memory.

Six hand-built rows in batches of two (three batches). The expected values are worked out by hand
from the rules the module's docstring and registry/records/missing_codes.py state: the missing-data
codes in their default order NI, UNK, NASK, ASKU, NA, NAVU, ND are -991 down to -997 in SPSS; a text
code is its place in its codes from 1 (CR 1, PR 2, PD 3); a text variable declares the first three of
its codes present, in that order, user-missing.
"""
from datetime import date

import pyreadstat
import pytest

from registry.exports import statistics_writer
from registry.exports.columns import BOOLEAN_CODES, Column, Kind
from registry.exports.formats import ExportFile
from registry.exports.statistics_writer import write_dta, write_sav
from registry.records.missing_codes import Coded

COLUMNS = (
    Column("record_id", "Record ID", Kind.TEXT, width=10),
    Column("n", "A count", Kind.INTEGER, takes_missing_code=True),
    Column("big", "Beyond 16 bits", Kind.INTEGER),
    Column("flag", "A flag", Kind.BOOLEAN, codes=BOOLEAN_CODES, takes_missing_code=True),
    Column("result", "A response", Kind.TEXT_CODE,
           codes=(("CR", "Complete"), ("PR", "Partial"), ("PD", "Progressive"))),
    Column("day", "A date", Kind.DATE, takes_missing_code=True),
    Column("size", "A size", Kind.NUMBER, unit="mm", takes_missing_code=True),
    Column("note", "A note", Kind.TEXT, width=8, takes_missing_code=True),
)
ROWS = [
    # batch 1
    ["P-1", 3, 70_000, True, "PR", date(2021, 3, 4), 12.5, "ok"],
    ["P-1", None, -70_000, False, "CR", None, None, None],
    # batch 2
    ["P-2", Coded("UNK"), 5, Coded("NASK"), "PD", date(1970, 1, 1), Coded("NI"), Coded("ND")],
    ["P-3", 0, 0, None, None, Coded("UNK"), 0.25, Coded("UNK")],
    # batch 3
    ["P-3", 120, 1, True, "PR", date(2024, 6, 30), None, Coded("NI")],
    ["P-4", Coded("ND"), 2, False, "CR", date(2020, 2, 29), Coded("ASKU"), Coded("NASK")],
]


@pytest.fixture
def batches_of_two(monkeypatch):
    monkeypatch.setattr(statistics_writer, "BATCH_ROWS", 2)


def _export():
    return ExportFile("batches", COLUMNS, [], {"exported_at": "2024-07-01T00:00:00+00:00"})


def _values(series):
    return [None if value != value else value for value in series]  # NaN (blank) as None


def test_spss_file_of_three_batches_keeps_every_value_and_user_missing_code(batches_of_two, tmp_path):
    output = tmp_path / "batches.sav"

    assert write_sav(output, _export(), iter(ROWS)) == 6

    data, meta = pyreadstat.read_sav(output, user_missing=True)
    assert list(data["record_id"]) == ["P-1", "P-1", "P-2", "P-3", "P-3", "P-4"]
    # UNK -992 (row 3), ND -997 (row 6)
    assert _values(data["n"]) == [3, None, -992, 0, 120, -997]
    assert _values(data["big"]) == [70_000, -70_000, 5, 0, 1, 2]
    # NASK -993 (row 3); True 1, False 0
    assert _values(data["flag"]) == [1, 0, -993, None, 1, 0]
    assert _values(data["result"]) == [2, 1, 3, None, 2, 1]
    # A date holds no code: the coded day of row 4 is blank.
    assert _values(data["day"]) == [date(2021, 3, 4), None, date(1970, 1, 1), None, date(2024, 6, 30),
                                    date(2020, 2, 29)]
    # NI -991 (row 3), ASKU -994 (row 6)
    assert _values(data["size"]) == [12.5, None, -991, 0.25, None, -994]
    # Codes present ND, UNK, NI, NASK; declared the first three in the list's order: NI, UNK, NASK. ND
    # (row 3) is left blank.
    assert list(data["note"]) == ["ok", "", "", "UNK", "NI", "NASK"]

    for name in ("n", "flag", "size"):
        assert meta.missing_ranges[name] == [{"lo": -997.0, "hi": -991.0}], name
    assert {entry["lo"] for entry in meta.missing_ranges["note"]} == {"NI", "UNK", "NASK"}
    assert "result" not in meta.missing_ranges and "big" not in meta.missing_ranges
    assert meta.variable_value_labels["flag"] == {
        1: "Yes", 0: "No", -991: "NI No information", -992: "UNK Unknown", -993: "NASK Not asked",
        -994: "ASKU Asked but unknown", -995: "NA Not applicable", -996: "NAVU Not available", -997: "ND Not done",
    }
    assert meta.variable_value_labels["result"] == {1: "Complete", 2: "Partial", 3: "Progressive"}
    assert meta.column_names_to_labels["size"] == "A size"
    assert (meta.original_variable_types["record_id"], meta.original_variable_types["note"],
            meta.original_variable_types["day"], meta.original_variable_types["flag"],
            meta.original_variable_types["size"]) == ("A10", "A8", "SDATE10", "F1.0", "F12.6")

    # Without the user-missing values every coded cell is blank.
    plain, _ = pyreadstat.read_sav(output)
    assert _values(plain["n"]) == [3, None, None, 0, 120, None]
    assert _values(plain["size"]) == [12.5, None, None, 0.25, None, None]


def test_stata_file_of_three_batches_has_every_value_and_one_integer_type(batches_of_two, tmp_path):
    output = tmp_path / "batches.dta"

    assert write_dta(output, _export(), iter(ROWS)) == 6

    data, meta = pyreadstat.read_dta(output)
    # Stata holds no user-missing value: a coded cell is blank.
    assert _values(data["n"]) == [3, None, None, 0, 120, None]
    assert _values(data["big"]) == [70_000, -70_000, 5, 0, 1, 2]
    assert _values(data["flag"]) == [1, 0, None, None, 1, 0]
    assert _values(data["result"]) == [2, 1, 3, None, 2, 1]
    assert _values(data["day"]) == [date(2021, 3, 4), None, date(1970, 1, 1), None, date(2024, 6, 30),
                                    date(2020, 2, 29)]
    assert _values(data["size"]) == [12.5, None, None, 0.25, None, None]
    assert list(data["note"]) == ["ok", "", "", "", "", ""]
    # The flag and the text code fit a byte in memory, `big` needs 32 bits: in the file all are Stata
    # longs (pyreadstat's int32), as they were when every integer column was held as int32.
    assert {name: meta.readstat_variable_types[name] for name in ("n", "big", "flag", "result")} == {
        "n": "int32", "big": "int32", "flag": "int32", "result": "int32"}
    assert meta.readstat_variable_types["size"] == "double"
    assert meta.variable_value_labels["flag"] == {1: "Yes", 0: "No"}
    assert meta.original_variable_types["day"] == "%tdCCYY-NN-DD"


@pytest.mark.parametrize("write", [write_sav, write_dta])
def test_unknown_text_codes_of_several_batches_are_all_named_and_nothing_is_written(batches_of_two, tmp_path, write):
    rows = [list(row) for row in ROWS]
    rows[0][4], rows[5][4] = "XX", "AA"  # in the first batch and the last
    output = tmp_path / "refused"

    with pytest.raises(ValueError, match=r"^result: 'AA', 'XX' not among its codebook codes \(CR, PR, PD\)"):
        write(output, _export(), iter(rows))

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("write", [write_sav, write_dta])
def test_a_file_of_no_rows_has_every_variable(tmp_path, write):
    output = tmp_path / "empty"

    assert write(output, _export(), iter([])) == 0

    data, meta = (pyreadstat.read_sav if write is write_sav else pyreadstat.read_dta)(output)
    assert len(data) == 0
    assert meta.column_names == [column.name for column in COLUMNS]
