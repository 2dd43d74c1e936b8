"""A record's content as canonical bytes, and its hash: what an e-signature and a frozen data cut
both fix of a record.

The content is the record's REDCap flat rows (registry/records/flat_export.py, the same cells every
export writes), each row as an object of its non-blank cells with sorted keys, the rows in export
order, as compact UTF-8 JSON. Blank cells are left out so that a column added to the dictionary
later (blank in every stored record) changes neither a signature's hash nor a cut's blobs; any
value typed, changed or removed does change them.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from registry.models import Patient

from .flat_export import flat_rows
from .instruments import all_flat_columns


def record_contents(patients: QuerySet[Patient]) -> Iterator[tuple[str, bytes]]:
    """(record ID, canonical content) of each patient, in record ID order, read in batches."""
    columns = all_flat_columns()
    current: str | None = None
    rows: list[dict[str, str]] = []
    for row in flat_rows(patients):
        if row[0] != current:
            if current is not None:
                yield current, _canonical(rows)
            current, rows = row[0], []
        rows.append({name: cell for name, cell in zip(columns, row, strict=True) if cell != ""})
    if current is not None:
        yield current, _canonical(rows)


def _canonical(rows: list[dict[str, str]]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def record_content_hashes(patients: QuerySet[Patient]) -> dict[str, str]:
    """SHA-256 (hex) of each patient's canonical content, by record ID."""
    return {record_id: content_hash(content) for record_id, content in record_contents(patients)}
