"""The per-patient audit trail: every change to the patient and all its instruments, newest first.

One query per history table, whatever the number of changes; each change is diffed in Python
against the previous historical row of the same object (never `prev_record`, a query per row).
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine, TumorAssessment,
)
from registry.records.instruments import INSTRUMENTS, column_owner, format_decimal

AUDIT_TRAIL_PAGE_SIZE = 50
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# Bookkeeping columns that change on every save and say nothing a reader needs.
NOT_AUDITED = {"id", "updated_at"}
# Instruments in case report form order; the patient row holds two forms (enrollment, vital status).
REPEATING_MODELS = (TreatmentLine, LocalTherapy, TumorAssessment, Lesion, LesionMeasurement, Biopsy, NgsVariant)
INSTRUMENT_OF_MODEL = {
    instrument.model: name for name, instrument in INSTRUMENTS.items() if instrument.repeating
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditEntry:
    when: datetime
    user: str
    door: str
    instrument: str
    instance: int | None
    action: str  # created, changed or deleted
    changes: tuple[FieldChange, ...]  # for "changed" only: the fields whose value differs


def patient_form_of(field_name: str) -> str:
    """The REDCap form of a patient field (enrollment or vital_status)."""
    owners = column_owner()
    if field_name in owners:
        return owners[field_name][0]
    # Checkbox options are stored as `alk_method_1`, exported as `alk_method___1`.
    stem, _, code = field_name.rpartition("_")
    return owners[f"{stem}___{code}"][0]


class ValueLabels:
    """Writes stored values for people: coded values by their dictionary label, keys by what they name."""

    def __init__(self, names_by_model: dict[type, dict[int, str]]):
        self.names_by_model = names_by_model

    def __call__(self, field, value) -> str:
        if value is None or value == "":
            return "(blank)"
        if field.is_relation:
            name = self.names_by_model.get(field.related_model, {}).get(value)
            return name or f"#{value}"
        if field.choices:
            labels = dict(field.flatchoices)
            return f"{labels[value]} ({value})" if value in labels else str(value)
        if isinstance(value, bool):
            return "ticked" if value else "not ticked"
        if isinstance(value, Decimal):
            return format_decimal(value)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


def _audited_fields(model) -> list:
    return [field for field in model._meta.fields if field.name not in NOT_AUDITED]


def _user_name(row) -> str:
    return row.history_user.get_username() if row.history_user is not None else "(no user recorded)"


def _entries_of_model(model, rows, labels: ValueLabels) -> list[AuditEntry]:
    """Rows of one history table, ordered by object then time, turned into entries with their diffs."""
    fields = _audited_fields(model)
    entries = []
    previous_by_object = {}
    for row in rows:
        previous = previous_by_object.get(row.id)
        previous_by_object[row.id] = row
        changes = ()
        if row.history_type == "~" and previous is not None:
            changes = tuple(
                FieldChange(
                    field=field.name,
                    label=str(field.verbose_name),
                    old=labels(field, getattr(previous, field.attname)),
                    new=labels(field, getattr(row, field.attname)),
                )
                for field in fields
                if getattr(previous, field.attname) != getattr(row, field.attname)
            )
        if model is Patient:
            forms = sorted({patient_form_of(change.field) for change in changes}) or ["enrollment"]
            instrument, instance = ", ".join(forms), None
        else:
            instrument, instance = INSTRUMENT_OF_MODEL[model], row.redcap_repeat_instance
        entries.append(AuditEntry(
            when=row.history_date, user=_user_name(row), door=row.history_change_reason or "",
            instrument=instrument, instance=instance, action=ACTIONS[row.history_type], changes=changes,
        ))
    return entries


def patient_audit_trail(patient: Patient) -> list[AuditEntry]:
    """Every recorded change to the patient and its instruments, newest first (8 queries)."""
    rows_by_model = {
        Patient: list(Patient.history.filter(id=patient.pk).select_related("history_user")
                      .order_by("history_date", "history_id")),
    }
    for model in REPEATING_MODELS:
        rows_by_model[model] = list(
            model.history.filter(patient_id=patient.pk).select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
    # What a measurement's or variant's keys name, from the latest history row of each target.
    names_by_model = {
        Patient: {patient.pk: patient.record_id},
        TumorAssessment: {row.id: f"assessment {row.ta_date:%Y-%m-%d}" for row in rows_by_model[TumorAssessment]},
        Lesion: {row.id: row.les_id for row in rows_by_model[Lesion]},
        Biopsy: {row.id: f"biopsy {row.bx_date:%Y-%m-%d}" for row in rows_by_model[Biopsy]},
    }
    labels = ValueLabels(names_by_model)
    entries = [entry for model, rows in rows_by_model.items() for entry in _entries_of_model(model, rows, labels)]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


class AuditTrailMixin:
    """The "Audit trail" page of the patient admin, linked from the patient's change page."""

    audit_trail_template = "admin/registry/patient/audit_trail.html"

    def get_urls(self):
        return [
            path("<path:object_id>/audit-trail/", self.admin_site.admin_view(self.audit_trail_view),
                 name="registry_patient_audit_trail"),
            *super().get_urls(),
        ]

    def audit_trail_view(self, request, object_id):
        patient = self.get_object(request, unquote(object_id))
        if patient is None:
            raise Http404("No patient you may see has this id.")
        if not self.has_view_permission(request, patient):
            raise PermissionDenied
        page = Paginator(patient_audit_trail(patient), AUDIT_TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": patient,
            "title": f"Audit trail: {patient.record_id}",
            "page_obj": page,
        }
        return TemplateResponse(request, self.audit_trail_template, context)
