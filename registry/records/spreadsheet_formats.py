"""The file formats the admin's per-instrument spreadsheet export offers: CSV and Excel, safe to open.

These files are for people, who open them in Excel or LibreOffice:
- CSV: a value of a text column (by the data dictionary's type, as the codebook names it) that
  starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice
  against formula injection); numbers, codes and dates are written as they are.
- Excel: every text is a text cell, never a formula (registry/exports/excel_cells.py).

Imports keep django-import-export's own formats (registry/records/spreadsheets.py reads them); their
preview shows each change with `StyleFreeDiff`, marked up without the inline styles the
Content-Security-Policy refuses.
"""
from html import escape
from io import BytesIO

import tablib
from diff_match_patch import diff_match_patch
from django.utils.encoding import force_str
from django.utils.safestring import mark_safe
from import_export.formats import base_formats
from import_export.resources import Diff
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from registry.exports.cells import spreadsheet_safe
from registry.exports.columns import TEXT_KINDS, dictionary_column
from registry.exports.excel_cells import text_cells

from .dictionary import data_dictionary


def _is_text_column(name: str) -> bool:
    """A data-dictionary field whose codebook type is text; other columns (`<form>_complete`) are codes."""
    return name in data_dictionary().by_name and dictionary_column(name).kind in TEXT_KINDS


def formula_safe(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of `dataset` in which every value of a text column is `spreadsheet_safe`."""
    text = [_is_text_column(str(header)) for header in dataset.headers]
    safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        safe.append([
            spreadsheet_safe(value) if is_text and isinstance(value, str) else value
            for is_text, value in zip(text, row, strict=True)
        ])
    return safe


class SpreadsheetCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        return super().export_data(formula_safe(dataset), **kwargs)


class SpreadsheetXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(dataset.title or "Sheet1")
        header = []
        for name in dataset.headers:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in dataset:
            sheet.append(text_cells(sheet, row))
        stream = BytesIO()
        workbook.save(stream)
        return stream.getvalue()


EXPORT_FORMATS = [SpreadsheetCSV, SpreadsheetXLSX]

# diff-match-patch operation → markup: <ins> and <del> as the browser shows them, no style attribute
# (the library's own diff_prettyHtml writes `style="background:#e6ffe6;"`).
_DIFF_MARKUP = {
    diff_match_patch.DIFF_INSERT: "<ins>{}</ins>",
    diff_match_patch.DIFF_DELETE: "<del>{}</del>",
    diff_match_patch.DIFF_EQUAL: "<span>{}</span>",
}


class StyleFreeDiff(Diff):
    """django-import-export's preview of a row's changes, marked up with <ins>/<del> and no inline style."""

    def as_html(self):
        cells = []
        matcher = diff_match_patch()
        for before, after in zip(self.left, self.right):
            if before != after and self.new:
                before = ""
            diff = matcher.diff_main(force_str(before), force_str(after))
            matcher.diff_cleanupSemantic(diff)
            cells.append(mark_safe("".join(
                _DIFF_MARKUP[operation].format(escape(text).replace("\n", "&para;<br>"))
                for operation, text in diff
            )))
        return cells
