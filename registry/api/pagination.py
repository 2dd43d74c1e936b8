"""Cursor (keyset) pagination: stable while records change, one query per page, no counting.

A page is `{"next": URL or null, "results": [...]}`; `next` carries an opaque `cursor`. Rows are
ordered by the chosen field and then by id, and the cursor holds the last row's two values, so
pages neither skip nor repeat rows when others are written meanwhile (a row changed after it was
read moves to a later page of an `updated_at` ordering and is read again, which is what a
mirroring site wants).
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from registry.records.json_depth import check_json_depth

from .errors import RecordsInvalid, field_error
from .query import whole_number

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class KeysetPagination(BasePagination):
    """`view.orderings` maps each accepted `ordering` value to (model field or annotation, kind);
    the first is the default. kind is "text", "int" or "datetime" (how a cursor value is read back)."""

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        orderings = view.orderings
        choice = request.query_params.get("ordering") or next(iter(orderings))
        if choice not in orderings:
            raise RecordsInvalid([field_error("ordering", choice, f"must be one of {', '.join(orderings)}")])
        descending = choice.startswith("-")
        field, kind = orderings[choice]
        size = self._page_size(request)
        after = self._cursor(request, kind)
        prefix = "-" if descending else ""
        queryset = queryset.order_by(f"{prefix}{field}", f"{prefix}id")
        if after is not None:
            value, last_id = after
            beyond = "lt" if descending else "gt"
            queryset = queryset.filter(
                Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"id__{beyond}": last_id})
            )
        rows = list(queryset[:size + 1])
        self.request = request
        self.next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            self.next_cursor = cursor_text([getattr(last, field), last.id])
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self._next_link(), "results": data})

    def _next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return next_link(self.request, self.next_cursor)

    def _page_size(self, request) -> int:
        return page_size_of(request, self.page_size, self.max_page_size)

    def _cursor(self, request, kind: str):
        def read(values: list):
            value, last_id = values
            if not isinstance(last_id, int) or not isinstance(value, (str, int)) or isinstance(value, bool):
                raise ValueError
            if kind == "datetime":
                value = aware_datetime(value)
            elif kind == "int" and not isinstance(value, int):
                raise ValueError
            elif kind == "text" and not isinstance(value, str):
                raise ValueError
            return value, last_id

        return cursor_of(request, read)

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "The page after the one that gave this cursor: follow `next` as it is."},
            {"name": "page_size", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size}},
            {"name": "ordering", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(view.orderings), "default": next(iter(view.orderings))}},
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True,
                         "description": "The next page, or null on the last."},
                "results": schema,
            },
        }


def page_size_of(request, default: int, maximum: int) -> int:
    """The `page_size` query parameter: `default` when absent, else 1 to `maximum` (400 otherwise)."""
    return whole_number(request, "page_size", default=default, maximum=maximum)


def cursor_text(values) -> str:
    """The opaque `cursor` of a page's last row: its ordering values (datetimes as ISO text)."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_of(request, read):
    """The request's `cursor`, decoded and checked by `read(values)` (which raises ValueError or
    TypeError on anything this API would not have sent); None when absent; a 400 when malformed."""
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw.encode("ascii") + b"===")
        check_json_depth(decoded)  # JSONTooDeep is a ValueError: deep nesting is no cursor either
        return read(json.loads(decoded))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise RecordsInvalid([field_error("cursor", raw, "is not a cursor this API sent (take `next` as it is)")]) \
            from None


def aware_datetime(text) -> datetime:
    """A cursor's date-time: ISO text with its time zone (ValueError or TypeError otherwise)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError
    return value


def next_link(request, cursor: str) -> str:
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)
