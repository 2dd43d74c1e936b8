"""Query parameters of the REST API, read strictly: a malformed one is a 400 naming it, never ignored."""
from __future__ import annotations

from datetime import datetime, timezone

from drf_spectacular.utils import OpenApiParameter

from .errors import RecordsInvalid, field_error
from .record_format import text_problem

UPDATED_SINCE = OpenApiParameter(
    "updated_since", str, description=(
        "Only what a door (admin, import, API) wrote at or after this time: an ISO 8601 date-time with its "
        "time zone, e.g. 2024-05-01T00:00:00Z. For incremental sync: start the next sync from the time you "
        "started this one, less a minute (a write is stamped before it commits), and fetch /api/v1/deletions/ "
        "for the same window."
    ),
)
SITE = OpenApiParameter(
    "site", str, description="Only this site's records (its code); a site you do not see gives none.",
)
COHORT = OpenApiParameter("cohort", int, enum=[1, 2], description="Only patients derived into this cohort (rules §6).")


def optional_text(request, name: str, *, max_length: int = 100) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    reason = text_problem(raw)
    if reason is None and (not raw or len(raw) > max_length):
        reason = f"must be 1 to {max_length} characters"
    if reason is not None:
        raise RecordsInvalid([field_error(name, raw, reason)])
    return raw


def optional_datetime(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise RecordsInvalid([field_error(
            name, raw, "is not an ISO 8601 date-time with a time zone, e.g. 2024-05-01T00:00:00Z")]) from None
    if value.tzinfo is None:
        raise RecordsInvalid([field_error(name, raw, "needs its time zone, e.g. 2024-05-01T00:00:00Z or +02:00")])
    return value


def optional_choice(request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise RecordsInvalid([field_error(name, raw, f"must be one of {', '.join(choices)}")])
    return raw


def optional_int(request, name: str, choices: tuple[int, ...]) -> int | None:
    raw = optional_choice(request, name, tuple(str(choice) for choice in choices))
    return None if raw is None else int(raw)


def whole_number(request, name: str, *, default: int, maximum: int) -> int:
    """A count such as `limit` or `page_size`: `default` when absent, else a whole number from 1 to
    `maximum` (a 400 naming it otherwise)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise RecordsInvalid([field_error(name, raw, f"must be a whole number from 1 to {maximum}")])
    return int(raw)


def optional_bool(request, name: str, default: bool = False) -> bool:
    raw = optional_choice(request, name, ("true", "false", "1", "0"))
    return default if raw is None else raw in ("true", "1")
