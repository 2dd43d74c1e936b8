"""Datasets as CSV: one header row, then one line per row, LF line ends, minimal quoting
(as the REDCap flat export in registry/records/flat_export.py)."""
import csv
from collections.abc import Iterable, Sequence

from .cells import cell


def write_csv(stream, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Writes the header and `rows` (values in `columns` order) to the text stream; returns the row count."""
    writer = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
    return count


WRITERS = {"csv": write_csv}
