"""The file formats of an export, each a function writing a dataset's rows to a path.

    write(path, export_file, rows) -> number of rows written

CSV (rules §8 text cells), Excel and Parquet stream their rows a batch at a time; SPSS, Stata
and SAS transport files are written by pyreadstat from one DataFrame holding every row (see
statistics_writer.py, xpt_writer.py). Column types per format: registry/exports/typed.py.

Every format is offered for every dataset but SAS transport (`xpt`), which is for the ADaM-style
datasets only (XPT_MEMBER_NAMES) and holds only their ADaM variables: the columns named in at most
8 characters, in the dataset's order, their names in capitals (`file_columns`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .columns import Column
from .csv_writer import write_csv


@dataclass(frozen=True)
class ExportFile:
    """What a writer needs besides the rows."""

    dataset: str
    columns: tuple[Column, ...]
    codebook: list[tuple[str, ...]]  # registry/exports/codebook.py rows
    provenance: dict  # what the rows were derived with (registry/exports/provenance.py), without their count


def _csv(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    # newline="": the writer's own LF line ends are kept as they are on every platform.
    with path.open("w", encoding="utf-8", newline="") as stream:
        return write_csv(stream, export.columns, rows)


def _imported_when_used(module: str, function: str) -> Callable[[Path, ExportFile, Iterable[Sequence]], int]:
    """pyarrow, pandas and openpyxl take a second to import, which a CSV export (and every other
    command) need not pay."""

    def write(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
        return getattr(importlib.import_module(module, __package__), function)(path, export, rows)

    return write


WRITERS: dict[str, Callable[[Path, ExportFile, Iterable[Sequence]], int]] = {
    "csv": _csv,
    "xlsx": _imported_when_used(".xlsx_writer", "write_xlsx"),
    "sav": _imported_when_used(".statistics_writer", "write_sav"),
    "dta": _imported_when_used(".statistics_writer", "write_dta"),
    "parquet": _imported_when_used(".parquet_writer", "write_parquet"),
    "xpt": _imported_when_used(".xpt_writer", "write_xpt"),
}
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta", "parquet": ".parquet", "xpt": ".xpt"}

XPT = "xpt"
# The datasets a SAS transport file is offered for, each with the CDISC name of its ADaM dataset (the
# member name inside the file, as regulatory reviewers receive it). A name here whose dataset does not
# exist is offered for nothing.
XPT_MEMBER_NAMES = {"endpoints": "ADTTE", "responses": "ADRS", "tumor_sums": "ADTR"}
XPT_NAME_MAX = 8  # SAS transport version 5: a variable name has at most 8 characters


def formats_of(dataset: str) -> tuple[str, ...]:
    """The formats dataset `dataset` is offered in."""
    return tuple(name for name in WRITERS if name != XPT or dataset in XPT_MEMBER_NAMES)


def format_refusal(dataset: str, file_format: str) -> str:
    """Why `file_format` is not offered for `dataset`."""
    if file_format == XPT:
        return (f"xpt (SAS transport, ADaM) is offered for {', '.join(XPT_MEMBER_NAMES)} only, "
                f"not for {dataset}")
    return f"file_format must be one of {', '.join(formats_of(dataset))}, not {file_format!r}"


def file_columns(file_format: str, columns: Sequence[Column]) -> tuple[tuple[int, ...] | None, tuple[Column, ...]]:
    """The columns a file of `file_format` holds: (None, every column) but for xpt, whose layout is
    the columns named in at most XPT_NAME_MAX characters, in order, renamed in capitals; then
    (their indexes in `columns`, them)."""
    if file_format != XPT:
        return None, tuple(columns)
    kept = tuple(index for index, column in enumerate(columns) if len(column.name) <= XPT_NAME_MAX)
    return kept, tuple(replace(columns[index], name=columns[index].name.upper()) for index in kept)
