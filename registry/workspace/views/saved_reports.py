"""Saved reports in the workspace: the list (one's own and the shared ones), the form to create or
change one, its page of rows (paged; an htmx page link swaps the rows alone), its downloads as CSV
and Excel, and its deletion.

Everything reads through registry/selectors/saved_reports.py (the rows every door of a report
shows: the reader's sites, de-identified for readers without the identified grant) and writes
through registry/services/saved_reports.py. A download of identified rows is logged as every
identified export is.
"""
import csv
import io
import tempfile
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from registry.exports.excel_cells import text_cells
from registry.models import ExportDoor
from registry.selectors.access import access_for
from registry.selectors.saved_reports import ReportUnavailable, report_table, visible_report, visible_reports
from registry.services.saved_reports import (
    filter_logic_problem, may_change_report, saved_report_create, saved_report_delete, saved_report_export_log, saved_report_update,
)
from registry.workspace.report_forms import SavedReportForm

PAGE_ROWS = 100
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _not_found(request, message: str):
    return render(request, "workspace/bad_request.html", {"message": message, "page_title": "No such report"},
                  status=404)


def _report_or_404(request, report_id):
    try:
        return visible_report(request.user, report_id), None
    except ReportUnavailable as error:
        return None, _not_found(request, f"{error}.")


@login_required
@require_GET
def reports(request):
    found = list(visible_reports(request.user))
    rows = [{"report": report, "mine": report.owner_id == request.user.pk,
             "may_change": may_change_report(request.user, report)} for report in found]
    return render(request, "workspace/reports.html", {
        "nav": "reports", "page_title": "Reports", "rows": rows,
        "may_create": access_for(request.user).role is not None,
    })


def _form_page(request, form, report=None, status=200):
    return render(request, "workspace/report_form.html", {
        "nav": "reports", "page_title": f"Change report {report.name}" if report else "New report",
        "form": form, "report": report,
    }, status=status)


def _save_from_form(request, form, report=None):
    """The service's answer to a valid form: the report, or None with its messages on the form."""
    values = {key: form.cleaned_data[key] for key in
              ("name", "shared", "fields", "filter_logic", "sort_field", "sort_direction")}
    try:
        if report is None:
            return saved_report_create(user=request.user, **values)
        return saved_report_update(report=report, user=request.user, values=values)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request):
    if access_for(request.user).role is None:
        raise PermissionDenied("Only users with a registry role save reports.")
    form = SavedReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _save_from_form(request, form)
        if saved is not None:
            messages.success(request, f"Report “{saved.name}” saved.")
            return redirect("workspace:report", report_id=saved.pk)
    return _form_page(request, form, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, report_id: int):
    report, refusal = _report_or_404(request, report_id)
    if refusal:
        return refusal
    if not may_change_report(request.user, report):
        raise PermissionDenied(f"Only its owner or an administrator changes the report “{report.name}”.")
    initial = {key: getattr(report, key) for key in
               ("name", "shared", "fields", "filter_logic", "sort_field", "sort_direction")}
    form = SavedReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save_from_form(request, form, report)
        if saved is not None:
            messages.success(request, f"Report “{saved.name}” saved.")
            return redirect("workspace:report", report_id=saved.pk)
    return _form_page(request, form, report, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def report_filter_check(request):
    """The form's filter, read as it is typed (an htmx fragment): the parser's reason, or that it reads.
    Nothing is saved and no record is read."""
    logic = request.GET.get("filter_logic", "")
    return render(request, "workspace/fragments/report_filter_check.html", {
        "logic": logic.strip(), "problem": filter_logic_problem(logic)})


@login_required
@require_POST
def report_delete(request, report_id: int):
    report, refusal = _report_or_404(request, report_id)
    if refusal:
        return refusal
    try:
        saved_report_delete(report=report, user=request.user)
    except PermissionDenied:
        raise PermissionDenied(f"Only its owner or an administrator deletes the report “{report.name}”.") from None
    messages.success(request, f"Report “{report.name}” deleted.")
    return redirect("workspace:reports")


@login_required
@require_GET
def report_view(request, report_id: int):
    report, refusal = _report_or_404(request, report_id)
    if refusal:
        return refusal
    context = {"nav": "reports", "page_title": report.name, "report": report,
               "may_change": may_change_report(request.user, report)}
    try:
        table = report_table(report, user=request.user)
    except ReportUnavailable as error:
        context["unavailable"] = str(error)
        return render(request, "workspace/report.html", context, status=409)
    page = Paginator(table.rows, PAGE_ROWS).get_page(request.GET.get("page"))
    base = reverse("workspace:report", kwargs={"report_id": report.pk})

    def page_url(number: int) -> str:
        return base + ("?" + urlencode({"page": number}) if number > 1 else "")

    context.update({
        "table": table, "page_obj": page, "rows": page.object_list,
        "previous_url": page_url(page.number - 1) if page.has_previous() else "",
        "next_url": page_url(page.number + 1) if page.has_next() else "",
    })
    template = "workspace/fragments/report_rows.html" if getattr(request, "htmx", False) else "workspace/report.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _download_name(report, extension: str) -> str:
    return f"report-{report.pk}-{slugify(report.name) or 'rows'}.{extension}"


def _table_for_download(request, report, file_format: str):
    table = report_table(report, user=request.user)
    if not table.deidentified:
        saved_report_export_log(table, user=request.user, door=ExportDoor.WORKSPACE_REPORT, file_format=file_format,
                                via="workspace")
    return table


@login_required
@require_GET
def report_download(request, report_id: int, file_format: str):
    if file_format not in ("csv", "xlsx"):
        return _not_found(request, f"Reports download as .csv or .xlsx, not .{file_format}.")
    report, refusal = _report_or_404(request, report_id)
    if refusal:
        return refusal
    try:
        table = _table_for_download(request, report, file_format)
    except ReportUnavailable as error:
        return render(request, "workspace/report.html", {
            "nav": "reports", "page_title": report.name, "report": report, "unavailable": str(error),
            "may_change": may_change_report(request.user, report)}, status=409)
    if file_format == "csv":
        output = io.StringIO()
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(table.rows)
        response = HttpResponse(output.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(table), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_download_name(report, file_format)}"'
    return response


def _xlsx(table) -> bytes:
    """One sheet of the report's rows as text, as the CSV holds them (a formula-like text stays text)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("report")
    sheet.append(list(table.columns))
    for row in table.rows:
        sheet.append(text_cells(sheet, row))
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read()
