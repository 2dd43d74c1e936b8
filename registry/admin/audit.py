"""The per-patient audit trail page: every change to the patient and all its instruments, newest first
(read by registry/selectors/audit_trail.py)."""
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from registry.selectors.audit_trail import patient_audit_trail

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
        page = Paginator(patient_audit_trail(patient), AUDIT_TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": patient,
            "title": f"Audit trail: {patient.record_id}",
            "page_obj": page,
        }
        return TemplateResponse(request, self.audit_trail_template, context)
