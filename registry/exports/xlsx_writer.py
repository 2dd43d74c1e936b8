"""A dataset as an Excel workbook: its data sheet, then `codebook` and `provenance` sheets.

Written with openpyxl's write-only workbook, which streams rows to a temporary file, so memory
stays flat whatever the number of rows. Cells are typed (registry/exports/typed.py): dates as
dates, numbers as numbers, booleans as 1/0, blanks empty, and every text as a text cell: openpyxl
would store a text starting with `=` as a live formula (an MRN `=HYPERLINK(...)`), so such a
value is written as an explicit string cell. A sheet holds at most 1,048,576 rows;
more rows go on to continuation sheets `<dataset> (2)` ..., each with the header.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registry.records.missing_codes import Coded

from .codebook import CODEBOOK_HEADER
from .excel_cells import text_cells
from .formats import ExportFile
from .typed import TYPED_VALUE

EXCEL_MAX_ROWS = 1_048_576
_BOLD = Font(bold=True)


def _header(sheet, names: Sequence[str]) -> None:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = _BOLD
        cells.append(cell)
    sheet.append(cells)


def _sheet(workbook: Workbook, title: str, names: Sequence[str], widths: Sequence[int]):
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    _header(sheet, names)
    return sheet


def _provenance_value(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _discard(workbook: Workbook) -> None:
    """After a failure: openpyxl keeps each write-only sheet in a temporary file until save() and
    removes it only when the process exits, which a worker does not do for days."""
    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        rows = getattr(sheet, "_rows", None)
        if rows is not None:
            rows.close()
        writer.close()
        writer.cleanup()


def write_xlsx(path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    workbook = Workbook(write_only=True)
    try:
        return _write(workbook, path, export, rows)
    except BaseException:
        _discard(workbook)
        raise


def _write(workbook: Workbook, path: Path, export: ExportFile, rows: Iterable[Sequence]) -> int:
    names = [column.name for column in export.columns]
    widths = [max(10, min(40, len(name) + 2)) for name in names]
    converters = [TYPED_VALUE[column.kind] for column in export.columns]
    data = _sheet(workbook, export.dataset, names, widths)
    sheets_of_data = 1
    on_sheet = 1  # the header
    count = 0
    for row in rows:
        if on_sheet == EXCEL_MAX_ROWS:
            sheets_of_data += 1
            data = _sheet(workbook, f"{export.dataset} ({sheets_of_data})", names, widths)
            on_sheet = 1
        # A boolean is written 1/0 (rules §8), not as Excel's TRUE/FALSE.
        data.append(text_cells(data, [
            int(value) if isinstance(value, bool) else None if type(value) is Coded else convert(value)
            for convert, value in zip(converters, row, strict=True)
        ]))
        on_sheet += 1
        count += 1

    codebook = _sheet(workbook, "codebook", CODEBOOK_HEADER, (28, 60, 12, 8, 60, 30, 30, 60))
    for codebook_row in export.codebook:
        codebook.append(text_cells(codebook, list(codebook_row)))
    provenance = _sheet(workbook, "provenance", ("key", "value"), (28, 100))
    for key, value in {**export.provenance, "rows": count}.items():
        provenance.append(text_cells(provenance, [key, _provenance_value(value)]))
    workbook.save(path)
    return count
