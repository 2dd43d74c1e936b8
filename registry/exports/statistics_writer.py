"""A dataset as an SPSS (.sav) or Stata (.dta) file, written by pyreadstat.

Each variable has its label (the dictionary's field label, or the derived column's description)
and, when it holds integer codes or 1/0 booleans, value labels; dates are date variables (SPSS
SDATE10, Stata %tdCCYY-NN-DD). A text code (`best_response`, `extent`, `paramcd` ...) is written as
an integer code with the codebook's labels as value labels, numbered by its place in the codebook's
list (columns.py `integer_codes`; the codebook's storage note gives the numbers): Stata cannot label
a text variable, and an integer variable is what both programs tabulate and model. A value that is
not one of its column's codes is an error, and nothing is written. Labels longer than the format
allows (Stata: 80 bytes a variable label) are cut, with "...": the codebook has them whole.

An SPSS text variable is as wide as its column's declared width (columns.py `text_width`), not as
its longest value, so that every export of a dataset has the same layout. pyreadstat sizes a text
variable to its longest value, so one value is written padded with spaces to the width: SPSS pads
every text value with spaces to its variable's width and ignores trailing spaces, so the file holds
the same bytes as if SPSS had written the variable. A value longer than the width (possible only with
non-ASCII text: widths count bytes, model fields characters) widens the variable rather than be cut;
a file of no rows has nothing to pad and keeps pyreadstat's width of 1.

pyreadstat writes a whole DataFrame at once, so every row is held in memory: first as Arrow
record batches (compact, a few bytes a value), then as the DataFrame handed to pyreadstat. For the
`lines` of 10,000 patients that is some tens of MiB (benchmarks/export.py measures it); CSV and
Parquet are the formats that stream.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat

from registry.records.missing_codes import Coded, missing_data_codes, spss_missing_values

from .columns import Column, Kind
from .formats import ExportFile
from .typed import arrow_batch, arrow_schema

BATCH_ROWS = 10_000

# Stata: a name is 1 to 32 letters, digits or underscores, not starting with a digit, and not one of
# these reserved words (Stata manual [U] 11.3).
STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
STATA_RESERVED = frozenset({
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N", "_pi",
    "_pred", "_rc", "_skip", "strL", "using", "with",
})
# SPSS: up to 64 bytes, starting with a letter; these words are reserved.
SPSS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})

# Days from each program's date origin to 1970-01-01 (Arrow's): SPSS counts seconds from 1582-10-14,
# Stata days from 1960-01-01.
SPSS_DAYS_TO_1970 = 141_428
STATA_DAYS_TO_1970 = 3_653
SECONDS_A_DAY = 86_400


def invalid_stata_names(names: Iterable[str]) -> list[str]:
    return [name for name in names if not STATA_NAME.match(name) or name in STATA_RESERVED or
            re.fullmatch(r"str\d+", name)]


def invalid_spss_names(names: Iterable[str]) -> list[str]:
    return [name for name in names if not SPSS_NAME.match(name) or name.upper() in SPSS_RESERVED]


def cut_to_bytes(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, ending in "..." when it had to be cut."""
    if len(text.encode()) <= limit:
        return text
    return text.encode()[: limit - 3].decode(errors="ignore").rstrip() + "..."


def _table(export: ExportFile, rows: Iterable[Sequence]) -> pa.Table:
    schema = arrow_schema(export.columns)
    rows = iter(rows)
    batches = []
    while chunk := list(islice(rows, BATCH_ROWS)):
        batches.append(arrow_batch(export.columns, chunk, schema))
    return pa.Table.from_batches(batches, schema=schema)


def _integers(values: pa.ChunkedArray, dtype: str) -> pd.arrays.IntegerArray:
    """Nullable integers: Stata stores them as integers, with its missing value for blanks."""
    mask = values.is_null().to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(values.fill_null(0).to_numpy(zero_copy_only=False).astype(dtype), mask)


def _integer_codes(values: pa.ChunkedArray, column: Column) -> pd.arrays.IntegerArray:
    """A text code's values as their integer codes; raises ValueError naming a value not in the codebook."""
    numbers = column.integer_codes
    texts = values.to_pylist()
    if unknown := sorted({text for text in texts if text is not None and text not in numbers}):
        raise ValueError(
            f"{column.name}: {', '.join(map(repr, unknown))} not among its codebook codes "
            f"({', '.join(numbers)}); no integer code to write it as"
        )
    return pd.array([None if text is None else numbers[text] for text in texts], dtype="Int32")


def padded_to_width(values: pd.Series, width: int | None) -> pd.Series:
    """Text values, blanks as "", the first padded with spaces to `width` bytes: what pyreadstat
    needs to give the variable that width (see the module's docstring)."""
    values = values.astype(object).where(values.notna(), "")
    if width is not None and len(values):
        first = values.iloc[0]
        values.iloc[0] = first + " " * (width - len(first.encode()))
    return values


def _frame(table: pa.Table, columns: Sequence[Column], *, days_to_1970: int, scale: int) -> pd.DataFrame:
    data = {}
    for column, values in zip(columns, table.columns, strict=True):
        if column.kind is Kind.DATE:
            days = values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype("float64")
            data[column.name] = (days + days_to_1970) * scale
        elif column.kind in (Kind.INTEGER, Kind.CODE):
            data[column.name] = _integers(values, "int32")
        elif column.kind is Kind.BOOLEAN:
            data[column.name] = _integers(values.cast(pa.int8()), "int8")
        elif column.kind is Kind.NUMBER:
            data[column.name] = values.to_numpy(zero_copy_only=False)
        elif column.kind is Kind.TEXT_CODE:
            data[column.name] = _integer_codes(values, column)
        else:
            data[column.name] = values.to_pandas()
    return pd.DataFrame(data, index=np.arange(table.num_rows))


def _value_labels(columns: Sequence[Column], limit: int) -> dict[str, dict[int, str]]:
    return {
        column.name: {value: cut_to_bytes(label, limit) for value, label in column.value_labels.items()}
        for column in columns if column.value_labels
    }


def _file_label(export: ExportFile) -> str:
    return f"ALK+ NSCLC registry: {export.dataset}"


def _notes(export: ExportFile) -> list[str]:
    """SPSS file documents (lines of at most 80 bytes): where the rows come from."""
    provenance = export.provenance
    lines = [
        f"ALK+ NSCLC registry, dataset {export.dataset}, exported {provenance.get('exported_at')}",
        f"Derivation rules version {provenance.get('rules_version')}, data cut-off {provenance.get('data_cutoff')}",
        f"De-identified: {'yes' if provenance.get('deidentified') else 'no'}",
        "Codebook and full provenance: the .codebook.csv and .provenance.json files",
    ]
    return [cut_to_bytes(line, 80) for line in lines]


def _without_codes(rows: Iterable[Sequence], found: dict[int, dict[int, str]]) -> Iterator[Sequence]:
    """The rows with each missing-data code as None; `found` gets {column index: {row index: code}}."""
    for row_index, row in enumerate(rows):
        if any(type(value) is Coded for value in row):
            row = list(row)
            for column_index, value in enumerate(row):
                if type(value) is Coded:
                    found.setdefault(column_index, {})[row_index] = value.code
                    row[column_index] = None
        yield row


def _user_missing(frame: pd.DataFrame, columns: Sequence[Column], found: dict[int, dict[int, str]],
                  value_labels: dict[str, dict]) -> dict[str, list]:
    """Puts each coded cell in `frame` as an SPSS user-missing value and returns pyreadstat's
    `missing_ranges`: a numeric variable holds the code's number (-991 down) and declares the range of
    them missing, with value labels naming the codes (a text code is numeric here too); a text
    variable holds the code itself and declares it missing (SPSS allows three such values: others
    stay blank). A date stays blank: a date variable holds no code (the codebook says so)."""
    numbers = spss_missing_values()
    labels = {numbers[code]: f"{code} {label}" for code, label in missing_data_codes().items()}
    ranges: dict[str, list] = {}
    for column_index, codes in found.items():
        column = columns[column_index]
        rows, values = list(codes), list(codes.values())
        if column.kind in (Kind.INTEGER, Kind.CODE, Kind.BOOLEAN, Kind.NUMBER, Kind.TEXT_CODE):
            if column.kind is Kind.BOOLEAN:
                frame[column.name] = frame[column.name].astype("Int16")  # -997 does not fit an int8
            frame.loc[rows, column.name] = [numbers[code] for code in values]
            ranges[column.name] = [{"lo": min(numbers.values()), "hi": max(numbers.values())}]
            value_labels[column.name] = {**value_labels.get(column.name, {}), **labels}
        elif column.kind is Kind.TEXT:
            declared = sorted(set(values), key=list(numbers).index)[:3]
            frame.loc[[row for row, code in codes.items() if code in declared], column.name] = [
                code for code in values if code in declared]
            ranges[column.name] = declared
    return ranges


def write_sav(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    if invalid := invalid_spss_names(names):
        raise ValueError(f"Not valid SPSS variable names: {', '.join(invalid)}")
    found: dict[int, dict[int, str]] = {}
    table = _table(export, _without_codes(rows, found))
    formats, measures = {}, {}
    for column in export.columns:
        if column.kind is Kind.DATE:
            formats[column.name] = "SDATE10"
        elif column.kind is Kind.BOOLEAN:
            formats[column.name] = "F1.0"
        elif column.kind in (Kind.INTEGER, Kind.CODE, Kind.TEXT_CODE):
            formats[column.name] = "F8.0"
        elif column.kind is Kind.NUMBER:
            formats[column.name] = "F12.6"
        elif column.text_width is not None:
            formats[column.name] = f"A{column.text_width}"
        coded = column.kind in (Kind.CODE, Kind.BOOLEAN, Kind.TEXT_CODE, Kind.TEXT)
        measures[column.name] = "nominal" if coded else "scale"
    frame = _frame(table, export.columns, days_to_1970=SPSS_DAYS_TO_1970, scale=SECONDS_A_DAY)
    value_labels = _value_labels(export.columns, 120)
    missing_ranges = _user_missing(frame, export.columns, found, value_labels) if found else None
    for column in export.columns:  # after the codes: a code written over the padded value would undo it
        if column.kind is Kind.TEXT:
            frame[column.name] = padded_to_width(frame[column.name], column.text_width)
    pyreadstat.write_sav(
        frame,
        path,
        file_label=cut_to_bytes(_file_label(export), 64),
        column_labels={column.name: cut_to_bytes(column.label, 256) for column in export.columns},
        variable_value_labels=value_labels,
        missing_ranges=missing_ranges,
        variable_format=formats,
        variable_measure=measures,
        note=_notes(export),
    )
    return table.num_rows


def write_dta(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    if invalid := invalid_stata_names(names):
        raise ValueError(f"Not valid Stata variable names: {', '.join(invalid)}")
    table = _table(export, rows)
    pyreadstat.write_dta(
        _frame(table, export.columns, days_to_1970=STATA_DAYS_TO_1970, scale=1),
        path,
        file_label=cut_to_bytes(_file_label(export), 80),
        column_labels={column.name: cut_to_bytes(column.label, 80) for column in export.columns},
        variable_value_labels=_value_labels(export.columns, 32_000),
        variable_format={column.name: "%tdCCYY-NN-DD" for column in export.columns if column.kind is Kind.DATE},
    )
    return table.num_rows
