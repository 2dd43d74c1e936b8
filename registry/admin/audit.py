"""The per-patient audit trail page: every change to the patient and all its instruments, newest first
(read by registry/selectors/audit_trail.py)."""
from dataclasses import replace

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from registry.selectors.access import identifier_columns, may_see_identified
from registry.selectors.audit_trail import AuditEntry, patient_audit_trail

AUDIT_TRAIL_PAGE_SIZE = 50


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
        entries = patient_audit_trail(patient)
        if not may_see_identified(request.user):
            entries = _without_identifier_changes(entries)
        page = Paginator(entries, AUDIT_TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": patient,
            "title": f"Audit trail: {patient.record_id}",
            "page_obj": page,
        }
        return TemplateResponse(request, self.audit_trail_template, context)


def _without_identifier_changes(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The trail for a user who reads de-identified data only: changes of identifier fields are left
    out (an entry that changed only those stays, with no field listed: that the record changed is not
    identifying)."""
    hidden = identifier_columns()
    return [
        replace(entry, changes=tuple(change for change in entry.changes if change.field not in hidden))
        for entry in entries
    ]
