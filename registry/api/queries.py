"""/api/v1/queries/: queries (data resolution) under the same access rule as the workspace.

    GET  queries/                 the queries of the records you see; filters site, state, record
    POST queries/                 open a query (OPEN_QUERY on the record's site)
    GET  queries/{id}/            one query with its thread
    POST queries/{id}/respond/    Open → Responded (RESPOND_QUERY: the site's coordinators, administrators)
    POST queries/{id}/close/      Open or Responded → Closed (CLOSE_QUERY, or the query's opener)
    POST queries/{id}/reopen/     Closed → Open (the same)

Reads through registry/selectors/queries.py, writes through registry/services/queries.py. A query of a
record you do not see is 404; a transition your role may not make, 403; one the query's state does not
allow, 409; nothing is written on any refusal.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from registry.exports.queries_csv import queries_csv_response
from registry.models import Query, QueryState, QueryTransition
from registry.records.instruments import INSTRUMENTS
from registry.selectors import queries as selectors
from registry.selectors.api_records import api_patient
from registry.services import queries as services

from . import query as parameters
from .base import ApiView
from .errors import Conflict, RecordsInvalid, field_error
from .pagination import KeysetPagination
from .parsers import json_object
from .permissions import HasRegistryRole
from .record_format import text_problem

TAG = "queries"
MAX_INSTANCE = 2_147_483_647
# Some text: not blank, no NUL (the databases cannot store it).
TEXT_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"
OPTIONAL_TEXT_PATTERN = r"^[^\x00]*$"
STATE = OpenApiParameter("state", str, enum=list(QueryState.values), description="Only queries in this state.")
RECORD = OpenApiParameter("record", str, many=True, description="Only these records' queries (record IDs).")
FORMAT = OpenApiParameter("format", str, enum=["json", "csv"],
                          description="json (default): a page of queries; csv: every query of the filters, one file.")
QUERY_ORDERINGS = {"-opened_at": ("opened_at", "datetime"), "opened_at": ("opened_at", "datetime")}


class QueryMessageSerializer(serializers.Serializer):
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField(help_text="UTC.")
    transition = serializers.ChoiceField(choices=QueryTransition.choices)
    state_after = serializers.ChoiceField(choices=QueryState.choices)
    text = serializers.CharField(allow_blank=True)


class QuerySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    record_id = serializers.CharField(source="patient.record_id")
    site = serializers.CharField(source="patient.site.code")
    form = serializers.CharField(allow_blank=True, help_text="The instrument; \"\" for the whole record.")
    instance = serializers.IntegerField(source="instance_number", allow_null=True,
                                        help_text="The repeat instance; null on a non-repeating form or a record.")
    field = serializers.CharField(allow_blank=True, help_text="The field; \"\" for a whole instance or record.")
    state = serializers.ChoiceField(choices=QueryState.choices)
    opened_by = serializers.CharField(source="opened_by.username")
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class QueryDetailSerializer(QuerySerializer):
    messages = QueryMessageSerializer(many=True, source="messages.all")


class QueryOpenSerializer(serializers.Serializer):
    record_id = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", max_length=100)
    form = serializers.ChoiceField(choices=[""] + list(INSTRUMENTS), required=False, default="")
    instance = serializers.IntegerField(min_value=1, max_value=MAX_INSTANCE, required=False, allow_null=True,
                                        default=None)
    field = serializers.RegexField(r"^[a-z0-9_]*$", max_length=100, required=False, default="", allow_blank=True)
    text = serializers.RegexField(TEXT_PATTERN, max_length=services.TEXT_MAX_LENGTH)


class QueryTextSerializer(serializers.Serializer):
    text = serializers.RegexField(TEXT_PATTERN, max_length=services.TEXT_MAX_LENGTH)


class QueryOptionalTextSerializer(serializers.Serializer):
    text = serializers.RegexField(OPTIONAL_TEXT_PATTERN, max_length=services.TEXT_MAX_LENGTH, required=False,
                                  default="", allow_blank=True)


def _validated(serializer_class, request) -> dict:
    data = json_object(request.data)
    unknown = sorted(set(data) - set(serializer_class().fields))
    if unknown:
        raise RecordsInvalid([field_error(name, "", "is not a field of this request") for name in unknown])
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refused(error: ValidationError, query_or_record: str):
    """A service's QueryInvalid as the API answers it: an illegal transition is 409, a bad target 400."""
    problems = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    if "state" in problems:
        return Conflict(" ".join(problems["state"]) + " Nothing was written.")
    return RecordsInvalid([
        {"record": query_or_record, "instrument": "", "instance": None, "field": name, "value": "", "reason": message}
        for name, messages in problems.items() for message in messages
    ])


class QueryListView(ApiView):
    permission_classes = [HasRegistryRole]
    pagination_class = KeysetPagination
    orderings = QUERY_ORDERINGS
    error_codes = {"POST": {"404": "No such record at a site you see.",
                            "409": "A concurrent change to the same query: nothing was written; send it again."}}

    def perform_content_negotiation(self, request, force=False):
        # ?format=csv answers a file whatever the Accept header says; everything else (errors too) is JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=[TAG], operation_id="queries_list", parameters=[parameters.SITE, STATE, RECORD, FORMAT],
        responses={(200, "application/json"): QuerySerializer(many=True),
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="format=csv: every query")},
        description="The queries of the records you see, newest first. Queries: the token, your role and sites, "
                    "one page (with record, site and opener). With format=csv, every query of the filters in one "
                    "CSV file for monitoring (no pages), with its first and last message.",
    )
    def get(self, request):
        file_format = parameters.optional_choice(request, "format", ("json", "csv")) or "json"
        state = parameters.optional_choice(request, "state", tuple(QueryState.values))
        records = request.query_params.getlist("record") or None
        for record in records or ():
            if text_problem(record) or not record or len(record) > 100:
                raise RecordsInvalid([field_error("record", record, "is not a record ID")])
        queries = selectors.visible_queries(
            request.user, site=parameters.optional_text(request, "site", max_length=30), state=state, record=records)
        if file_format == "csv":
            return queries_csv_response(queries)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queries, request, view=self)
        return paginator.get_paginated_response(QuerySerializer(page, many=True).data)

    @extend_schema(
        tags=[TAG], operation_id="queries_open", request=QueryOpenSerializer, responses={201: QueryDetailSerializer},
        description="Opens a query on a record, one of its instances (form and instance; a non-repeating form "
                    "without instance) or one field of it. Data managers, investigators and administrators.",
    )
    def post(self, request):
        data = _validated(QueryOpenSerializer, request)
        patient = api_patient(request.user, data["record_id"])
        if patient is None:
            raise NotFound(f"No record {data['record_id']} at a site you see.")
        try:
            opened = services.query_open(patient=patient, user=request.user, text=data["text"], form=data["form"],
                                         instance=data["instance"], field=data["field"])
        except ValidationError as error:
            raise _refused(error, patient.record_id) from None
        answer = QueryDetailSerializer(selectors.visible_query(request.user, opened.pk)).data
        response = Response(answer, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{opened.pk}/")
        return response


def _visible(request, query_id: int) -> Query:
    found = selectors.visible_query(request.user, query_id)
    if found is None:
        raise NotFound(f"No query {query_id} on a record you see.")
    return found


class QueryDetailView(ApiView):
    permission_classes = [HasRegistryRole]

    @extend_schema(tags=[TAG], operation_id="queries_read", responses=QueryDetailSerializer,
                   description="One query with its thread: every message with its author, UTC time and transition.")
    def get(self, request, query_id: int):
        return Response(QueryDetailSerializer(_visible(request, query_id)).data)


class _TransitionView(ApiView):
    permission_classes = [HasRegistryRole]
    transition: str = ""
    request_serializer = QueryTextSerializer
    error_codes = {"POST": {"409": "The query's state does not allow this (e.g. closing a closed query), or a "
                                   "concurrent change to it: nothing was written."}}

    def post(self, request, query_id: int):
        data = _validated(self.request_serializer, request)
        found = _visible(request, query_id)
        try:
            services.SERVICES[self.transition](query=found, user=request.user, text=data["text"])
        except ValidationError as error:
            raise _refused(error, found.patient.record_id) from None
        return Response(QueryDetailSerializer(selectors.visible_query(request.user, found.pk)).data)


class QueryRespondView(_TransitionView):
    transition = QueryTransition.RESPOND

    @extend_schema(tags=[TAG], operation_id="queries_respond", request=QueryTextSerializer,
                   responses=QueryDetailSerializer,
                   description="The site's answer: Open → Responded. The site's coordinators and administrators.")
    def post(self, request, query_id: int):
        return super().post(request, query_id)


class QueryCloseView(_TransitionView):
    transition = QueryTransition.CLOSE
    request_serializer = QueryOptionalTextSerializer

    @extend_schema(tags=[TAG], operation_id="queries_close", request=QueryOptionalTextSerializer,
                   responses=QueryDetailSerializer,
                   description="Open or Responded → Closed. Data managers, administrators and the query's opener.")
    def post(self, request, query_id: int):
        return super().post(request, query_id)


class QueryReopenView(_TransitionView):
    transition = QueryTransition.REOPEN

    @extend_schema(tags=[TAG], operation_id="queries_reopen", request=QueryTextSerializer,
                   responses=QueryDetailSerializer,
                   description="Closed → Open, saying what is still wrong. Those who may close the query.")
    def post(self, request, query_id: int):
        return super().post(request, query_id)
