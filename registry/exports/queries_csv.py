"""The queries' monitoring CSV (one row per query, registry/selectors/queries.py CSV_HEADER), written
the same by the workspace's download and the REST API's `?format=csv`."""
from __future__ import annotations

import csv

from django.http import HttpResponse
from django.utils import timezone

from registry.selectors.queries import CSV_HEADER, query_csv_rows

# Characters that make a spreadsheet read a cell as a formula (CSV injection): such a cell is written
# with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_queries_csv(stream, queries) -> None:
    """Writes CSV_HEADER and one row per query of `queries` (a visible_queries queryset; two queries)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in query_csv_rows(queries):
        writer.writerow([_cell(value) for value in row])


def queries_csv_response(queries) -> HttpResponse:
    """The CSV as an attachment named with the UTC time of the download."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="queries-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    write_queries_csv(response, queries)
    return response
