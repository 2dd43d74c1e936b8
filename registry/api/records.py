"""Many records at once: /api/v1/records/ (nested JSON), /api/v1/records/flat/ (REDCap flat CSV or JSON),
/api/v1/deletions/ (what to remove from a mirror).

    GET   records/?updated_since=...&site=...     whole records, nested, a page at a time (incremental sync)
    POST  records/                                bulk upsert of nested records       (JSON list)
    POST  records/flat/                           bulk upsert of REDCap flat records  (text/csv or JSON)
    GET   deletions/?since=...                    records and instances deleted since

A bulk upsert is all or nothing: every problem of every record is answered at once (400) and
nothing is written; a record whose `version` is stale refuses the whole request (412). Upserting
is by record, instrument and instance, so sending the same request again changes nothing (the
answer counts everything as unchanged and the versions stay). Query parameters: `dry_run=true`
checks without writing; `overwrite_behavior=overwrite` lets a null (blank) value erase a stored one
(`normal`, the default, keeps stored values where the request has none, as REDCap does); `site`: the
site of new records that name none (default: your only changeable site).

The body is copied to a temporary file and read as a stream, never held whole (the limit is
REGISTRY_API_BULK_MAX_BYTES, 413 above it).
"""
from __future__ import annotations

import json
import tempfile

import ijson
from django.conf import settings
from django.db import IntegrityError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from registry.records.flat_source import FlatSource, UnreadableFile
from registry.records.instruments import RECORD_ID
from registry.selectors.access import changeable_sites
from registry.selectors.api_records import api_patients, deletions_since, record_instances
from registry.services.patient_versions import VersionConflict
from registry.services.record_writes import CreatedMeanwhile, records_upsert

from . import query
from .base import ApiView, conflict, refused, warnings_json
from .errors import Conflict, RecordsInvalid, field_error, problem_json
from .pagination import KeysetPagination, aware_datetime, cursor_of, cursor_text, next_link, page_size_of
from .parsers import SpooledCSVParser, SpooledJSONParser
from .patients import PATIENT_ORDERINGS
from .record_format import PATIENT_FORM, REPEATING_FORMS, Problems, nested_record, text_problem
from .serializers import BulkRecordSerializer, BulkResultSerializer, DeletionsSerializer, RecordSerializer
from .throttling import BulkRateThrottle, TokenRateThrottle

TAG_RECORDS = "records (bulk and sync)"
DRY_RUN = OpenApiParameter("dry_run", bool, description="Check only: answer as the upsert would, write nothing.")
OVERWRITE = OpenApiParameter(
    "overwrite_behavior", str, enum=["normal", "overwrite"],
    description="normal (default): a null or blank value leaves the stored value; overwrite: it erases it.",
)
NEW_RECORDS_SITE = OpenApiParameter(
    "site", str, description="The site of new records that name none (default: your only changeable site).",
)
BULK_ERRORS = {"POST": {"412": "A record's `version` is stale: nothing was written.",
                        "409": "A concurrent change to the same records: nothing was written; send it again."}}


def _options(request) -> dict:
    return {
        "dry_run": query.optional_bool(request, "dry_run"),
        "overwrite_behavior": query.optional_choice(request, "overwrite_behavior", ("normal", "overwrite")) or "normal",
    }


def _spooled(request):
    data = request.data
    if not hasattr(data, "read"):
        raise ParseError("The request body is empty: send the records.")
    return data


def _answer(outcome, dry_run: bool) -> Response:
    refused(outcome)
    result = outcome.result
    return Response({
        "dry_run": dry_run,
        "created": {form: count for form, count in result.created.items() if count},
        "updated": {form: count for form, count in result.updated.items() if count},
        "unchanged": {form: count for form, count in result.unchanged.items() if count},
        "versions": outcome.versions,
        "warnings": warnings_json(outcome),
    })


def _upsert(request, **arguments) -> Response:
    try:
        outcome = records_upsert(user=request.user, **arguments)
    except VersionConflict as error:
        raise conflict(error.problems) from None
    except (CreatedMeanwhile, IntegrityError):  # a record created by a concurrent request after the checks
        raise Conflict("Another request created some of these records at the same time; nothing was written. "
                       "Send the request again.") from None
    return _answer(outcome, arguments["dry_run"])


class BulkView(ApiView):
    throttle_classes = [TokenRateThrottle, BulkRateThrottle]
    error_codes = BULK_ERRORS


class RecordsView(BulkView):
    pagination_class = KeysetPagination
    orderings = PATIENT_ORDERINGS

    def get_parsers(self):
        return [SpooledJSONParser()]

    @extend_schema(
        tags=[TAG_RECORDS], operation_id="records_list", parameters=[query.SITE, query.UPDATED_SINCE, query.COHORT],
        responses=RecordSerializer(many=True),
        description="Whole records, nested, a page of patients at a time: for a site mirroring its records. "
                    "Queries: the token, your role and sites, the page, one per repeating instrument, and the "
                    "identified-export log's row of the page.",
    )
    def get(self, request):
        patients = api_patients(
            request.user, site_code=query.optional_text(request, "site", max_length=30),
            updated_since=query.optional_datetime(request, "updated_since"),
            cohort=query.optional_int(request, "cohort", (1, 2)),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(patients, request, view=self)
        self.log_identified_page("records", page)
        instances = record_instances([patient.id for patient in page], REPEATING_FORMS)
        return paginator.get_paginated_response(
            RecordSerializer(page, many=True, context={"instances": instances}).data
        )

    @extend_schema(
        tags=[TAG_RECORDS], operation_id="records_upsert", parameters=[DRY_RUN, OVERWRITE, NEW_RECORDS_SITE],
        request=BulkRecordSerializer(many=True), responses=BulkResultSerializer,
        description="Bulk upsert of nested records (a JSON list, each as GET /records/ gives it): all or nothing.",
    )
    def post(self, request):
        options = _options(request)
        default_site_code = query.optional_text(request, "site", max_length=30)
        body = _spooled(request)
        problems = Problems()
        with tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE) as flat:
            records = _nested_to_flat(body, flat, problems)
            sites_by_record, default_site = _sites(request.user, records, default_site_code, problems)
            return _upsert(
                request, source=flat, file_format="json", record_ids=list(records), door=self.door,
                site=default_site, sites_by_record=sites_by_record, problems_before=problems.items,
                expected_versions={record: item.version for record, item in records.items() if item.version},
                **options,
            )


def _nested_to_flat(body, flat, problems: Problems) -> dict:
    """Streams the nested list into a flat REDCap JSON file, one record at a time; {record ID: NestedRecord}
    (rows left out: only the keys are kept)."""
    start = body.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    body.seek(0)
    if not start.startswith(b"["):
        raise ParseError("The request body must be a JSON list of records ([{...}, {...}]).")
    records = {}
    written = 0
    flat.write(b"[")
    try:
        for position, item in enumerate(ijson.items(body, "item", use_float=False), start=1):
            record = nested_record(item, position, problems)
            if record is None:
                continue
            if record.rows:  # the record's rows in one go: "[row, row]" without its brackets
                flat.write(b",\n" if written else b"\n")
                flat.write(json.dumps(record.rows, ensure_ascii=False)[1:-1].encode("utf-8"))
                written += len(record.rows)
            record.rows = []
            if record.record_id in records:
                problems.add(record.record_id, PATIENT_FORM, None, RECORD_ID, record.record_id,
                             "appears more than once in the request")
            records[record.record_id] = record
    except ijson.JSONError as error:
        raise ParseError(f"The request body is not valid JSON ({error}).") from None
    except UnicodeDecodeError:
        raise ParseError("The request body is not UTF-8 text.") from None
    flat.write(b"\n]")
    flat.seek(0)
    return records


def _sites(user, records: dict, default_code: str | None, problems: Problems):
    """{record ID: Site} for the records that name a site; the site of the others."""
    changeable = {site.code: site for site in changeable_sites(user)}
    sites_by_record = {}
    for record_id, record in records.items():
        if record.site_code is None:
            continue
        site = changeable.get(record.site_code)
        if site is None:
            problems.add(record_id, PATIENT_FORM, None, "site", record.site_code,
                         "is not a site whose records you may change")
        else:
            sites_by_record[record_id] = site
    default_site = None
    if default_code is not None:
        default_site = changeable.get(default_code)
        if default_site is None:
            raise RecordsInvalid([field_error("site", default_code, "is not a site whose records you may change")])
    elif len(changeable) == 1:
        default_site = next(iter(changeable.values()))
    return sites_by_record, default_site


FLAT_FORMATS = {"text/csv": "csv", "application/json": "json"}


class FlatRecordsView(BulkView):
    parser_classes = [SpooledCSVParser, SpooledJSONParser]

    @extend_schema(
        tags=[TAG_RECORDS], operation_id="records_upsert_flat", parameters=[DRY_RUN, OVERWRITE, NEW_RECORDS_SITE],
        request={
            "text/csv": OpenApiRequest(OpenApiTypes.STR),
            "application/json": OpenApiRequest({"type": "array", "items": {
                "type": "object", "additionalProperties": True,
                "description": "One flat row: record_id, redcap_repeat_instrument, redcap_repeat_instance and "
                               "fields, as REDCap exports them."}}),
        },
        responses=BulkResultSerializer,
        description="Bulk upsert of REDCap flat records, exactly as REDCap's import takes them (CSV with a header, "
                    "or a JSON list of objects): all or nothing.",
    )
    def post(self, request):
        options = _options(request)
        default_code = query.optional_text(request, "site", max_length=30)
        body = _spooled(request)
        file_format = FLAT_FORMATS[request.content_type.split(";")[0].strip().lower()]
        problems = Problems()
        record_ids = _flat_record_ids(body, file_format, problems)
        if problems:  # cells no database stores: the import would write them before checking the rest
            raise RecordsInvalid([problem_json(problem) for problem in problems.items])
        _, default_site = _sites(request.user, {}, default_code, problems)
        return _upsert(request, source=body, file_format=file_format, record_ids=record_ids, door=self.door,
                       site=default_site, **options)


def _flat_record_ids(body, file_format: str, problems: Problems) -> list[str]:
    """The record IDs a flat file names (to lock them first), and the cells no database can store
    (NUL characters, lone surrogates): one pass over the file, a row at a time."""
    record_ids: dict[str, None] = {}
    try:
        for row in FlatSource(body, file_format).rows(None):
            cells = row.cells
            record = cells.get(RECORD_ID, "")
            for name, text in cells.items():
                reason = text_problem(text)
                if reason is not None:
                    problems.add(record if not text_problem(record) else "", cells.get("redcap_repeat_instrument", ""),
                                 cells.get("redcap_repeat_instance") or None, name, text, reason)
            if record and not text_problem(record):
                record_ids[record] = None
    except UnreadableFile:
        pass  # the import reports it, as it reports it for every door
    body.seek(0)
    return list(record_ids)


class DeletionsView(ApiView):
    """Deletions come oldest first, a page at a time: `next` carries a cursor of the last one given
    (its time, record, instrument and instance), and the next page reads the audit trail only from
    that time on, so a long window costs each page what is left of it."""

    page_size = 1000
    max_page_size = 10000

    @extend_schema(
        tags=[TAG_RECORDS], operation_id="deletions_list",
        parameters=[
            OpenApiParameter("since", str, required=True, description=(
                "ISO 8601 date-time with its time zone: what was deleted at or after it.")),
            query.SITE,
            OpenApiParameter("cursor", str, description="The page after the one that gave this cursor: follow "
                                                        "`next` as it is."),
            OpenApiParameter("page_size", int, description=f"1 to {max_page_size} (default {page_size})."),
        ],
        responses=DeletionsSerializer,
        description="What a site mirroring its records must remove since a time: whole records deleted (or moved to "
                    "a site you do not see) and instrument instances deleted, from the audit trail; oldest first, "
                    "a page at a time (follow `next` until it is null).",
    )
    def get(self, request):
        since = query.optional_datetime(request, "since")
        if since is None:
            raise RecordsInvalid([field_error("since", "", "is required: the start of the window")])
        size = page_size_of(request, self.page_size, self.max_page_size)
        deletions = deletions_since(request.user, since, after=cursor_of(request, _deletion_after),
                                    site_code=query.optional_text(request, "site", max_length=30))
        page = deletions[:size]
        more = len(deletions) > size
        return Response({
            "next": next_link(request, cursor_text(page[-1].order_key)) if more else None,
            "results": [
                {"record_id": deletion.record_id, "instrument": deletion.instrument, "instance": deletion.instance,
                 "deleted_at": deletion.deleted_at.isoformat()}
                for deletion in page
            ],
        })


def _deletion_after(values: list) -> tuple:
    """A deletion cursor's values back as a Deletion.order_key."""
    when, record_id, instrument, instance = values
    if not isinstance(record_id, str) or not isinstance(instrument, str) or (
            not isinstance(instance, int) or isinstance(instance, bool)):
        raise ValueError
    return aware_datetime(when), record_id, instrument, instance
