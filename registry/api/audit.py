"""GET /api/v1/audit/: the audit trail (registry/selectors/audit_trail.py), for administrators.

Every change made through the API is there with its user, time and door "api: token <prefix>"
(the token's first eight characters, never the token itself).
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from registry.selectors.audit_trail import audit_trail

from . import query
from .base import ApiView
from .errors import RecordsInvalid, field_error
from .permissions import IsAdministrator
from .record_format import text_problem
from .serializers import AuditSerializer

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000


class AuditView(ApiView):
    permission_classes = [IsAdministrator]

    @extend_schema(
        tags=["audit"], operation_id="audit_list",
        parameters=[
            OpenApiParameter("record", str, many=True, description="Record ID(s), also of records deleted since."),
            OpenApiParameter("since", str, description="ISO 8601 date-time with time zone: changes from it on."),
            OpenApiParameter("until", str, description="ISO 8601 date-time with time zone: changes before it."),
            OpenApiParameter("changed_by", str, description="Only changes by this username."),
            OpenApiParameter("limit", int, description=f"At most this many entries, newest first (default "
                                                       f"{DEFAULT_LIMIT}, at most {MAX_LIMIT})."),
        ],
        responses=AuditSerializer,
        description="Recorded changes, newest first, with who made them, when, through which door and each field's "
                    "old and new value; and confirmations of values a soft check asked about (action `confirmed`, "
                    "the check's message in `note`). Administrators only.",
    )
    def get(self, request):
        records = request.query_params.getlist("record") or None
        for record in records or ():
            if text_problem(record) or not record or len(record) > 100:
                raise RecordsInvalid([field_error("record", record, "is not a record ID")])
        limit = query.whole_number(request, "limit", default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        entries = audit_trail(
            record_ids=records, user=request.user, since=query.optional_datetime(request, "since"),
            until=query.optional_datetime(request, "until"),
            changed_by=query.optional_text(request, "changed_by", max_length=150),
        )
        return Response({
            "results": [
                {"when": entry.when.isoformat(), "user": entry.user, "door": entry.door, "record_id": entry.record_id,
                 "instrument": entry.instrument, "instance": entry.instance, "action": entry.action,
                 "changes": [{"field": change.field, "label": change.label, "old": change.old, "new": change.new}
                             for change in entry.changes],
                 "note": entry.note}
                for entry in entries[:limit]
            ],
            "truncated": len(entries) > limit,
        })
