"""The REST API's one error shape, for every 4xx answer:

    {"detail": "what went wrong, in one sentence",
     "errors": [{"record", "instrument", "instance", "field", "value", "reason"}, ...]}

`errors` is there when single values were refused (a validation of records: every problem at once,
as the REDCap import reports them; or a query parameter); otherwise only `detail`. Nothing is
written when an error is answered.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, IntegrityError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.records.import_result import ImportProblem

logger = logging.getLogger(__name__)


def printable(text: str) -> str:
    """Text that can be sent as UTF-8 JSON: a lone surrogate (which a request may carry) is written
    as its escape instead."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# The import speaks of files; the API's callers sent a request.
_REASONS = {
    "is required, and the file has no such column": "is required, and the request does not give it",
}


def problem_json(problem: ImportProblem) -> dict:
    """One refused value as the API reports it (the file line of the flat import is left out: the
    API's callers did not send a file)."""
    return {
        "record": printable(problem.record),
        "instrument": printable(problem.instrument),
        "instance": printable(problem.instance) if problem.instance else None,
        "field": printable(problem.field),
        "value": printable(problem.value),
        "reason": printable(_REASONS.get(problem.reason, problem.reason)),
    }


def field_error(field: str, value: str, reason: str) -> dict:
    """An error about one query parameter or header, in the same shape."""
    return {"record": "", "instrument": "", "instance": None, "field": field, "value": printable(value),
            "reason": printable(reason)}


class RecordsInvalid(exceptions.APIException):
    """Records (or query parameters) with refused values: 400 and every problem."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Some values were refused; nothing was written."
    default_code = "invalid"

    def __init__(self, errors: Iterable[dict], detail: str | None = None):
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(detail or f"{count} value{'s were' if count != 1 else ' was'} refused; nothing was written.")


class VersionConflict(exceptions.APIException):
    """412: the record changed since the version the client named."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "version_conflict"

    def __init__(self, detail: str, errors: Iterable[dict] = ()):
        self.errors = list(errors)
        super().__init__(detail)


class VersionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This change needs an If-Match header with the record's version (its ETag, from a GET), so that a "
        "change made meanwhile by someone else is never overwritten."
    )
    default_code = "version_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit_bytes: int):
        super().__init__(
            f"The request body is larger than the {limit_bytes:,} bytes this endpoint accepts; nothing was written."
        )


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


# PostgreSQL's SQLSTATEs for a transaction aborted by a concurrent one: serialization failure and
# deadlock. Retrying the request is the remedy.
_CONCURRENCY_SQLSTATES = {"40001", "40P01"}


def _is_concurrency_failure(error: DatabaseError) -> bool:
    cause = error.__cause__
    return isinstance(error, OperationalError) and getattr(cause, "sqlstate", None) in _CONCURRENCY_SQLSTATES


def exception_handler(exc, context):
    """DRF's handler, then reshaped into {"detail", "errors"?}; a write that lost a deadlock to a
    concurrent writer is a 409 (retry), never a 500."""
    if isinstance(exc, IntegrityError) or (isinstance(exc, DatabaseError) and _is_concurrency_failure(exc)):
        # Logged in full: a constraint the checks missed would otherwise hide behind the retry advice.
        logger.warning("API write refused as a concurrent change: %s", exc, exc_info=exc)
        exc = Conflict("Another change to these records was being saved at the same time; nothing was written. "
                       "Send the request again.")
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(exc, response.data)
    return response


def error_body(exc, data) -> dict:
    errors = getattr(exc, "errors", None)
    if isinstance(exc, exceptions.ValidationError):
        # A DRF serializer's {"field": ["message"]} (query parameters): the same shape as record errors.
        errors = [field_error(printable(field), "", str(message)) for field, message in _flatten(exc.detail)]
        return {"detail": f"{len(errors)} value{'s were' if len(errors) != 1 else ' was'} refused.", "errors": errors}
    detail = data.get("detail", "") if isinstance(data, dict) else str(data)
    body = {"detail": printable(str(detail))}
    if errors is not None:
        body["errors"] = errors
    return body


def _flatten(detail, prefix: str = ""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value, prefix)
    else:
        yield prefix or "non_field_errors", detail


@csrf_exempt  # a token API: no cookies, so no cross-site request to forge (and no HTML 403 instead of the 404)
def not_found(request, *args, **kwargs):
    """Any other path under /api/v1/: a JSON 404, like every other API error."""
    return JsonResponse({"detail": "Not found: no such API endpoint."}, status=404)


def error_response(exc: exceptions.APIException) -> Response:
    return Response(error_body(exc, {"detail": exc.detail}), status=exc.status_code)
