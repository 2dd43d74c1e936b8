"""The study report in the admin, for investigators (and anyone with a registry role, over the sites
they may see): the reference study's tables and survival curves from the registry's derivations,
with JSON and HTML downloads."""
import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from registry.reports.study_report import report_views, study_report, study_report_html


class StudyReportMixin:
    """Adds /admin/registry/patient/study-report/ (?format=json|html downloads the file)."""

    study_report_template = "admin/registry/patient/study_report.html"

    def get_urls(self):
        return [
            path("study-report/", self.admin_site.admin_view(self.study_report_view),
                 name="registry_patient_study_report"),
            *super().get_urls(),
        ]

    def study_report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        file_format = request.GET.get("format", "")
        report = study_report(user=request.user, figures=file_format != "json")
        stamp = timezone.now().strftime("%Y%m%d")
        if file_format == "json":
            response = HttpResponse(json.dumps(report, indent=2, ensure_ascii=False), content_type="application/json")
            response["Content-Disposition"] = f'attachment; filename="study-report-{stamp}.json"'
            return response
        if file_format == "html":
            response = HttpResponse(study_report_html(report), content_type="text/html; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="study-report-{stamp}.html"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Study report",
            "report": report,
            "views": report_views(report),
        }
        return TemplateResponse(request, self.study_report_template, context)
