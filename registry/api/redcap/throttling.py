"""The REDCap API's rate limits: the REST API's counters (registry/api/throttling.py), so a token
throttled on one API is throttled on the other.

Which requests count against the bulk rate as well, as the REST API's bulk upsert does: those whose
cost grows with the registry rather than with the request, that is
- record imports (`data` given, or action=import): the REDCap twin of the REST bulk upsert;
- record deletions (action=delete): any number of whole records in one request;
- record exports that name no `records`: every record the user may see, filtered or not (a
  filterLogic or a date range still reads every record to decide).
A record export naming its records, and every other content (metadata, project, version...), is an
ordinary request.

A throttled request is answered as REDCap answers one: HTTP 429 with the error in the requested
format, and Retry-After in seconds.
"""
from __future__ import annotations

from django.http import HttpResponse

from registry.api.throttling import token_throttle_wait

from .parameters import ApiError, Parameters
from .responses import error_response

TOO_MANY_REQUESTS = 429


def is_bulk(parameters: Parameters) -> bool:
    if parameters.get("content") != "record":
        return False
    if parameters.data is not None or parameters.get("action") in ("import", "delete"):
        return True
    return not parameters.array("records")


def throttle_refusal(parameters: Parameters, token) -> HttpResponse | None:
    """None when `token` may make this request (it is then counted); otherwise the 429 answer."""
    wait = token_throttle_wait(token, bulk=is_bulk(parameters))
    if wait is None:
        return None
    refusal = error_response(
        ApiError(TOO_MANY_REQUESTS, f"Too many API requests with this user's tokens: try again in {wait} seconds"),
        parameters.error_format(),
    )
    refusal["Retry-After"] = str(wait)
    return refusal
