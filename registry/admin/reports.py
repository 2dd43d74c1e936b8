"""The study report in the admin, for investigators (and anyone with a registry role, over the sites
they may see): the reference study's tables, survival curves, swimmer and waterfall plots from the
registry's derivations, with JSON and HTML downloads and each figure as a PNG or SVG file."""
import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

# The report's modules are imported by the views that use them, not here: they bring matplotlib, pandas,
# scipy and lifelines (some 150 MiB and 2 s), and this module is imported by every process that sets Django
# up (admin autodiscovery), Celery workers and management commands included.


class StudyReportMixin:
    """Adds /admin/registry/patient/study-report/ (?format=json|html downloads the file;
    ?figure=KEY&format=png|svg one figure: fig5a ... fig6d, swimmer, waterfall)."""

    study_report_template = "admin/registry/patient/study_report.html"

    def get_urls(self):
        return [
            path("study-report/", self.admin_site.admin_view(self.study_report_view),
                 name="registry_patient_study_report"),
            *super().get_urls(),
        ]

    def study_report_view(self, request):
        from registry.reports.study_report import report_views, study_report, study_report_html

        if not self.has_view_permission(request):
            raise PermissionDenied
        file_format = request.GET.get("format", "")
        stamp = timezone.now().strftime("%Y%m%d")
        if "figure" in request.GET:
            return self._study_figure(request, request.GET["figure"], file_format, stamp)
        report = study_report(user=request.user, figures=file_format != "json")
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
            "figure_downloads": True,
        }
        return TemplateResponse(request, self.study_report_template, context)

    def _study_figure(self, request, key: str, file_format: str, stamp: str) -> HttpResponse:
        from registry.reports.plots import IMAGE_CONTENT_TYPES
        from registry.reports.study_report import UnknownFigure, study_figure

        # A bad parameter is a bad request, as on the admin's other pages (tests/admin/test_admin_parameters.py).
        if file_format not in IMAGE_CONTENT_TYPES:
            return HttpResponseBadRequest(f"A figure is downloaded as {' or '.join(IMAGE_CONTENT_TYPES)} (format=).",
                                          content_type="text/plain; charset=utf-8")
        try:
            image = study_figure(key, user=request.user, image_format=file_format)
        except UnknownFigure as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
        response = HttpResponse(image, content_type=IMAGE_CONTENT_TYPES[file_format])
        response["Content-Disposition"] = f'attachment; filename="study-report-{key}-{stamp}.{file_format}"'
        return response
