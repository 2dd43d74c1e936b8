"""Datasets as CSV: one header row, then one line per row, LF line ends, minimal quoting
(as the REDCap flat export in registry/records/flat_export.py).

These files are meant for people, who open them in a spreadsheet program: a value of a text column
(by the codebook's type) that starts like a formula is written with a leading `'` (cells.py
`spreadsheet_safe`); numbers, codes and dates are written as they are.
"""
import csv
from collections.abc import Iterable, Sequence

from .cells import cell, spreadsheet_safe
from .columns import TEXT_KINDS, Column


def write_csv(stream, columns: Sequence[Column], rows: Iterable[Sequence]) -> int:
    """Writes the header and `rows` (values in `columns` order) to the text stream; returns the row count."""
    writer = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([column.name for column in columns])
    text = [column.kind in TEXT_KINDS for column in columns]
    count = 0
    for row in rows:
        writer.writerow([
            spreadsheet_safe(cell(value)) if is_text and value is not None else cell(value)
            for is_text, value in zip(text, row, strict=True)
        ])
        count += 1
    return count
