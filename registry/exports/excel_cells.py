"""Rows for openpyxl in which every text stays text.

openpyxl stores a string starting with `=` as a formula, which Excel then runs when the file is
opened (an MRN `=HYPERLINK(...)` becomes a live link). Such a value is written as an explicit
string cell instead; every other value (numbers, dates, other text) is left to openpyxl, which
already stores other strings as text cells.
"""
from collections.abc import Sequence

from openpyxl.cell import WriteOnlyCell


def text_cells(sheet, values: Sequence) -> list:
    """`values` for `sheet.append()` (a write-only sheet), each formula-like text an explicit string cell."""
    cells = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value=value)
            value.data_type = "s"
        cells.append(value)
    return cells
