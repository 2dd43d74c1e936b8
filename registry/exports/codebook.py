"""The codebook of an export: one row per column of the file, written beside it and into it.

Each row: the column's name, its meaning (label), type, unit, codes with their labels, where it
comes from (the data dictionary or a rule), what de-identification did to it, and how SPSS and
Stata files store it when not as CSV does (a text code as integer codes, a text with its width).
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from .cells import spreadsheet_safe
from .columns import Column, Kind

CODEBOOK_HEADER = ("column", "label", "type", "unit", "codes", "source", "deidentification", "storage")


def codebook_path(output) -> Path:
    """The codebook beside a dataset: `lines.sav` → `lines.sav.codebook.csv`."""
    output = Path(output)
    return output.with_name(f"{output.name}.codebook.csv")


# Columns made of the record id (rules §8 v2): in a de-identified export they hold the pseudonym.
RECORD_ID_PART_NOTES = {
    "subjid": "pseudonym: the record_id column's",
    "usubjid": "studyid-pseudonym (the record_id column's pseudonym)",
}


def _deidentification_note(column: Column) -> str:
    if column.is_record_id:
        return "pseudonym: a keyed hash of the record id"
    if column.name in RECORD_ID_PART_NOTES:
        return RECORD_ID_PART_NOTES[column.name]
    if column.kind is Kind.DATE:
        return "shifted back by the patient's date offset (0 to 364 days)"
    return ""


def codebook_rows(columns: Sequence[Column], *, deidentified: bool) -> list[tuple[str, ...]]:
    return [
        (
            column.name, column.label, column.kind.value, column.unit, column.codebook_codes(), column.source,
            _deidentification_note(column) if deidentified else "", column.storage_note(),
        )
        for column in columns
    ]


def write_codebook_csv(path: Path, rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CODEBOOK_HEADER)
        # Every column of the codebook is text, read by people in a spreadsheet program.
        writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
