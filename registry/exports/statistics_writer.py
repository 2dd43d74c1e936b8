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

pyreadstat writes a whole DataFrame at once: it cannot append rows to a file (the row count and
each variable's width go into the header before the first row), nor can pandas' StataWriter. So
every row is held in memory, as lean as the file's types allow: the rows are read BATCH_ROWS at a
time, each batch typed by Arrow (typed.py) and turned at once into one numpy array per column, the
batch's Python rows and Arrow arrays then dropped. A column's arrays become one when every batch is
in: a date or a number float64, an integer, code or 1/0 flag the smallest signed integer type that
holds its values (int8 for most codes) with a mask for blanks, a text Python strings (one object
for each distinct value of a batch). pyreadstat gives every integer type the same file type, so
the file is the same whatever the type held in memory. benchmarks/export.py measures the peak; CSV
and Parquet are the formats that stream.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyreadstat

from registry.records.missing_codes import Coded, missing_data_codes, spss_missing_values

from .columns import Column, Kind
from .formats import ExportFile
from .typed import arrow_batch, arrow_schema

BATCH_ROWS = 2_000  # rows typed together: their Python values are the transient part of the peak

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
    """Every row as one Arrow table (the SAS transport writer's way; .sav and .dta use `_gathered`)."""
    schema = arrow_schema(export.columns)
    rows = iter(rows)
    batches = []
    while chunk := list(islice(rows, BATCH_ROWS)):
        batches.append(arrow_batch(export.columns, chunk, schema))
    return pa.Table.from_batches(batches, schema=schema)


@dataclass
class _Column:
    """One column's values for the whole file, gathered a batch at a time (see the module's docstring).

    `parts`: a batch's values each, as numpy arrays: float64 (a date, as the program's date number,
    or a number; NaN blank), (int32 values, bool blank mask) for an integer, code, flag or text code,
    or Python strings (None blank) for a text. `unknown`: a text code's values not among its codes."""

    column: Column
    parts: list = field(default_factory=list)
    unknown: set = field(default_factory=set)


def _add_batch(gathered: _Column, values: pa.Array, *, days_to_1970: int, scale: int) -> None:
    column = gathered.column
    if column.kind is Kind.DATE:
        days = values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype("float64")
        gathered.parts.append((days + days_to_1970) * scale)
    elif column.kind is Kind.NUMBER:
        gathered.parts.append(values.to_numpy(zero_copy_only=False))
    elif column.kind in (Kind.INTEGER, Kind.CODE, Kind.BOOLEAN):
        gathered.parts.append(_integers(values))
    elif column.kind is Kind.TEXT_CODE:
        gathered.parts.append(_integer_codes(values, gathered))
    else:  # Python strings at once (one object for each distinct value of the batch): the Arrow
        # array, more bytes a value than a pointer to a shared string, is dropped with the batch
        gathered.parts.append(values.to_pandas().to_numpy())


def _integers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values, blank mask): Stata stores integers as integers, with its missing value for blanks."""
    mask = values.is_null().to_numpy(zero_copy_only=False)
    return values.fill_null(0).to_numpy(zero_copy_only=False).astype("int32"), mask


def _integer_codes(values: pa.Array, gathered: _Column) -> tuple[np.ndarray, np.ndarray]:
    """A text code's values as (their integer codes, blank mask); a value not among the codes is noted
    in `gathered.unknown` (and written as blank, but nothing is written: see `_check_codes`)."""
    numbers = gathered.column.integer_codes
    places = pc.index_in(values, value_set=pa.array(list(numbers), type=pa.string()))
    unknown = pc.and_(places.is_null(), values.is_valid())
    if pc.any(unknown).as_py():
        gathered.unknown.update(values.filter(unknown).to_pylist())
    integers, mask = _integers(places)
    return np.array(list(numbers.values()) or [0], dtype="int32")[integers], mask


def _check_codes(columns: Sequence[_Column]) -> None:
    """Raises ValueError naming the first text code column with a value not among its codebook codes."""
    for gathered in columns:
        if gathered.unknown:
            numbers = gathered.column.integer_codes
            raise ValueError(
                f"{gathered.column.name}: {', '.join(map(repr, sorted(gathered.unknown)))} not among its codebook "
                f"codes ({', '.join(numbers)}); no integer code to write it as"
            )


def _gathered(export: ExportFile, rows: Iterable[Sequence], *, days_to_1970: int, scale: int
              ) -> tuple[list[_Column], int]:
    """Every row's values, column by column (`_Column`), and the number of rows. Raises ValueError for
    a text code's value not among its codes, once every row is read."""
    schema = arrow_schema(export.columns)
    columns = [_Column(column) for column in export.columns]
    count = 0
    rows = iter(rows)
    while chunk := list(islice(rows, BATCH_ROWS)):
        batch = arrow_batch(export.columns, chunk, schema)
        del chunk  # the batch's Python values: Arrow holds them now, more compactly
        for gathered, values in zip(columns, batch.columns, strict=True):
            _add_batch(gathered, values, days_to_1970=days_to_1970, scale=scale)
        count += batch.num_rows
        del batch
    _check_codes(columns)
    return columns, count


def _smallest_integer_type(parts: Iterable[np.ndarray], also: Iterable[int] = ()) -> str:
    """The narrowest of int8, int16 and int32 holding every value of `parts` and `also` (pyreadstat
    writes any of them as the same variable type)."""
    bounds = [*also]
    for part in parts:
        if len(part):
            bounds += [int(part.min()), int(part.max())]
    for dtype in ("int8", "int16"):
        limits = np.iinfo(dtype)
        if all(limits.min <= bound <= limits.max for bound in bounds):
            return dtype
    return "int32"


def _joined(gathered: _Column, codes: dict[int, str], numbers: dict[str, int]):
    """The column's values for the frame, its batches joined (and dropped as they are); each coded row
    of `codes` ({row: missing-data code}) holds its code's number in a numeric column, its code in
    a text one (the codes `_user_missing` declares only), and stays blank in a date."""
    column, parts = gathered.column, gathered.parts
    gathered.parts = []
    if column.kind in (Kind.DATE, Kind.NUMBER):
        values = np.concatenate(parts) if parts else np.empty(0, dtype="float64")
        del parts
        if codes and column.kind is Kind.NUMBER:
            values[list(codes)] = [numbers[code] for code in codes.values()]
        return values
    if column.kind in (Kind.INTEGER, Kind.CODE, Kind.BOOLEAN, Kind.TEXT_CODE):
        dtype = _smallest_integer_type((part[0] for part in parts), also=numbers.values() if codes else ())
        values = np.concatenate([part[0] for part in parts], dtype=dtype, casting="same_kind") if parts else \
            np.empty(0, dtype=dtype)
        mask = np.concatenate([part[1] for part in parts]) if parts else np.empty(0, dtype=bool)
        del parts
        if codes:
            rows = list(codes)
            values[rows] = [numbers[code] for code in codes.values()]
            mask[rows] = False
        return pd.arrays.IntegerArray(values, mask)
    texts = np.concatenate(parts) if parts else np.empty(0, dtype=object)
    del parts
    if codes:
        declared = _declared_text_codes(codes, numbers)
        for row, code in codes.items():
            if code in declared:
                texts[row] = code
    return texts


def _declared_text_codes(codes: dict[int, str], numbers: dict[str, int]) -> list[str]:
    """The missing-data codes a text variable declares user-missing: SPSS allows three, the first
    three of the list present."""
    return sorted(set(codes.values()), key=list(numbers).index)[:3]


def _frame(columns: list[_Column], *, found: dict[int, dict[int, str]] | None = None, pad_text: bool = False
           ) -> pd.DataFrame:
    """The frame pyreadstat writes, its columns the gathered ones' (emptied one by one). `found`: the
    coded cells (`_without_codes`) written as SPSS user-missing values. `pad_text`: a text's blanks as
    "" and its first value padded to its width (SPSS, see the module's docstring)."""
    found = found or {}
    numbers = spss_missing_values() if found else {}
    data = {}
    for index, gathered in enumerate(columns):
        values = _joined(gathered, found.get(index, {}), numbers)
        if pad_text and gathered.column.kind is Kind.TEXT:
            values = padded_to_width(pd.Series(values, copy=False), gathered.column.text_width).to_numpy()
        data[gathered.column.name] = values
    # copy=False: each column keeps its own array (pandas would otherwise copy same-typed ones into one).
    return pd.DataFrame(data, copy=False)


def padded_to_width(values: pd.Series, width: int | None) -> pd.Series:
    """Text values, blanks as "", the first padded with spaces to `width` bytes: what pyreadstat
    needs to give the variable that width (see the module's docstring)."""
    values = values.astype(object).where(values.notna(), "")
    if width is not None and len(values):
        first = values.iloc[0]
        values.iloc[0] = first + " " * (width - len(first.encode()))
    return values


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


def _user_missing(columns: Sequence[Column], found: dict[int, dict[int, str]],
                  value_labels: dict[str, dict]) -> dict[str, list]:
    """pyreadstat's `missing_ranges` for the coded cells `found` ({column index: {row index: code}}),
    which `_frame` writes as SPSS user-missing values: a numeric variable holds the code's number (-991
    down) and declares the range of them missing, with value labels naming the codes (added to
    `value_labels`; a text code is numeric here too); a text variable holds the code itself and
    declares it missing (SPSS allows three such values: others stay blank). A date stays blank: a
    date variable holds no code (the codebook says so)."""
    numbers = spss_missing_values()
    labels = {numbers[code]: f"{code} {label}" for code, label in missing_data_codes().items()}
    ranges: dict[str, list] = {}
    for column_index, codes in found.items():
        column = columns[column_index]
        if column.kind in (Kind.INTEGER, Kind.CODE, Kind.BOOLEAN, Kind.NUMBER, Kind.TEXT_CODE):
            ranges[column.name] = [{"lo": min(numbers.values()), "hi": max(numbers.values())}]
            value_labels[column.name] = {**value_labels.get(column.name, {}), **labels}
        elif column.kind is Kind.TEXT:
            ranges[column.name] = _declared_text_codes(codes, numbers)
    return ranges


def write_sav(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    if invalid := invalid_spss_names(names):
        raise ValueError(f"Not valid SPSS variable names: {', '.join(invalid)}")
    found: dict[int, dict[int, str]] = {}
    columns, count = _gathered(export, _without_codes(rows, found), days_to_1970=SPSS_DAYS_TO_1970,
                               scale=SECONDS_A_DAY)
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
    value_labels = _value_labels(export.columns, 120)
    missing_ranges = _user_missing(export.columns, found, value_labels) if found else None
    # The codes go in before the padding: a code written over the padded value would undo it.
    frame = _frame(columns, found=found, pad_text=True)
    del columns
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
    return count


def write_dta(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    if invalid := invalid_stata_names(names):
        raise ValueError(f"Not valid Stata variable names: {', '.join(invalid)}")
    columns, count = _gathered(export, rows, days_to_1970=STATA_DAYS_TO_1970, scale=1)
    frame = _frame(columns)
    del columns
    pyreadstat.write_dta(
        frame,
        path,
        file_label=cut_to_bytes(_file_label(export), 80),
        column_labels={column.name: cut_to_bytes(column.label, 80) for column in export.columns},
        variable_value_labels=_value_labels(export.columns, 32_000),
        variable_format={column.name: "%tdCCYY-NN-DD" for column in export.columns if column.kind is Kind.DATE},
    )
    return count
