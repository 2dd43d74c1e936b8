"""The file formats of an export, each a function writing a dataset's rows to a path.

    write(path, export_file, rows) -> number of rows written

CSV (rules §8 text cells), Excel and Parquet stream their rows a batch at a time; SPSS and
Stata files are written by pyreadstat from one DataFrame holding every row (see
statistics_writer.py). Column types per format: registry/exports/typed.py.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
}
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta", "parquet": ".parquet"}
