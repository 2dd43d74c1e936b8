"""POST /redcap/api/: the REDCap API protocol, one endpoint for every content.

Order of checks, as REDCap's: the token (401 when missing, malformed, unknown or revoked), the
rate limit shared with the REST API (429, registry/api/redcap/throttling.py), the role (403 when its
user has none), then the content and its parameters (400), then the user's
right to do it (403). The view is for programs authenticated by their token, not for browsers
with a session: no CSRF check (csrf_exempt).
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from registry.services.api_tokens import api_token_authenticate

from . import contents
from .contents import Caller
from .parameters import (
    BAD_REQUEST, FORBIDDEN, METHOD_NOT_ALLOWED, NOT_IMPLEMENTED, UNAUTHORIZED, ApiError, Parameters, read_parameters,
)
from .responses import error_response
from .throttling import throttle_refusal

CONTENTS = {
    "version": contents.version,
    "project": contents.project_information,
    "metadata": contents.metadata,
    "instrument": contents.instruments,
    "repeatingFormsEvents": contents.repeating_instruments,
    "exportFieldNames": contents.export_field_names,
    "generateNextRecordName": contents.next_name,
    "dag": contents.data_access_groups,
    "user": contents.users,
    "log": contents.log,
    "record": contents.record,
    "report": contents.report,
    # A classic project has none of these (REDCap's own error; PyCap detects classic projects by it).
    "event": contents.classic_project_error("events"),
    "arm": contents.classic_project_error("arms"),
    "formEventMapping": contents.classic_project_error("form/event mappings"),
}
# REDCap API methods this registry does not offer (no files, surveys or user roles here).
NOT_OFFERED = frozenset({
    "file", "fileRepository", "pdf", "surveyLink", "surveyQueueLink", "surveyReturnCode",
    "participantList", "surveyAccessCode", "userRole", "userRoleMapping", "userDagMapping", "attachment",
    "appRightsCheck", "fieldValidation", "mycap", "tableau", "project_xml", "renameRecord",
})
TOKEN_REFUSED = "API token was missing or incorrect"  # REDCap's meaning of 401


@csrf_exempt
def redcap_api(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(ApiError(METHOD_NOT_ALLOWED, "The REDCap API takes POST requests only"), "xml")
    try:
        parameters = read_parameters(request)
    except ApiError as error:
        return error_response(error, "xml")
    try:
        return _answer(parameters)
    except ApiError as error:
        return error_response(error, parameters.error_format())
    finally:
        parameters.close()


def _answer(parameters: Parameters) -> HttpResponse:
    token = api_token_authenticate(parameters.get("token"))
    if token is None:
        raise ApiError(UNAUTHORIZED, TOKEN_REFUSED)
    if (refusal := throttle_refusal(parameters, token)) is not None:  # the REST API's counters too
        return refusal
    caller = Caller(user=token.user, token_prefix=token.prefix)
    if caller.access.role is None:
        raise ApiError(FORBIDDEN, "You do not have permissions to use the API")
    content = parameters.get("content")
    if content in CONTENTS:
        return CONTENTS[content](parameters, caller)
    if content in NOT_OFFERED:
        raise ApiError(NOT_IMPLEMENTED, f"The registry does not offer content={content} of the REDCap API")
    if not content:
        raise ApiError(BAD_REQUEST, "The parameter \"content\" is missing")
    raise ApiError(BAD_REQUEST, f"The value of the parameter \"content\" is not valid: '{content}'")
