"""An ADaM dataset as a SAS transport file (xpt, version 5), written by pyreadstat.

Version 5 is the transport format regulatory reviewers ask ADaM datasets in (FDA Study Data
Technical Conformance Guide): variable names of at most 8 characters, labels of at most 40, text of
at most 200 bytes, one member per file, named as CDISC names the dataset (formats.py
XPT_MEMBER_NAMES: endpoints is ADTTE). The columns are the ones formats.py `file_columns` keeps.

Every value is as in the other formats, typed for SAS: a date is a SAS date (days from 1960-01-01)
shown as DATE9.; integers, codes and 1/0 flags are numbers; a text code stays its text (ADaM's
PARAMCD, EVNTDESC ... are character variables; SAS transport has no value labels); a text variable
is as wide as its column's declared width (columns.py `text_width`; padded as the SPSS writer does,
SAS too pads text with blanks). A missing-data code is blank: version 5 holds no user-missing value.
Labels longer than 40 bytes are cut with "...", the codebook has them whole.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat

from .columns import Column, Kind
from .formats import XPT_MEMBER_NAMES, ExportFile
from .statistics_writer import _table, cut_to_bytes, padded_to_width

SAS_DAYS_TO_1970 = 3_653  # SAS counts days from 1960-01-01
SAS_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")
LABEL_BYTES = 40
TEXT_BYTES = 200


def invalid_sas_names(names: Iterable[str]) -> list[str]:
    return [name for name in names if not SAS_NAME.match(name)]


def _text(values: pa.ChunkedArray, column: Column) -> pd.Series:
    texts = values.to_pandas()
    longest = max((len(text.encode()) for text in texts.dropna()), default=0)
    if max(longest, column.text_width or 0) > TEXT_BYTES:
        raise ValueError(f"{column.name}: SAS transport version 5 holds text of at most {TEXT_BYTES} bytes, "
                         f"the column is {max(longest, column.text_width or 0)}")
    return padded_to_width(texts, column.text_width)


def _frame(table: pa.Table, columns: Sequence[Column]) -> pd.DataFrame:
    data = {}
    for column, values in zip(columns, table.columns, strict=True):
        if column.kind is Kind.DATE:
            days = values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype("float64")
            data[column.name] = days + SAS_DAYS_TO_1970
        elif column.kind in (Kind.TEXT, Kind.TEXT_CODE):
            data[column.name] = _text(values, column)
        else:  # every SAS number is a double; a blank is SAS's missing value
            data[column.name] = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(data, index=np.arange(table.num_rows))


def write_xpt(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    if invalid := invalid_sas_names(names):
        raise ValueError(f"Not valid SAS transport (version 5) variable names: {', '.join(invalid)}")
    table = _table(export, rows)
    pyreadstat.write_xport(
        _frame(table, export.columns),
        path,
        file_label=cut_to_bytes(f"ALK+ NSCLC registry: {export.dataset}", LABEL_BYTES),
        column_labels={column.name: cut_to_bytes(column.label, LABEL_BYTES) for column in export.columns},
        table_name=XPT_MEMBER_NAMES[export.dataset],
        file_format_version=5,
        variable_format={column.name: "DATE9." for column in export.columns if column.kind is Kind.DATE},
    )
    return table.num_rows
