"""The OpenAPI schema's error answers: every operation lists each 4xx it can give, in the one error
shape (registry/api/errors.py), so that a client generated from the schema knows them all.
"""
import re

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


# ---------------------------------------------------------------- what the server enforces, stated

# A record ID as the URLs and the audit filter take it (registry/api/urls.py RecordIdConverter).
RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
# Text the databases can store: no NUL (registry/records/instruments.py unstorable_text_reason).
STORABLE_TEXT_PATTERN = r"^[^\x00]*$"
# An ISO 8601 date-time with its time zone, as registry/api/query.py optional_datetime reads it.
AWARE_DATE_TIME = {"type": "string", "format": "date-time"}
# If-Match: `*`, or one or more strong ETags as the API sends them ("12.3"); a version the record is
# no longer at is a 412 (its state, not the request's shape).
IF_MATCH_PATTERN = r'^(\*|"[0-9]+\.[0-9]+"(, *"[0-9]+\.[0-9]+")*)$'


def _query_parameter_schemas() -> dict[str, dict]:
    """Each query parameter's limits, taken from the code that enforces them."""
    from .audit import MAX_LIMIT
    from .records import DeletionsView

    return {
        "site": {"type": "string", "minLength": 1, "maxLength": 30, "pattern": STORABLE_TEXT_PATTERN},
        "updated_since": AWARE_DATE_TIME,
        "since": AWARE_DATE_TIME,
        "until": AWARE_DATE_TIME,
        "changed_by": {"type": "string", "minLength": 1, "maxLength": 150, "pattern": STORABLE_TEXT_PATTERN},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "page_size": {"type": "integer", "minimum": 1, "maximum": DeletionsView.max_page_size},
        "record": {"type": "array", "items": {"type": "string", "pattern": RECORD_ID_PATTERN}},
        # registry/api/datasets.py `_cut`: a data cut's name, as DataCut.name holds it.
        "cut": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": STORABLE_TEXT_PATTERN},
    }


def _stricter(schema: dict, limits: dict) -> dict:
    """`schema` with `limits` added where it states none (a paginated list states its own page size)."""
    if schema.get("type") == "array" and limits.get("type") == "array":
        return {**schema, "items": {**limits["items"], **schema.get("items", {})}}
    return {**limits, **schema, **({"format": limits["format"]} if "format" in limits else {})}


def _flat_request_body(body: dict) -> dict:
    """REDCap flat records: a CSV file whose header names only the project's flat columns (record_id
    first), or a JSON list of rows holding only those columns, each row with its record ID."""
    from registry.records.instruments import all_flat_columns

    columns = list(all_flat_columns())  # a checkbox's missing-data code columns (`alk_method___unk`) too
    others = "|".join(re.escape(column) for column in columns if column != "record_id")
    content = body["content"]
    content["text/csv"]["schema"] = {
        "type": "string", "pattern": rf"^record_id(,({others}))*(\r?\n|$)",
        "description": "CSV: a header line (record_id, then other flat columns), then one line per row.",
    }
    row = content["application/json"]["schema"]["items"]
    content["application/json"]["schema"] = {**content["application/json"]["schema"], "minItems": 1, "items": {
        **row, "additionalProperties": False, "required": ["record_id"],
        "properties": {
            column: {"type": "string", "pattern": RECORD_ID_PATTERN if column == "record_id" else STORABLE_TEXT_PATTERN}
            for column in columns
        },
    }}
    return {**body, "required": True}


def stated_limits(result, generator, request, public):
    """drf-spectacular postprocessing hook: the schema states what the server refuses, so that a client
    (and schemathesis' positive-data check) knows it before sending.

    - query parameters: lengths, ranges, date-times with a time zone, record ID patterns;
    - If-Match: the shape of a version;
    - request bodies: an unknown field is refused (`additionalProperties: false`), a text holds no NUL;
    - answers: a single write's "warnings" is there only when there are any (not required).
    """
    parameter_schemas = _query_parameter_schemas()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in parameter_schemas:
                    parameter["schema"] = _stricter(parameter.get("schema", {}), parameter_schemas[parameter["name"]])
                elif parameter["in"] == "header" and parameter["name"] == "If-Match":
                    parameter["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
        if "post" in path_item and path_item["post"].get("operationId") == "records_upsert_flat":
            path_item["post"]["requestBody"] = _flat_request_body(path_item["post"]["requestBody"])
    for name, component in result.get("components", {}).get("schemas", {}).items():
        # A write's answer has "warnings" only when there are some (and a read never): drf-spectacular
        # lists every read-only field as required in an answer, so this one is taken out again.
        warnings = component.get("properties", {}).get("warnings", {})
        if "warnings" in component.get("required", []) and warnings.get("readOnly"):
            component["required"] = [field for field in component["required"] if field != "warnings"]
            if not component["required"]:  # OpenAPI 3.0 wants a non-empty list, or none
                del component["required"]
        # COMPONENT_SPLIT_REQUEST: request bodies are the `...Request` components.
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            for field in component.get("properties", {}).values():
                if field.get("type") == "string" and not {"format", "enum", "pattern"} & field.keys():
                    field["pattern"] = STORABLE_TEXT_PATTERN
    return result
