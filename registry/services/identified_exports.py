"""The log of identified exports (registry/models/identified_exports.py): one row per export holding
identified data, written by every door at the moment the export is produced.

Which reads count as an export (a choice a data manager would make, documented in docs/security.md):
files and streams of many records (datasets, the REDCap flat export, spreadsheets, the REDCap API's
record export) and the REST API's list reads (patients/ and records/, one row per page: the bulk and
sync reads). Reading one record (the REST API's record resources, an admin page) is the daily work
of data entry and is not logged; the admin and API answer it only to users who may see identified data.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from registry.models import ExportDoor, IdentifiedExport


def identified_export_log(
    *, user, door: ExportDoor | str, content: str, file_format: str = "", site_codes: Iterable[str] = (),
    record_count: int | None = None, parameters: Mapping | None = None,
) -> IdentifiedExport:
    """Writes the log row of one identified export by `user` (None: the system) through `door`.
    `parameters` must be JSON-serialisable (what the export was asked with)."""
    entry = IdentifiedExport(
        user=user if user is not None and user.is_authenticated else None,
        username=user.get_username() if user is not None else "",
        door=door, content=content[:60], file_format=file_format,
        site_codes=", ".join(sorted(set(site_codes)))[:500], record_count=record_count,
        parameters=dict(parameters or {}),
    )
    entry.full_clean(exclude=["user"])  # the user object is the caller's own: no query to check it exists
    entry.save()
    return entry
