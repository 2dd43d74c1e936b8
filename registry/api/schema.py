"""The OpenAPI schema's error answers: every operation lists each 4xx it can give, in the one error
shape (registry/api/errors.py), so that a client generated from the schema knows them all.
"""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from .serializers import ErrorSerializer

ALWAYS = {
    "401": "No token, or an unknown or revoked one.",
    "403": "The token's user has no registry role, or a role that may not do this (the record resources: a role that "
           "reads de-identified data only).",
    "406": "The Accept header asks for a format this endpoint does not give.",
    "429": "Too many requests with this token: wait as the Retry-After header says.",
}
WITH_PARAMETERS = {"400": "A refused value: every problem is in `errors`; nothing was written."}
WITH_PATH = {"404": "No such record (or instance) at a site you see."}
WITH_BODY = {
    "413": "The request body is larger than this endpoint accepts; nothing was written.",
    "415": "A Content-Type this endpoint does not read.",
}
VERSIONED = {
    "412": "The record changed since the version in If-Match (or in a record's `version`); nothing was written.",
    "409": "A concurrent change to the same records: nothing was written; send the request again.",
}


IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, OpenApiParameter.HEADER, required=False,
    description="Optional: the ETag of the copy you hold (or * for any); if the record has not changed since, the "
                "answer is 304 with no body, so a site mirroring its records reads only what changed.",
)
NOT_MODIFIED = {
    "description": "Not Modified: the record is unchanged since the ETag in If-None-Match (no body; the ETag "
                   "header repeats the version).",
}


class RegistryAutoSchema(AutoSchema):
    """Views add to the defaults with `error_codes` (e.g. {"428": "..."}); a view with
    `conditional_get = True` gets If-None-Match and its 304 on GET."""

    def _conditional(self) -> bool:
        return self.method == "GET" and getattr(self.view, "conditional_get", False)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._conditional():
            parameters = [*parameters, IF_NONE_MATCH]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {**ALWAYS}
        if self.method in ("POST", "PUT", "PATCH") or self._get_filter_parameters() or self._has_query_parameters():
            errors.update(WITH_PARAMETERS)
        if "{" in self.path:
            errors.update(WITH_PATH)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(WITH_BODY)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors.update(VERSIONED)
        errors.update(getattr(self.view, "error_codes", {}).get(self.method, {}))
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        if self._conditional():
            responses["304"] = NOT_MODIFIED
        return responses

    def _has_query_parameters(self) -> bool:
        if self._is_list_view() and self._get_paginator() is not None:
            return True
        return any(getattr(parameter, "location", "query") == "query"
                   for parameter in self.get_override_parameters())
