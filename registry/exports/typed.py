"""Values of a row as typed values, per column kind: what Excel, Parquet, SPSS and Stata store.

The rows of registry/exports/datasets.py hold what the database returned (dates, Decimals,
booleans, integer codes, text with "" for blank). Typed formats store:

| kind          | Parquet (Arrow) | Excel         | SPSS / Stata                           |
|---------------|-----------------|---------------|----------------------------------------|
| date          | date32          | date cell     | date variable (SDATE10 / %tdCCYY-NN-DD) |
| integer       | int32           | number        | numeric, no decimals                   |
| number        | float64         | number        | numeric                                |
| boolean       | int32 1 / 0     | number 1 / 0  | numeric 1 / 0, value labels Yes / No   |
| integer code  | int32           | number        | numeric, value labels from the codes   |
| text code     | string          | text          | integer code, value labels (codebook)  |
| text          | string          | text          | string of its declared width (SPSS)    |

Every 0/1 flag of a Parquet file is int32 whatever its values (an all-blank one too): a boolean
column, and an integer code of 0 and 1 (`cnsr`, a yes/no field, a checkbox option), as the CSV
writes them. int32 rather than a narrower type because Parquet stores int8 and int16 as INT32
anyway (a logical annotation), so a narrower type saves nothing on disk, while int32 is the type of
every other integer code of the file and R's own integer type (arrow reads it as R integer, not
logical; pandas and Arrow's bool turn a column with blanks into Python objects).

Blank is null (Parquet), an empty cell (Excel), system-missing or "" (SPSS / Stata); a blank text is
null too, never "". Decimals become doubles: every stored value (at most 6 decimal places, at most 12
digits) is the double nearest to it, so rounding it to its stored places gives it back exactly;
decimal128 would keep it exact, but pandas reads such a column as Python objects.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa

from registry.records.missing_codes import Coded

from .columns import Column, Kind

ARROW_TYPES = {
    Kind.DATE: pa.date32(),
    Kind.INTEGER: pa.int32(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOLEAN: pa.int32(),
    Kind.CODE: pa.int32(),
    Kind.TEXT_CODE: pa.string(),
    Kind.TEXT: pa.string(),
}


def _as_float(value):
    return None if value is None else float(value)


def _as_int(value):
    # A checkbox option and a boolean column are stored as booleans and exported as their 1/0 code.
    return None if value is None else int(value)


def _as_text(value):
    return value or None


def _as_is(value):
    return value


TYPED_VALUE: dict[Kind, Callable] = {
    Kind.DATE: _as_is,
    Kind.INTEGER: _as_is,
    Kind.NUMBER: _as_float,
    Kind.BOOLEAN: _as_int,
    Kind.CODE: _as_int,
    Kind.TEXT_CODE: _as_text,
    Kind.TEXT: _as_text,
}


def arrow_schema(columns: Sequence[Column], *, metadata: dict[str, str] | None = None) -> pa.Schema:
    """The schema, each field carrying its label, unit and codes (as the codebook gives them)."""
    return pa.schema(
        [
            pa.field(column.name, ARROW_TYPES[column.kind], metadata={
                "label": column.label, "type": column.kind.value, "unit": column.unit, "codes": column.codes_text(),
            })
            for column in columns
        ],
        metadata=metadata,
    )


def arrow_batch(columns: Sequence[Column], rows: Sequence[Sequence], schema: pa.Schema) -> pa.RecordBatch:
    """Rows (values in `columns` order) as one record batch of `schema`."""
    by_column = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    arrays = []
    for column, values, field in zip(columns, by_column, schema, strict=True):
        convert = TYPED_VALUE[column.kind]
        if any(type(value) is Coded for value in values):  # a missing-data code is missing (null)
            values = [None if type(value) is Coded else value for value in values]
        typed = values if convert is _as_is else [convert(value) for value in values]
        arrays.append(pa.array(typed, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
