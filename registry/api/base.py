"""What every REST API view shares: token authentication, the access rule, rate limits, the size-limited
JSON body, the one error shape, and the record versions (ETag / If-Match)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.models import ExportDoor, Patient
from registry.records.import_result import ImportProblem
from registry.selectors.api_records import api_patient
from registry.services.identified_exports import identified_export_log
from registry.services.patient_versions import record_version
from registry.services.record_writes import UpsertResult

from .authentication import ApiTokenAuthentication, door_of
from .errors import RecordsInvalid, VersionConflict, VersionRequired, exception_handler, problem_json
from .parsers import LimitedJSONParser
from .permissions import ReadsOrWrites
from .schema import RegistryAutoSchema
from .throttling import TokenRateThrottle

IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=True,
    description="The record's version as its ETag gave it (e.g. \"12.3\"), or * for any: a change made since "
                "by anyone answers 412 and writes nothing.",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description="Optional: the record's version (its ETag); if the record changed since, 412 and nothing is written.",
)
ANY_VERSION = "*"


class ApiView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [ReadsOrWrites]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    schema = RegistryAutoSchema()

    def get_exception_handler(self):
        return exception_handler

    @property
    def door(self) -> str:
        return door_of(self.request)

    def log_identified_page(self, content: str, page: list[Patient]) -> None:
        """Logs a page of a list read (patients/, records/) as an identified export: a bulk read of
        identified records (registry/services/identified_exports.py says why single records are not).
        One INSERT; an empty page exports nothing and is not logged."""
        if not page:
            return
        identified_export_log(
            user=self.request.user, door=ExportDoor.API_RECORD_LIST, content=content, file_format="json",
            site_codes={patient.site.code for patient in page}, record_count=len(page),
            parameters={"query": self.request.query_params.urlencode(), "via": self.door},
        )

    def visible_patient(self, record_id: str) -> Patient:
        """The record, if the user sees its site; 404 otherwise (as if it did not exist)."""
        from rest_framework.exceptions import NotFound

        patient = api_patient(self.request.user, record_id)
        if patient is None:
            raise NotFound(f"No record {record_id} at a site you see.")
        return patient

    def unless_unchanged(self, patient: Patient, body) -> Response:
        """The answer to a read of `patient`'s record (or part of it): 304 Not Modified with its ETag when
        If-None-Match names the current version (RFC 9110 §13.1.2: a weak comparison, `*` matches any),
        else 200 with `body()`. A view doing this sets `conditional_get = True` (the schema then lists
        the header and the 304)."""
        tag = etag(patient)
        raw = self.request.headers.get("If-None-Match", "").strip()
        if raw:
            held = {candidate.strip().removeprefix("W/") for candidate in raw.split(",")}
            if ANY_VERSION in held or tag in held:
                response = Response(status=304)
                response["ETag"] = tag
                return response
        response = body() if callable(body) else body
        if not isinstance(response, Response):
            response = Response(response)
        response["ETag"] = tag
        return response

    def expected_version(self, *, required: bool) -> frozenset[str] | None:
        """The versions If-Match accepts (RFC 9110 §13.1.1): None for `*` (any), or when not required and
        absent. Weak ETags never match (a strong comparison), so a list of only weak ones is a 412."""
        raw = self.request.headers.get("If-Match", "").strip()
        if not raw:
            if required:
                raise VersionRequired()
            return None
        if raw == ANY_VERSION:
            return None
        return frozenset(
            tag.strip().strip('"') for tag in raw.split(",") if tag.strip() and not tag.strip().startswith("W/")
        )


def etag(patient: Patient) -> str:
    return f'"{record_version(patient.id, getattr(patient, "version_number", None))}"'


def with_etag(response: Response, version: str) -> Response:
    response["ETag"] = f'"{version}"'
    return response


def warnings_json(outcome: UpsertResult | None) -> list[dict]:
    """The soft checks of what a write stored (accepted values worth a look), as every answer gives
    them: [{record, form, instance, field, value, check, message}] (registry/records/soft_checks.py)."""
    if outcome is None or outcome.result is None:
        return []
    return [warning.as_json() for warning in outcome.result.warnings]


def with_warnings(response: Response, outcome: UpsertResult | None) -> Response:
    """A single write's answer (the resource as a read gives it) with "warnings" added when there are
    any, so that an answer without them stays the representation a GET answers."""
    warnings = warnings_json(outcome)
    if warnings:
        response.data = {**response.data, "warnings": warnings}
    return response


def refused(outcome: UpsertResult) -> None:
    """Raises the 400 of an upsert that found problems (nothing was written)."""
    if not outcome.ok:
        raise RecordsInvalid([problem_json(problem) for problem in outcome.problems])


def conflict(problems: list[ImportProblem]) -> VersionConflict:
    first = problems[0]
    detail = (f"Record {first.record} {first.reason}." if len(problems) == 1
              else f"{len(problems)} records changed since the versions given; nothing was written.")
    return VersionConflict(detail, [problem_json(problem) for problem in problems])
