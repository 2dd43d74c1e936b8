"""Exports for statisticians in the admin: ask for one, watch it progress, download it when done.

The page only collects the request and shows the user's own jobs; registry.services.export_jobs
checks the request, runs the export in the background and decides, again at the download, whether
the file may leave (the rule: registry/selectors/export_access.py).
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registry.exports.catalog import ANALYSIS, exportable
from registry.exports.deidentify import DeidentificationKeyMissing
from registry.models import DataCut, ExportJob, ExportJobStatus
from registry.selectors.access import access_for, visible_sites
from registry.selectors.export_access import ExportNotAllowed, may_export_identified
from registry.services.datasets import DATASETS, FORMATS
from registry.services.export_jobs import TooManyOpenJobs, export_job_file, export_job_request

from .mixins import NulParametersRefusedMixin, UnseenIsMissingMixin

FORMAT_LABELS = {
    "csv": "CSV (.csv)", "xlsx": "Excel (.xlsx)", "sav": "SPSS (.sav)", "dta": "Stata (.dta)",
    "parquet": "Parquet (.parquet)", "xpt": "SAS transport v5 (.xpt, ADaM datasets only)",
}
# While a job of the list is queued or running, the list reloads itself this often (seconds).
REFRESH_SECONDS = 5


def _dataset_choices():
    analysis = [(name, name) for name in DATASETS if exportable(name).kind == ANALYSIS]
    records = [(name, name) for name in DATASETS if exportable(name).kind != ANALYSIS]
    return [("Analysis datasets (rules §8)", analysis), ("Raw records, one instrument each", records)]


class ExportRequestForm(forms.Form):
    dataset = forms.ChoiceField(choices=_dataset_choices)
    file_format = forms.ChoiceField(label="Format", choices=[(name, FORMAT_LABELS[name]) for name in FORMATS])
    deidentify = forms.BooleanField(
        label="De-identify", required=False, initial=True,
        help_text="Drop identifier fields, replace record ids by pseudonyms and shift each patient's dates.",
    )
    site = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Every site I see",
        help_text="Only this site's patients.",
    )
    cut = forms.ModelChoiceField(
        label="Data cut", queryset=DataCut.objects.all(), required=False, empty_label="Live records",
        to_field_name="name", help_text="Export the records and results of this frozen data cut.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = visible_sites(user)
        if not may_export_identified(user):
            deidentify = self.fields["deidentify"]
            deidentify.disabled = True  # the posted value is ignored: the initial True stands
            deidentify.help_text = "Your role exports de-identified data only. " + deidentify.help_text


@admin.register(ExportJob)
class ExportJobAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, admin.ModelAdmin):
    list_display = ("created_at", "dataset", "file_format", "deidentified", "site", "cut", "door", "status",
                    "progress", "rows", "download", "error_message")
    list_display_links = None
    list_filter = ("status",)
    list_select_related = ("site", "cut")
    change_list_template = "admin/registry/exportjob/change_list.html"
    request_template = "admin/registry/exportjob/request.html"

    # --- every registry user sees their own jobs only, and changes none

    def _has_role(self, request) -> bool:
        return access_for(request.user).role is not None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(requested_by=request.user)

    def has_module_permission(self, request):
        return self._has_role(request)

    def has_view_permission(self, request, obj=None):
        return self._has_role(request) and (obj is None or obj.requested_by_id == request.user.pk)

    def has_add_permission(self, request):
        return self._has_role(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- the list

    @admin.display(description="progress")
    def progress(self, job: ExportJob) -> str:
        if job.patients_total is None:
            return "—"
        return f"{job.patients_done} of {job.patients_total} patients"

    @admin.display(description="file")
    def download(self, job: ExportJob) -> str:
        if job.status != ExportJobStatus.DONE:
            return "—"
        return format_html('<a href="{}">Download {}</a>', reverse("admin:registry_exportjob_download", args=[job.pk]),
                           job.file_name)

    def changelist_view(self, request, extra_context=None):
        in_progress = self.get_queryset(request).filter(
            status__in=[ExportJobStatus.QUEUED, ExportJobStatus.RUNNING]).exists()
        return super().changelist_view(request, {
            **(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if in_progress else None,
        })

    # --- asking for an export, and downloading it

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:job_id>/download/", wrap(self.download_view), name="registry_exportjob_download"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExportRequestForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                job = export_job_request(
                    user=request.user, dataset=data["dataset"], file_format=data["file_format"],
                    deidentify=data["deidentify"], site=data["site"], cut=data["cut"],
                )
            except (ExportNotAllowed, DeidentificationKeyMissing, TooManyOpenJobs, ValueError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Export of {job.dataset} ({FORMAT_LABELS[job.file_format]}) requested.")
                return HttpResponseRedirect(reverse("admin:registry_exportjob_changelist"))
        return TemplateResponse(request, self.request_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Export a dataset",
            "form": form,
        })

    def download_view(self, request, job_id: int):
        try:
            _, file = export_job_file(job_id=job_id, user=request.user)
        except ExportJob.DoesNotExist:
            raise Http404("No finished export of yours has this number.") from None
        except ExportNotAllowed:
            raise PermissionDenied from None
        return FileResponse(file.open("rb"), as_attachment=True, filename=file.name, content_type="application/zip")
