"""Files in and out of the admin: REDCap records (preview, then confirm) and per-instrument spreadsheets.

The admin only stages the upload and shows what the service reports; registry.services.records
decides what a file means and writes it.
"""
import re
import secrets
import tempfile
from contextlib import ExitStack
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from registry.models import ExportDoor, Site
from registry.records.spreadsheet_files import MAX_UPLOAD_BYTES, csv_file_problems, xlsx_file_problems
from registry.records.spreadsheet_formats import EXPORT_FORMATS
from registry.selectors.access import access_for, changeable_sites, may_see_identified
from registry.services.identified_exports import identified_export_log
from registry.services.records import records_export, records_import

from .mixins import refuse_nul_characters, warn_soft_checks

# Uploads awaiting confirmation, by token, in the uploader's session: a token is only good for
# the user who uploaded the file, and the staged path is built from our own token, never from input.
PENDING_IMPORTS_SESSION_KEY = "registry_pending_redcap_imports"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
FILE_FORMATS = {".csv": "csv", ".json": "json"}
EXPORT_CHUNK_CHARACTERS = 64 * 1024
OVERWRITE_CHOICES = [
    ("normal", "Normal: a blank cell leaves the stored value as it is"),
    ("overwrite", "Overwrite: a blank cell erases the stored value"),
]


class CheckedSpreadsheetImportForm(ImportForm):
    """The import form, refusing a spreadsheet before django-import-export reads it: too large, a
    CSV with broken quoting or rows of the wrong length, an .xlsx that would inflate too far."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats

    def clean(self):
        cleaned = super().clean()
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is None or chosen is None:
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error("import_file", f"The file is larger than {MAX_UPLOAD_BYTES} bytes.")
            return cleaned
        data = upload.read()
        upload.seek(0)
        file_format = self.formats[int(chosen)]
        problems = xlsx_file_problems(data) if file_format is XLSX else csv_file_problems(data)
        for problem in problems:
            self.add_error("import_file", problem)
        return cleaned


class UserScopedResourcesMixin:
    """django-import-export on a registry admin: resources see only the user's patients; spreadsheets
    in and out as CSV or Excel (.xlsx), each upload checked before it is opened.

    A spreadsheet holds real record IDs and dates: exporting one is an identified export, for users
    who may see identified data only (the others have the de-identified datasets), and is logged.
    Exports are CSV or Excel written so that no cell becomes a live formula (spreadsheet_formats.py)."""

    import_form_class = CheckedSpreadsheetImportForm
    export_formats = EXPORT_FORMATS

    def get_import_formats(self):
        # The formats the registry documents; tablib's JSON, YAML and HTML readers are left shut.
        return [CSV, XLSX]

    def get_resource_kwargs(self, request, *args, **kwargs):
        # The resources scope rows to the user; the form and encoding arguments are not theirs.
        return {"user": request.user}

    def process_result(self, result, request):
        response = super().process_result(result, request)
        # Values a soft check asks about were imported (registry/records/spreadsheets.py after_import).
        warn_soft_checks(request, getattr(result, "soft_check_warnings", []))
        return response

    def has_import_permission(self, request):
        return access_for(request.user).can_write

    def has_export_permission(self, request):
        return self.has_view_permission(request) and may_see_identified(request.user)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        exported = super().get_export_data(file_format, request, queryset, **kwargs)  # refuses if not allowed
        site_code_path = self.site_path.removesuffix("_id") + "__code"
        identified_export_log(
            user=request.user, door=ExportDoor.ADMIN_SPREADSHEET, content=self.model._meta.model_name,
            file_format=file_format.get_extension(),
            site_codes=queryset.values_list(site_code_path, flat=True).distinct(),
            record_count=queryset.values(self.site_path.removesuffix("site_id") + "id").distinct().count(),
            parameters={"filters": request.GET.urlencode()},
        )
        return exported

    def get_export_queryset(self, request):
        # The export applies the list's filters; one the list would refuse (?site=abc) is a bad request.
        refuse_nul_characters(request)
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters as error:
            raise BadRequest(str(error)) from error


class RedcapImportForm(forms.Form):
    file = forms.FileField(
        label="REDCap records file",
        help_text="A REDCap flat export of this project's records, as CSV (.csv) or JSON (.json).",
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), label="Site", help_text="The site whose records the file holds.",
    )
    overwrite_behavior = forms.ChoiceField(
        label="Blank cells", choices=OVERWRITE_CHOICES, initial="normal", widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = changeable_sites(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in FILE_FORMATS:
            raise forms.ValidationError("Choose a .csv or .json file exported from REDCap.")
        return upload

    @property
    def file_format(self) -> str:
        return FILE_FORMATS[Path(self.cleaned_data["file"].name).suffix.lower()]


def stage_upload(upload) -> str:
    """Save an uploaded file under IMPORT_STAGING_DIR; returns its token (the file's name)."""
    directory = Path(settings.IMPORT_STAGING_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    with (directory / token).open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return token


def staged_path(token: str) -> Path:
    return Path(settings.IMPORT_STAGING_DIR) / token


def summary_rows(result) -> list[tuple[str, int, int, int]]:
    """(instrument, created, updated, unchanged) for every instrument the file touched, in form order."""
    instruments = list(dict.fromkeys([*result.created, *result.updated, *result.unchanged]))
    rows = [
        (name, result.created.get(name, 0), result.updated.get(name, 0), result.unchanged.get(name, 0))
        for name in instruments
    ]
    return [row for row in rows if any(row[1:])]


# The service records "<door>: <file name>" as the reason of every row it writes.
IMPORT_DOOR = "admin import"


def _stream_and_close(handle):
    try:
        while chunk := handle.read(EXPORT_CHUNK_CHARACTERS):
            yield chunk
    finally:
        handle.close()


class RedcapRecordsMixin:
    """REDCap import (upload → preview → confirm) and export pages on the patient admin."""

    import_template = "admin/registry/patient/redcap_import.html"
    preview_template = "admin/registry/patient/redcap_import_preview.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import-redcap/", wrap(self.redcap_import_view), name="registry_patient_import_redcap"),
            path("import-redcap/confirm/", wrap(self.redcap_confirm_view), name="registry_patient_confirm_redcap"),
            path("export-redcap/", wrap(self.redcap_export_view), name="registry_patient_export_redcap"),
            *super().get_urls(),
        ]

    def _page_context(self, request, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def redcap_import_view(self, request):
        if not access_for(request.user).can_write:
            raise PermissionDenied
        if request.method != "POST":
            form = RedcapImportForm(user=request.user)
            return TemplateResponse(request, self.import_template, self._page_context(
                request, "Import REDCap records", form=form))
        form = RedcapImportForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return TemplateResponse(request, self.import_template, self._page_context(
                request, "Import REDCap records", form=form))
        file_name = Path(form.cleaned_data["file"].name).name
        token = stage_upload(form.cleaned_data["file"])
        pending = {
            "file_name": file_name,
            "file_format": form.file_format,
            "site_id": form.cleaned_data["site"].id,
            "overwrite_behavior": form.cleaned_data["overwrite_behavior"],
        }
        kept_for_confirmation = False
        try:
            result = self._run_import(request, token, pending, dry_run=True)
            kept_for_confirmation = result.ok
        finally:
            # A file with problems can only be fixed and uploaded again; it is not kept.
            if not kept_for_confirmation:
                staged_path(token).unlink(missing_ok=True)
        if kept_for_confirmation:
            waiting = request.session.get(PENDING_IMPORTS_SESSION_KEY, {})
            waiting[token] = pending
            request.session[PENDING_IMPORTS_SESSION_KEY] = waiting
        return self._preview_response(request, result, pending, token=token if kept_for_confirmation else None)

    def _run_import(self, request, token: str, pending: dict, *, dry_run: bool):
        site = changeable_sites(request.user).filter(pk=pending["site_id"]).first()
        if site is None:
            raise PermissionDenied
        return records_import(
            source=staged_path(token), file_format=pending["file_format"], site=site, user=request.user,
            dry_run=dry_run, overwrite_behavior=pending["overwrite_behavior"],
            door=IMPORT_DOOR, file_name=pending["file_name"],
        )

    def _preview_response(self, request, result, pending, *, token):
        site = Site.objects.filter(pk=pending["site_id"]).first()
        return TemplateResponse(request, self.preview_template, self._page_context(
            request, f"Import REDCap records: {pending['file_name']}",
            result=result, pending=pending, site=site, token=token, summary=summary_rows(result),
        ))

    @staticmethod
    def _take_pending(request, token: str) -> dict | None:
        waiting = request.session.get(PENDING_IMPORTS_SESSION_KEY, {})
        pending = waiting.pop(token, None)
        request.session[PENDING_IMPORTS_SESSION_KEY] = waiting
        return pending

    @method_decorator(require_POST)
    def redcap_confirm_view(self, request):
        if not access_for(request.user).can_write:
            raise PermissionDenied
        token = request.POST.get("token", "")
        pending = self._take_pending(request, token) if TOKEN_PATTERN.match(token) else None
        if pending is None:
            raise Http404("No import is waiting for confirmation under this token.")
        try:
            result = self._run_import(request, token, pending, dry_run=False)
        finally:
            staged_path(token).unlink(missing_ok=True)
        if not result.ok:
            # The database changed between the preview and the confirmation; nothing was imported.
            return self._preview_response(request, result, pending, token=None)
        created, updated = sum(result.created.values()), sum(result.updated.values())
        messages.success(
            request,
            f"Imported {pending['file_name']}: {created} instances created, {updated} updated, "
            f"{sum(result.unchanged.values())} unchanged.",
        )
        warn_soft_checks(request, result.warnings)
        return HttpResponseRedirect(reverse("admin:registry_patient_changelist"))

    def redcap_export_view(self, request):
        # The flat export holds identified data: refused to users who read de-identified data only
        # (they have the REDCap API's de-identified export and the datasets).
        if not self.has_view_permission(request) or not may_see_identified(request.user):
            raise PermissionDenied
        records = None
        if request.GET:
            # Filters and search of the changelist the button was pressed on.
            records = list(self.get_export_queryset(request).values_list("record_id", flat=True))
        # The export is written to a temporary file first (memory stays flat whatever the cohort's
        # size), then streamed; the file is closed, and so removed, when the stream ends.
        with ExitStack() as on_failure:
            handle = on_failure.enter_context(tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline=""))
            records_export(output=handle, user=request.user, records=records, file_format="csv",
                           door=ExportDoor.ADMIN_REDCAP_RECORDS, parameters={"filters": request.GET.urlencode()})
            handle.seek(0)
            on_failure.pop_all()
        response = StreamingHttpResponse(_stream_and_close(handle), content_type="text/csv; charset=utf-8")
        file_name = f"redcap-records-{timezone.now():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response
