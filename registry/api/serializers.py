"""Output serializers (and the OpenAPI schema of requests and answers), one per instrument, built from
the data dictionary (registry/api/record_format.py) so that they can never drift from it.

They shape answers only: what a request may hold is checked by record_format (JSON types) and the
REDCap import (values), not here. Each serializer's `to_representation` is record_format's, so the
schema's fields and the answer's fields are built from the same list.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import ExportJobStatus
from registry.records.instruments import RECORD_ID, REPEAT_INSTANCE
from registry.records.missing_codes import missing_data_codes
from registry.services.patient_versions import record_version

from . import record_format
from .record_format import PATIENT_FORM, REPEATING_FORMS, VITAL_STATUS_FORM, ApiField, api_fields


def _model_bounds(field: ApiField) -> dict:
    """The stored column's own range (e.g. a big integer's), which the database enforces too."""
    model_field = field.column.model_field if field.column.reference is None else None
    bounds = {}
    for validator in getattr(model_field, "validators", ()):
        if isinstance(validator, MinValueValidator):
            bounds["min_value"] = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            bounds["max_value"] = validator.limit_value
    return bounds


def _drf_field(field: ApiField, *, for_create: bool):
    # A field an instance needs is refused when null or blank, also when it is sent in a change; unless it
    # takes a missing-data code (issue 12 §4): it is then null (or left out) with its code in `<field>_missing`,
    # a rule across two fields that the schema states in words (a refusal is a problem naming the field).
    needed = field.required and field.missing_name is None
    help_text = field.label
    if field.required and not needed:
        help_text += f" Required: a value, or null (or left out) with a missing-data code in {field.missing_name}."
    common = {"help_text": help_text, "required": for_create and needed}
    allow_null = field.nullable and not needed
    if field.kind in ("code", "checkbox"):
        return serializers.ChoiceField(choices=[code for code, _ in field.codes], allow_null=allow_null, **common)
    if field.kind == "date":
        return serializers.DateField(allow_null=allow_null, **common)
    # The column's own range only: the dictionary's min/max are a soft check (a warning in the answer,
    # registry/records/soft_checks.py), not a bound of what a request may hold.
    bounds = _model_bounds(field) if field.kind == "integer" else {}
    if field.kind == "integer":
        return serializers.IntegerField(allow_null=allow_null, **bounds, **common)
    if field.kind == "number":
        return serializers.FloatField(allow_null=allow_null, **bounds, **common)
    return serializers.CharField(allow_blank=not needed, max_length=field.max_length, **common)


def _form_fields(form: str, *, for_create: bool) -> dict:
    fields = {}
    checkbox_after = {checkbox.last_option: checkbox for checkbox in record_format.checkbox_codes(form).values()}
    for field in api_fields(form):
        fields[field.name] = _drf_field(field, for_create=for_create)
        if field.missing_name is not None:
            fields[field.missing_name] = _missing_code_field(field)
        elif field.name in checkbox_after:
            checkbox = checkbox_after[field.name]
            fields[checkbox.missing_name] = _missing_code_field(
                field, field_name=checkbox.field_name,
                instead=f"the options of the checkbox {checkbox.field_name} (which are then all 0)",
                refused="A ticked option and a code together are refused.")
    return fields


def _missing_code_field(field: ApiField, *, field_name: str = "", instead: str = "", refused: str = ""):
    """`<field>_missing`: the missing-data code entered instead of the value, "" when none (issue 12 §4)."""
    codes = missing_data_codes()
    instead = instead or f"{field_name or field.name} (which is then null)"
    return serializers.ChoiceField(
        choices=["", *codes], allow_blank=True, required=False,
        help_text=(f"Missing-data code entered instead of {instead}: "
                   + ", ".join(f"{code} {label}" for code, label in codes.items())
                   + '; "" when none. ' + (refused or "A value and a code together are refused.")),
    )


class WarningSerializer(serializers.Serializer):
    record = serializers.CharField(help_text="The record ID.")
    form = serializers.CharField(help_text="The instrument (REDCap form) name.")
    instance = serializers.IntegerField(allow_null=True, help_text="The instance number; null on a non-repeating form.")
    field = serializers.CharField()
    value = serializers.CharField(help_text="The value written, as REDCap raw text.")
    check = serializers.ChoiceField(
        choices=["future_date", "outside_range", "scan_after_death", "after_death", "target_change",
                 "scan_after_line_end"], help_text="Which soft check (docs/soft-checks.md).")
    message = serializers.CharField(help_text="What the check asks, in plain words, with both values and the threshold.")


WARNINGS_HELP = ("Soft checks of the values written: accepted and stored, but worth a look (a date in the future, a "
                 "value outside the dictionary's range ...). On a single write's answer only when there are any.")


def _written_warnings():
    """The read-only "warnings" of a write's answer (present only when there are any)."""
    return WarningSerializer(many=True, read_only=True, required=False, help_text=WARNINGS_HELP)


def _class_name(form: str) -> str:
    return "".join(part.capitalize() for part in form.split("_"))


class _FormSerializer(serializers.Serializer):
    form = ""

    def to_representation(self, instance):
        return record_format.form_values(self.form, instance)


class _InstanceSerializer(_FormSerializer):
    def to_representation(self, instance):
        return record_format.instance_json(self.form, instance)


def instance_serializer(form: str, *, for_bulk: bool = False) -> type[serializers.Serializer]:
    """One instance of a repeating instrument. In a bulk upsert its number is given (upsert key);
    through its own endpoint the number is in the URL, or given by the registry on creation."""
    return _instance_serializer(form, for_bulk)


@cache  # one class per instrument and use: the schema names components by class
def _instance_serializer(form: str, for_bulk: bool) -> type[serializers.Serializer]:
    number = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, read_only=not for_bulk, required=for_bulk,
        help_text="REDCap repeat instance number (unique per record and instrument).",
    )
    attributes = {
        "form": form,
        REPEAT_INSTANCE: number,
        **_form_fields(form, for_create=True),
        "updated_at": serializers.DateTimeField(read_only=True, help_text="When this instance was last written."),
        "warnings": _written_warnings(),
    }
    name = _class_name(form) + ("BulkInstance" if for_bulk else "")
    return type(name, (_InstanceSerializer,), attributes)


VitalStatusSerializer = type(
    "VitalStatus", (_FormSerializer,), {"form": VITAL_STATUS_FORM, **_form_fields(VITAL_STATUS_FORM, for_create=False),
                                        "warnings": _written_warnings()}
)


def _patient_attributes() -> dict:
    return {
        RECORD_ID: serializers.RegexField(
            r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100,
            help_text="The record ID, unique in the registry (letters, digits, - _ .).",
        ),
        "site": serializers.CharField(
            required=False, max_length=30,
            help_text="Code of the record's site. On creation: the site of new records, which you must be "
                      "allowed to change (default: your only such site). A record never moves to another site.",
        ),
        "version": serializers.CharField(
            read_only=True, help_text="The record's version, also sent as its ETag: send it back in If-Match to "
                                      "change the record. Opaque: compare, never compute.",
        ),
        "updated_at": serializers.DateTimeField(
            read_only=True, help_text="When a door last wrote anything of this record.",
        ),
        **_form_fields(PATIENT_FORM, for_create=True),
        "warnings": _written_warnings(),
    }


class _PatientSerializer(serializers.Serializer):
    def to_representation(self, patient):
        """`patient` as registry/selectors/api_records.py `api_patients` gives it (with its version)."""
        return {
            RECORD_ID: patient.record_id,
            "site": patient.site.code,
            "version": record_version(patient.id, patient.version_number),
            "updated_at": patient.record_updated_at.isoformat(),
            **record_format.form_values(PATIENT_FORM, patient),
        }


# The patient: its record ID, site, version and the enrollment form.
PatientSerializer = type("Patient", (_PatientSerializer,), _patient_attributes())


def _record_attributes(*, for_bulk: bool) -> dict:
    attributes = {
        VITAL_STATUS_FORM: VitalStatusSerializer(required=False),
        **{form: instance_serializer(form, for_bulk=for_bulk)(many=True, required=False) for form in REPEATING_FORMS},
    }
    if for_bulk:
        attributes["version"] = serializers.CharField(
            required=False, help_text="Optional: the version you last read. If the record is at another version "
                                      "now, the whole request is refused with 412 and nothing is written.",
        )
    return attributes


class _RecordSerializer(_PatientSerializer):
    def to_representation(self, patient):
        """`context["instances"]`: registry/selectors/api_records.py `record_instances` of the patients."""
        instances = self.context["instances"]
        return {
            **super().to_representation(patient),
            VITAL_STATUS_FORM: record_format.form_values(VITAL_STATUS_FORM, patient),
            **{form: [record_format.instance_json(form, instance) for instance in instances[form].get(patient.id, ())]
               for form in REPEATING_FORMS},
        }


# The whole record: the patient, its vital status and every repeating instrument's instances.
RecordSerializer = type("Record", (_RecordSerializer,), {**_patient_attributes(), **_record_attributes(for_bulk=False)})
# One record of a nested bulk upsert, as GET /records/ answers it (read-only fields are ignored).
BulkRecordSerializer = type(
    "BulkRecord", (serializers.Serializer,), {**_patient_attributes(), **_record_attributes(for_bulk=True)}
)


class ProblemSerializer(serializers.Serializer):
    record = serializers.CharField(help_text="The record ID as given (\"\" for a problem with the request).")
    instrument = serializers.CharField(help_text="The instrument (REDCap form) name, or \"\".")
    instance = serializers.CharField(allow_null=True, help_text="The instance number as given, or null.")
    field = serializers.CharField(help_text="The field (or query parameter, or header), or \"\" for a whole row.")
    value = serializers.CharField(allow_blank=True, help_text="The value as given.")
    reason = serializers.CharField(help_text="Why it was refused, in plain words.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ProblemSerializer(many=True, required=False)


class BulkResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.DictField(child=serializers.IntegerField(), help_text="Instances created, per instrument.")
    updated = serializers.DictField(child=serializers.IntegerField(), help_text="Instances changed, per instrument.")
    unchanged = serializers.DictField(child=serializers.IntegerField(), help_text="Instances sent unchanged.")
    versions = serializers.DictField(
        child=serializers.CharField(), help_text="Each record's version after the upsert, by record ID (empty "
                                                 "for a dry run).")
    warnings = WarningSerializer(many=True, help_text=WARNINGS_HELP)


class DeletionSerializer(serializers.Serializer):
    record_id = serializers.CharField()
    instrument = serializers.CharField(allow_null=True, help_text="null: the whole record is gone (deleted, or moved "
                                                                  "to a site you do not see).")
    instance = serializers.IntegerField(allow_null=True)
    deleted_at = serializers.DateTimeField()


class DeletionsSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")
    results = DeletionSerializer(many=True)


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class AuditEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    user = serializers.CharField()
    door = serializers.CharField(help_text="How the change came in: admin, import: FILE, api: token PREFIX ...")
    record_id = serializers.CharField()
    instrument = serializers.CharField()
    instance = serializers.IntegerField(allow_null=True)
    action = serializers.ChoiceField(choices=["created", "changed", "deleted", "confirmed"],
                                     help_text="confirmed: a value a soft check asked about, confirmed as correct.")
    changes = FieldChangeSerializer(many=True)
    note = serializers.CharField(allow_blank=True, help_text="For `confirmed`: what the soft check asked; else \"\".")


class AuditSerializer(serializers.Serializer):
    results = AuditEntrySerializer(many=True)
    truncated = serializers.BooleanField(help_text="More entries match than `limit`: narrow the window.")


@extend_schema_field({"type": "object", "additionalProperties": True})
class _AnyObject(serializers.JSONField):
    pass


class DerivedSerializer(serializers.Serializer):
    """The patient's derived results (rules v1) as stored: null / empty lists before the first derivation."""

    patient = _AnyObject(allow_null=True, help_text="PatientDerivation: cohort, index progression, OS, flags ...")
    lines = serializers.ListField(child=_AnyObject(), help_text="Per line: best response, progression, PFS, OS ...")
    assessments = serializers.ListField(child=_AnyObject(), help_text="Per assessment and line: RECIST responses.")
    biopsies = serializers.ListField(child=_AnyObject(), help_text="Per biopsy: phase and resistance mechanism.")


class DatasetSerializer(serializers.Serializer):
    name = serializers.CharField()
    formats = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField(help_text="The download (GET), for up to REGISTRY_API_SYNC_DATASET_PATIENTS patients.")
    jobs = serializers.CharField(help_text="Where to POST to have it written in the background (any size).")


class DatasetsSerializer(serializers.Serializer):
    results = DatasetSerializer(many=True)


class DatasetJobSerializer(serializers.Serializer):
    """An export job asked for through the API (registry/api/dataset_jobs.py). Needs the request in its
    context (for the URLs)."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="This job's URL.")
    dataset = serializers.CharField()
    format = serializers.CharField(source="file_format")
    identified = serializers.SerializerMethodField()
    site = serializers.SerializerMethodField(help_text="Only this site's patients (its code); null: every site you see.")
    cut = serializers.SerializerMethodField(help_text="From this frozen data cut (its name); null: the live records.")
    status = serializers.ChoiceField(choices=ExportJobStatus.choices)
    patients_done = serializers.IntegerField(help_text="Patients written so far.")
    patients_total = serializers.IntegerField(allow_null=True, help_text="Patients the export holds, once running.")
    rows = serializers.IntegerField(allow_null=True, help_text="Rows of the data file, once done.")
    error = serializers.SerializerMethodField(help_text="Why the job failed; null unless it did.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.SerializerMethodField(
        help_text="When its file will be deleted (REGISTRY_EXPORT_RETENTION_DAYS after it finished); null until done.")
    file = serializers.SerializerMethodField(help_text="The URL of its zip once done; null otherwise.")

    def get_url(self, job) -> str:
        return self._absolute("api-v1:dataset-job", job)

    def get_identified(self, job) -> bool:
        return not job.deidentified

    def get_site(self, job) -> str | None:
        return job.site.code if job.site is not None else None

    def get_cut(self, job) -> str | None:
        return job.cut.name if job.cut is not None else None

    def get_error(self, job) -> str | None:
        return job.error_message if job.status == ExportJobStatus.FAILED else None

    def get_expires_at(self, job) -> datetime | None:
        if job.status != ExportJobStatus.DONE:
            return None
        return job.finished_at + timedelta(days=settings.EXPORT_RETENTION_DAYS)

    def get_file(self, job) -> str | None:
        return self._absolute("api-v1:dataset-job-file", job) if job.status == ExportJobStatus.DONE else None

    def _absolute(self, view: str, job) -> str:
        path = reverse(view, kwargs={"name": job.dataset, "job_id": job.pk})
        return self.context["request"].build_absolute_uri(path)



class DatasetJobListSerializer(serializers.Serializer):
    """The user's jobs of one dataset (registry/api/dataset_jobs.py), for the schema."""

    results = DatasetJobSerializer(many=True, help_text="Newest first.")
    truncated = serializers.BooleanField(help_text="Whether there were more jobs than `limit`.")
