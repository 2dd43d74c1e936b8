"""Patients and the instruments nested under them: /api/v1/patients/...

    GET    patients/                                  list (site, updated_since, cohort; cursor; ordering)
    POST   patients/                                  create one record (its enrollment form)
    GET    patients/{record_id}/                      the patient (ETag: the record's version)
    PUT    patients/{record_id}/                      replace its enrollment form      If-Match required
    PATCH  patients/{record_id}/                      change some enrollment fields    If-Match required
    DELETE patients/{record_id}/                      delete the whole record (administrators)  If-Match
    GET    patients/{record_id}/record/               the whole record, nested
    GET    patients/{record_id}/derived/              its derived results (read-only)
    GET|PUT|PATCH patients/{record_id}/vital_status/  the vital status form             If-Match on writes
    GET|POST patients/{record_id}/{instrument}/        a repeating instrument's instances; a new one
    GET|PUT|PATCH|DELETE patients/{record_id}/{instrument}/{instance}/                If-Match on writes

`{instrument}` is the REDCap form name: treatment_line, local_therapy, tumor_assessment, lesion,
lesion_measurement, biopsy, ngs_variant. Every write answers with the record's new ETag.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from registry.models import Patient
from registry.records.instruments import RECORD_ID, REPEAT_INSTANCE
from registry.selectors.access import changeable_sites
from registry.selectors.api_records import (
    api_patient, api_patients, derived_results, record_instances, visible_instances,
)
from registry.services.record_writes import (
    CreatedMeanwhile, InstanceNotFound, RecordExists, VersionConflict, flat_json, record_delete,
    record_instance_create, record_instance_delete, record_instance_update, record_update, records_upsert,
)

from . import query, record_format
from .base import IF_MATCH, IF_MATCH_OPTIONAL, ApiView, conflict, etag, refused, with_warnings
from .errors import Conflict, RecordsInvalid, field_error
from .pagination import KeysetPagination
from .parsers import json_object
from .record_format import PATIENT_FORM, REPEATING_FORMS, VITAL_STATUS_FORM, Problems
from .serializers import (
    DerivedSerializer, PatientSerializer, RecordSerializer, VitalStatusSerializer, instance_serializer,
)

TAG_PATIENTS = "patients"
NEEDS_IF_MATCH = {"428": "The If-Match header is missing: read the record first and send its ETag."}
PATIENT_ORDERINGS = {
    "record_id": ("record_id", "text"), "-record_id": ("record_id", "text"),
    "updated_at": ("record_updated_at", "datetime"), "-updated_at": ("record_updated_at", "datetime"),
}


def record_json(patient: Patient) -> dict:
    return PatientSerializer(patient).data


def _change_patient_form(view, request, record_id: str, *, form: str, replace: bool):
    """PUT (`replace`: what the body leaves out is blanked) or PATCH one of the patient row's forms,
    with the If-Match the view requires; raises the API's 4xx on a conflict or a refused value.
    Returns the write's outcome (its warnings)."""
    patient = view.visible_patient(record_id)
    expected = view.expected_version(required=True)
    problems = Problems()
    cells = _patient_cells(json_object(request.data), patient, problems, form=form)
    if replace:
        cells = record_format.all_cells(form, cells, problems)
    try:
        outcome = record_update(patient=patient, cells=cells, user=request.user, door=view.door,
                                expected_version=expected, problems_before=problems.items)
    except VersionConflict as error:
        raise conflict(error.problems) from None
    refused(outcome)
    return outcome


def _patient_cells(request_data: dict, patient: Patient | None, problems: Problems, *, form: str) -> dict[str, str]:
    """A form's cells from a request body; record_id, site and version may be sent back unchanged."""
    record = patient.record_id if patient is not None else str(request_data.get(RECORD_ID, ""))
    values = dict(request_data)
    if form == PATIENT_FORM:
        values.pop("warnings", None)  # a write's answer sent back as it came: the warnings are read-only
        for key in (RECORD_ID, "site", "version"):
            if key not in values:
                continue
            sent = values.pop(key)
            if patient is None or key == "version":
                continue
            current = patient.record_id if key == RECORD_ID else patient.site.code
            if sent != current:
                reason = ("cannot be changed through the API" if key == RECORD_ID
                          else "cannot be changed: a record never moves to another site")
                problems.add(record, form, None, key, sent, reason)
    return record_format.form_cells(form, values, problems, record=record)


def _answer_with_record(user, record_id: str, *, status_code: int = 200) -> Response:
    patient = api_patient(user, record_id)
    response = Response(record_json(patient), status=status_code)
    response["ETag"] = etag(patient)
    return response


def site_for_new_records(user, code: str | None, problems: Problems, *, record: str = ""):
    """The site a new record goes to: the one named (which the user must be allowed to change), or the
    user's only changeable site; None (and a problem) otherwise."""
    sites = list(changeable_sites(user))
    if code is not None:
        for site in sites:
            if site.code == code:
                return site
        problems.add(record, PATIENT_FORM, None, "site", code, "is not a site whose records you may change")
        return None
    if len(sites) == 1:
        return sites[0]
    problems.add(record, PATIENT_FORM, None, "site", "",
                 "is required: you may change the records of several sites, so name the new record's site")
    return None


class PatientListView(ApiView):
    pagination_class = KeysetPagination
    orderings = PATIENT_ORDERINGS
    error_codes = {"POST": {"409": "A record with this record ID exists already (at any site, ignoring letter case), "
                                   "or another request created it at the same moment."}}

    @extend_schema(
        tags=[TAG_PATIENTS], operation_id="patients_list", parameters=[query.SITE, query.UPDATED_SINCE, query.COHORT],
        responses=PatientSerializer(many=True),
        description="The patients of the sites you see. Queries: the token, your role and sites, one page, and the "
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
        self.log_identified_page("patients", page)
        return paginator.get_paginated_response(PatientSerializer(page, many=True).data)

    @extend_schema(
        tags=[TAG_PATIENTS], operation_id="patients_create", request=PatientSerializer,
        responses={201: PatientSerializer},
        description="Creates one record (its enrollment form; other instruments through their own endpoints or "
                    "the bulk upsert). Checked as the REDCap import checks.",
    )
    def post(self, request):
        data = json_object(request.data)
        problems = Problems()
        record = data.get(RECORD_ID)
        if not isinstance(record, str) or not record.strip() or record_format.text_problem(record):
            raise RecordsInvalid([field_error(RECORD_ID, "" if record is None else str(record),
                                              "is required: the new record's ID, a non-blank string")])
        record = record.strip()
        site_code = data.get("site")
        if site_code is not None and not isinstance(site_code, str):
            problems.add(record, PATIENT_FORM, None, "site", site_code, "must be a site code (a string)")
            site_code = None
        site = site_for_new_records(request.user, site_code, problems, record=record)
        cells = _patient_cells(data, None, problems, form=PATIENT_FORM)
        cells[RECORD_ID] = record
        try:
            outcome = records_upsert(source=flat_json([cells]), file_format="json", record_ids=[record],
                                     user=request.user, door=self.door, site=site, problems_before=problems.items,
                                     new_record=record)
        except RecordExists as error:
            raise Conflict(f"{error}; nothing was written.") from None
        except (CreatedMeanwhile, IntegrityError):  # created by a concurrent request after the check
            raise Conflict(f"{RecordExists(record)}; nothing was written.") from None
        refused(outcome)
        response = with_warnings(_answer_with_record(request.user, record, status_code=status.HTTP_201_CREATED),
                                 outcome)
        response["Location"] = request.build_absolute_uri(f"{record}/")
        return response


class PatientDetailView(ApiView):
    conditional_get = True  # GET answers 304 to an If-None-Match of the current ETag
    error_codes = {method: NEEDS_IF_MATCH for method in ("PUT", "PATCH", "DELETE")}

    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_read", responses=PatientSerializer)
    def get(self, request, record_id):
        patient = self.visible_patient(record_id)
        return self.unless_unchanged(patient, lambda: record_json(patient))

    def _change(self, request, record_id, *, replace: bool):
        outcome = _change_patient_form(self, request, record_id, form=PATIENT_FORM, replace=replace)
        return with_warnings(_answer_with_record(request.user, record_id), outcome)

    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_replace", parameters=[IF_MATCH],
                   request=PatientSerializer, responses=PatientSerializer,
                   description="Replaces the enrollment form: a field left out is erased.")
    def put(self, request, record_id):
        return self._change(request, record_id, replace=True)

    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_update", parameters=[IF_MATCH],
                   request=PatientSerializer, responses=PatientSerializer,
                   description="Changes the fields given (null erases one); the others stay.")
    def patch(self, request, record_id):
        return self._change(request, record_id, replace=False)

    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_delete", parameters=[IF_MATCH],
                   responses={204: None}, description="Deletes the whole record, every instrument with it. "
                                                      "Administrators only.")
    def delete(self, request, record_id):
        patient = self.visible_patient(record_id)
        expected = self.expected_version(required=True)
        try:
            record_delete(patient=patient, user=request.user, door=self.door, expected_version=expected)
        except VersionConflict as error:
            raise conflict(error.problems) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordView(ApiView):
    conditional_get = True  # GET answers 304 to an If-None-Match of the current ETag

    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_record", responses=RecordSerializer,
                   description="The whole record, nested: the shape the bulk upsert takes.")
    def get(self, request, record_id):
        patient = self.visible_patient(record_id)
        return self.unless_unchanged(patient, lambda: RecordSerializer(
            patient, context={"instances": record_instances([patient.id], REPEATING_FORMS)}).data)


def _derived_row(row, exclude=("id", "patient")) -> dict:
    values = {}
    for model_field in row._meta.concrete_fields:
        if model_field.name in exclude:
            continue
        value = getattr(row, model_field.attname)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        values[model_field.attname if model_field.is_relation else model_field.name] = value
    return values


class DerivedView(ApiView):
    @extend_schema(tags=[TAG_PATIENTS], operation_id="patients_derived", responses=DerivedSerializer,
                   description="The derived results as stored (rules version, settings and `is_stale` included); "
                               "read-only: they follow the records.")
    def get(self, request, record_id):
        patient = self.visible_patient(record_id)
        results = derived_results(patient)
        return Response({
            "patient": _derived_row(results.patient) if results.patient is not None else None,
            "lines": [_derived_row(row) for row in results.lines],
            "assessments": [_derived_row(row) for row in results.assessments],
            "biopsies": [_derived_row(row) for row in results.biopsies],
        })


class VitalStatusView(ApiView):
    conditional_get = True  # GET answers 304 to an If-None-Match of the current ETag
    error_codes = {method: NEEDS_IF_MATCH for method in ("PUT", "PATCH")}

    def _answer(self, patient: Patient) -> Response:
        response = Response(record_format.form_values(VITAL_STATUS_FORM, patient))
        response["ETag"] = etag(patient)
        return response

    @extend_schema(tags=[TAG_PATIENTS], operation_id="vital_status_read", responses=VitalStatusSerializer)
    def get(self, request, record_id):
        patient = self.visible_patient(record_id)
        return self.unless_unchanged(patient, lambda: record_format.form_values(VITAL_STATUS_FORM, patient))

    def _change(self, request, record_id, *, replace: bool):
        outcome = _change_patient_form(self, request, record_id, form=VITAL_STATUS_FORM, replace=replace)
        return with_warnings(self._answer(api_patient(request.user, record_id)), outcome)

    @extend_schema(tags=[TAG_PATIENTS], operation_id="vital_status_replace", parameters=[IF_MATCH],
                   request=VitalStatusSerializer, responses=VitalStatusSerializer)
    def put(self, request, record_id):
        return self._change(request, record_id, replace=True)

    @extend_schema(tags=[TAG_PATIENTS], operation_id="vital_status_update", parameters=[IF_MATCH],
                   request=VitalStatusSerializer, responses=VitalStatusSerializer)
    def patch(self, request, record_id):
        return self._change(request, record_id, replace=False)


INSTANCE_ORDERINGS = {
    "redcap_repeat_instance": ("redcap_repeat_instance", "int"),
    "-redcap_repeat_instance": ("redcap_repeat_instance", "int"),
    "updated_at": ("updated_at", "datetime"), "-updated_at": ("updated_at", "datetime"),
}


def instrument_views(form: str) -> tuple[type[ApiView], type[ApiView]]:
    """The list view and the detail view of one repeating instrument."""
    serializer = instance_serializer(form)
    label = record_format.instrument_label(form)
    tag = f"instrument: {form}"

    def answer(request, patient: Patient, instance, *, status_code=200) -> Response:
        response = Response(serializer(instance).data, status=status_code)
        response["ETag"] = etag(api_patient(request.user, patient.record_id))
        return response

    def cells_of(request, patient: Patient, problems: Problems, instance=None) -> dict[str, str]:
        values = json_object(request.data)
        values.pop("warnings", None)  # a write's answer sent back as it came: the warnings are read-only
        sent = values.pop(REPEAT_INSTANCE, None)
        if sent is not None and sent != instance:
            problems.add(patient.record_id, form, instance, REPEAT_INSTANCE, sent,
                         "is given by the registry (max + 1) or by the URL, not by the body")
        return record_format.form_cells(form, values, problems, record=patient.record_id, instance=instance)

    class InstanceListView(ApiView):
        conditional_get = True  # GET answers 304 to an If-None-Match of the current ETag
        pagination_class = KeysetPagination
        orderings = INSTANCE_ORDERINGS
        view_form = form

        @extend_schema(tags=[tag], operation_id=f"{form}_list", parameters=[query.UPDATED_SINCE],
                       responses=serializer(many=True), description=f"The record's {label} instances.")
        def get(self, request, record_id):
            patient = self.visible_patient(record_id)
            instances = visible_instances(request.user, form, patient,
                                          updated_since=query.optional_datetime(request, "updated_since"))
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(instances, request, view=self)  # its parameters checked first
            # The page's ETag is the record's version: the same URL of an unchanged record gives the same page.
            return self.unless_unchanged(patient, paginator.get_paginated_response(serializer(page, many=True).data))

        @extend_schema(tags=[tag], operation_id=f"{form}_create", parameters=[IF_MATCH_OPTIONAL],
                       request=serializer, responses={201: serializer},
                       description=f"A new {label}, numbered after the record's highest instance.")
        def post(self, request, record_id):
            patient = self.visible_patient(record_id)
            expected = self.expected_version(required=False)
            problems = Problems()
            cells = cells_of(request, patient, problems)
            try:
                outcome, number = record_instance_create(patient=patient, form=form, cells=cells, user=request.user,
                                                         door=self.door, expected_version=expected,
                                                         problems_before=problems.items)
            except VersionConflict as error:
                raise conflict(error.problems) from None
            refused(outcome)
            instance = visible_instances(request.user, form, patient).get(redcap_repeat_instance=number)
            response = with_warnings(answer(request, patient, instance, status_code=status.HTTP_201_CREATED), outcome)
            response["Location"] = request.build_absolute_uri(f"{number}/")
            return response

    class InstanceDetailView(ApiView):
        conditional_get = True  # GET answers 304 to an If-None-Match of the current ETag
        error_codes = {method: NEEDS_IF_MATCH for method in ("PUT", "PATCH", "DELETE")}
        view_form = form

        def _instance(self, request, patient: Patient, instance: int):
            found = visible_instances(request.user, form, patient).filter(redcap_repeat_instance=instance).first()
            if found is None:
                raise NotFound(f"{patient.record_id} has no {form} instance {instance}.")
            return found

        @extend_schema(tags=[tag], operation_id=f"{form}_read", responses=serializer)
        def get(self, request, record_id, instance):
            patient = self.visible_patient(record_id)
            found = self._instance(request, patient, instance)  # 404 before 304: a deleted instance is gone
            return self.unless_unchanged(patient, lambda: serializer(found).data)

        def _change(self, request, record_id, instance, *, replace: bool):
            patient = self.visible_patient(record_id)
            self._instance(request, patient, instance)
            expected = self.expected_version(required=True)
            problems = Problems()
            cells = cells_of(request, patient, problems, instance)
            if replace:
                cells = record_format.all_cells(form, cells, problems)
            try:
                outcome = record_instance_update(patient=patient, form=form, instance=instance, cells=cells,
                                                 user=request.user, door=self.door, expected_version=expected,
                                                 problems_before=problems.items)
            except VersionConflict as error:
                raise conflict(error.problems) from None
            except InstanceNotFound as error:
                raise NotFound(str(error)) from None
            refused(outcome)
            return with_warnings(answer(request, patient, self._instance(request, patient, instance)), outcome)

        @extend_schema(tags=[tag], operation_id=f"{form}_replace", parameters=[IF_MATCH], request=serializer,
                       responses=serializer, description="Replaces the instance: a field left out is erased.")
        def put(self, request, record_id, instance):
            return self._change(request, record_id, instance, replace=True)

        @extend_schema(tags=[tag], operation_id=f"{form}_update", parameters=[IF_MATCH], request=serializer,
                       responses=serializer, description="Changes the fields given (null erases one).")
        def patch(self, request, record_id, instance):
            return self._change(request, record_id, instance, replace=False)

        @extend_schema(tags=[tag], operation_id=f"{form}_delete", parameters=[IF_MATCH], responses={204: None},
                       description="Deletes the instance; deleting an assessment, lesion or biopsy also deletes the "
                                   "measurements or variants that name it.")
        def delete(self, request, record_id, instance):
            patient = self.visible_patient(record_id)
            self._instance(request, patient, instance)
            expected = self.expected_version(required=True)
            try:
                record_instance_delete(patient=patient, form=form, instance=instance, user=request.user,
                                       door=self.door, expected_version=expected)
            except VersionConflict as error:
                raise conflict(error.problems) from None
            except InstanceNotFound as error:
                raise NotFound(str(error)) from None
            return Response(status=status.HTTP_204_NO_CONTENT)

    name = "".join(part.capitalize() for part in form.split("_"))
    InstanceListView.__name__ = InstanceListView.__qualname__ = f"{name}ListView"
    InstanceDetailView.__name__ = InstanceDetailView.__qualname__ = f"{name}DetailView"
    return InstanceListView, InstanceDetailView


INSTRUMENT_VIEWS = {form: instrument_views(form) for form in REPEATING_FORMS}
