"""Scan entry: one tumor assessment and its lesion measurements on one page, with a live preview of the
response that registry/derive computes for it (today as the cut-off), saved in one transaction.

    GET  records/<record_id>/scans/new/?date=YYYY-MM-DD   a new scan (the lesions of that date's line(s),
                                                          or of the line running today without a date)
    GET  records/<record_id>/scans/<instance>/            an existing scan, its measurements filled in
    POST the same, with _preview=1                        the preview fragment (htmx), nothing written
    POST the same                                         save; back to the record home page

The steps of a save are the workspace's (registry/workspace/saving.py): values left in fields that
branching logic hides are offered for deletion, soft checks ask, and a record changed meanwhile is not
overwritten; here they span the assessment and each of its measurements, written by one instances_save.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from registry.derive.results import Response
from registry.models import Lesion, LesionMeasurement, Patient, TumorAssessment
from registry.records.soft_checks import instance_soft_checks
from registry.selectors.access import Capability, can_change_patient, may_see_identified, user_can, visible_patients
from registry.selectors.derivation_inputs import current_analysis_settings, patient_records
from registry.services.instances import RecordChangedMeanwhile, instances_save
from registry.services.locks import RecordLocked
from registry.services.patient_versions import current_versions
from registry.services.soft_checks import checks_unconfirmed

from ..forms import ISO_DATE_FORMAT
from ..query_markers import form_query_context
from ..saving import (
    HIDDEN_VALUES_DECISION, WORKSPACE_DOOR, FormSave, confirmed_keys, form_rebased, ticked_checks_confirm,
)
from ..scan_entry import (
    RESPONSE_LABELS, ScanPreview, current_line, membership_text, percent_text, preview_summary, record_without_scan,
    response_label, scan_lesions, scan_lines, scan_preview,
)
from ..scan_forms import LesionRowsForm, assessment_input, scan_form_class
from .locks import page_lock

PREVIEW = "_preview"
ROWS_DATE = "rows_for"  # hidden: the date the lesion rows were built for ("" = the line running today)
ROWS_SHOWN = "lesions_shown"  # hidden: the les_ids of the rows on the page, in order
TEMPLATE = "workspace/scan.html"
FIRST_FIELDS = ("ta_date", "ta_scope")  # above the lesion rows; the other fields follow them
PREVIEW_TEMPLATE = "workspace/includes/scan_preview.html"


def _visible_patient(user, record_id: str) -> Patient:
    patient = visible_patients(user).filter(record_id=record_id).first()
    if patient is None:
        raise Http404("No such record.")  # another site's record: 404, not 403 (no oracle)
    return patient


@login_required
def scan_new(request, record_id: str):
    patient = _visible_patient(request.user, record_id)
    if not can_change_patient(request.user, patient):
        raise PermissionDenied("Your role may not change this record.")
    lock = page_lock(patient, "tumor_assessment", None)
    if lock is not None:
        raise RecordLocked([lock])  # a record locked as a whole takes no new scan
    return _scan_page(request, patient, None)


@login_required
def scan_edit(request, record_id: str, instance: int):
    patient = _visible_patient(request.user, record_id)
    assessment = get_object_or_404(TumorAssessment, patient=patient, redcap_repeat_instance=instance)
    lock = page_lock(patient, "tumor_assessment", assessment)
    if not can_change_patient(request.user, patient) or lock is not None:
        if request.method != "GET":
            if lock is not None and can_change_patient(request.user, patient):
                raise RecordLocked([lock])  # a 403 naming the lock; nothing written
            raise PermissionDenied("Your role may not change this record.")
        return _read_only_page(request, patient, assessment, lock=lock)
    return _scan_page(request, patient, assessment)


def _iso_date(text: str | None) -> date | None:
    try:
        return datetime.strptime((text or "").strip(), ISO_DATE_FORMAT).date()
    except ValueError:
        return None


@dataclass
class _Page:
    """What one request knows of the record: the derive input, the lesions and what is stored."""

    patient: Patient
    assessment: TumorAssessment | None
    today: date
    settings: object
    record: object  # the PatientRecord without the scan being edited
    lesion_models: dict[str, Lesion]
    existing: dict[str, LesionMeasurement]
    version: str
    form_class: type

    def lines_and_lesions(self, rows_date: date | None):
        lines = (scan_lines(self.record, rows_date, self.settings) if rows_date
                 else current_line(self.record, self.today))
        return lines, scan_lesions(self.record, lines, rows_date, self.settings)


def _page(request, patient: Patient, assessment: TumorAssessment | None) -> _Page:
    record = patient_records([patient.pk])[patient.pk]
    existing = {}
    if assessment is not None:
        existing = {m.lesion.les_id: m for m in assessment.measurements.select_related("lesion")}
    return _Page(
        patient=patient, assessment=assessment, today=timezone.localdate(),
        settings=current_analysis_settings(),
        record=record_without_scan(record, assessment.ta_date if assessment else None),
        lesion_models={lesion.les_id: lesion for lesion in Lesion.objects.filter(patient=patient)},
        existing=existing,
        version=current_versions([patient.pk])[patient.pk],
        form_class=scan_form_class(user_sees_identified=may_see_identified(request.user)),
    )


def _stored_preview(page: _Page, assessment: TumorAssessment) -> ScanPreview:
    """The preview of a stored scan, from the stored record (what derive says of it today)."""
    record = patient_records([page.patient.pk])[page.patient.pk]
    scan = next(a for a in record.assessments if a.ta_date == assessment.ta_date)
    measurements = tuple(m for m in record.measurements if m.lm_date == assessment.ta_date)
    return scan_preview(record_without_scan(record, assessment.ta_date), scan=scan, measurements=measurements,
                        settings=page.settings, today=page.today)


def _scan_page(request, patient: Patient, assessment: TumorAssessment | None):
    page = _page(request, patient, assessment)
    if request.method == "POST":
        return _post(request, page)
    rows_date = assessment.ta_date if assessment else _iso_date(request.GET.get("date"))
    lines, histories = page.lines_and_lesions(rows_date)
    form = page.form_class(instance=assessment or TumorAssessment(patient=patient, ta_date=rows_date),
                           record_version=page.version)
    rows = LesionRowsForm(histories=histories, existing=page.existing)
    preview = _stored_preview(page, assessment) if assessment else None
    return _render(request, page, form, rows, lines=lines, rows_date=rows_date, preview=preview,
                   preview_note="Type the date and today's values to see the response.")


def _without_values(data, form, names) -> None:
    """Empties these fields in the posted data, as the coordinator chose (or for the preview)."""
    for name in names:
        if name in form.checkbox_groups:
            data.setlist(form.add_prefix(name), [])
        else:
            data[form.add_prefix(name)] = ""


def _post(request, page: _Page):
    data = request.POST.copy()
    is_preview = data.get(PREVIEW) == "1"
    instance = page.assessment or TumorAssessment(patient=page.patient)
    form = page.form_class(data, instance=instance)
    hidden = form.values_in_hidden_fields()
    decision = data.get(HIDDEN_VALUES_DECISION, "")
    shown = None  # the form as typed, when the one validated has the hidden values cleared
    if hidden and decision != "keep":
        # Validated (and previewed) as it would be saved with the values that no longer apply cleared:
        # the model refuses e.g. a count of new lesions without a new lesion, and the coordinator is
        # asked about those values instead. Until they answer, the page keeps the values as typed.
        if decision != "clear" and not is_preview:
            shown = form
        data = data.copy()
        _without_values(data, form, hidden)
        form = page.form_class(data, instance=instance)

    typed_date = _iso_date(data.get("ta_date"))
    rows_date = typed_date or _iso_date(data.get(ROWS_DATE))
    lines, histories = page.lines_and_lesions(rows_date)
    rows = LesionRowsForm(data, histories=histories, existing=page.existing)
    # The rows move only when the date brings other lesions (another line): a preview answer then swaps
    # them in, and a save of rows typed for the other lesions is refused. With the same lesions the rows
    # stay as typed, so a value typed while the date's preview was on its way is never lost; the preview
    # (derive) reads the record itself, not the baseline, nadir and last values the rows show.
    rows_moved = [h.les_id for h in histories] != data.get(ROWS_SHOWN, "").split()
    valid = form.is_valid()
    valid = rows.is_valid() and valid
    if valid and _date_taken(page, form.instance.ta_date):
        form.add_error("ta_date", "This patient already has a scan on this date.")
        valid = False

    if is_preview:
        return _preview_answer(request, page, form, rows, valid=valid, lines=lines, rows_date=rows_date,
                               rows_moved=rows_moved)

    if rows_moved:
        form.add_error(None, f"The lesions shown were for another date; they are now those of "
                             f"{rows_date:%Y-%m-%d}. Check their values, then save again.")
        valid = False
    if not valid:
        if shown is not None:  # the errors of the form as it would be saved, beside the values as typed
            shown._errors, shown.cleaned_data = form.errors, getattr(form, "cleaned_data", {})
            return _render(request, page, shown, rows, lines=lines, rows_date=rows_date,
                           save=FormSave(False, hidden_values=hidden))
        return _render(request, page, form, rows, lines=lines, rows_date=rows_date)
    if shown is not None:
        shown._errors, shown.cleaned_data = form.errors, form.cleaned_data
        return _render(request, page, shown, rows, lines=lines, rows_date=rows_date,
                       save=FormSave(False, hidden_values=hidden))

    assessment = form.instance
    saved, deleted = _measurement_changes(page, assessment, rows)
    # (instance, its checks) pairs: unsaved model instances cannot be dictionary keys.
    checks = [(obj, instance_soft_checks(obj, today=page.today)) for obj in (assessment, *saved)]
    ticked = confirmed_keys(request.POST)
    unconfirmed = {check.key for check in checks_unconfirmed(
        [check for _, found in checks for check in found], patient_id=page.patient.pk)}
    asking = [[c for c in found if c.key in unconfirmed and c.key not in ticked] for _, found in checks]
    if any(asking):
        return _render(request, page, form, rows, lines=lines, rows_date=rows_date,
                       save=FormSave(False, asking=asking[0]),
                       lesion_checks={m.lesion.les_id: found for m, found in zip(saved, asking[1:]) if found})

    try:
        with transaction.atomic():
            instances_save(saved=[assessment, *saved], deleted=deleted, user=request.user, door=WORKSPACE_DOOR,
                           expected_version=form.cleaned_data.get("record_version") or None)
            ticked_checks_confirm(patient=page.patient, checked=checks, ticked=ticked, user=request.user,
                                  door=WORKSPACE_DOOR)
    except RecordChangedMeanwhile as conflict:
        save = FormSave(False, conflict=conflict)
        form_rebased(form, conflict)
        return _render(request, page, form, rows, lines=lines, rows_date=rows_date, save=save,
                       conflict_changes=save.conflict_changes(since=form.cleaned_data.get("loaded_at")))
    except ValidationError as error:  # e.g. a scan of that date saved meanwhile by someone else
        form.add_error(None, error)
        return _render(request, page, form, rows, lines=lines, rows_date=rows_date)

    preview = _stored_preview(page, assessment)
    messages.success(request, f"Scan {assessment.ta_date:%Y-%m-%d} saved. Derived response (today's view): "
                              f"{preview_summary(preview)}.")
    return redirect("workspace:record", record_id=page.patient.record_id)


def _date_taken(page: _Page, ta_date: date) -> bool:
    """Another scan of the patient has this date (the record read for this request holds every scan but
    the one edited; one written since is refused by the database's constraint on save)."""
    return any(assessment.ta_date == ta_date for assessment in page.record.assessments)


def _measurement_changes(page: _Page, assessment: TumorAssessment, rows: LesionRowsForm):
    """The measurements to save (typed rows) and to delete (stored rows left blank) among the rows shown;
    a stored measurement of a lesion not shown is left as it is."""
    saved, deleted = [], []
    for history in rows.histories:
        typed = rows.typed.get(history.les_id)
        stored = page.existing.get(history.les_id)
        if typed is None:
            # A stored row whose status holds a missing-data code (issue 12 §4) shows blank here, the page
            # having no code select: it is kept as it is, as a code is on every form that does not show it.
            if stored is not None and not stored.lm_status_missing:
                deleted.append(stored)
            continue
        measurement = stored or LesionMeasurement(patient=page.patient, lesion=page.lesion_models[history.les_id])
        measurement.assessment = assessment
        measurement.lm_status = typed.lm_status
        measurement.lm_status_missing = ""  # a status typed replaces a stored code
        measurement.lm_mm = typed.lm_mm
        saved.append(measurement)
    return saved, deleted


# ---------------------------------------------------------------------------- rendering

_RESPONSE_CSS = {response: response.value for response in Response} | {Response.NON_CR_NON_PD: "NN"}


def _response_view(response: Response | None) -> dict | None:
    if response is None:
        return None
    # Shown as the code's badge, then its name: "PD — progressive disease".
    return {"code": response.value, "css": _RESPONSE_CSS[response], "name": RESPONSE_LABELS[response],
            "label": response_label(response)}


def _preview_view(preview: ScanPreview | None) -> dict | None:
    """The preview as the template shows it: every value already formatted, every code with its label."""
    if preview is None:
        return None
    return {
        "membership": preview.membership,
        "after_today": preview.after_today,
        "scan_date": preview.scan_date,
        "results": [{
            "line_no": result.line_no,
            "target_sum_mm": result.target_sum_mm,
            "pct_baseline": percent_text(result.pct_change_baseline),
            "pct_nadir": percent_text(result.pct_change_nadir),
            "target": _response_view(result.target_response),
            "nontarget": _response_view(result.nontarget_response),
            "new_lesions": result.new_lesions,
            "overall": _response_view(result.overall_response),
            "source": result.response_source.value,
        } for result in preview.results],
        "baselines": preview.baselines,
    }


def _preview_answer(request, page: _Page, form, rows, *, valid: bool, lines, rows_date, rows_moved: bool):
    preview, note = None, ""
    if not form.data.get("ta_date", "").strip():
        note = "Type the date of the scan to see its response."
    elif not valid:
        note = "Not computed yet: " + "; ".join(_problem_texts(form, rows))
    else:
        scan = assessment_input(form.instance)
        preview = scan_preview(page.record, scan=scan, measurements=rows.derive_measurements(scan.ta_date),
                               settings=page.settings, today=page.today)
    context = {
        "preview": _preview_view(preview), "preview_note": note, "form": form, "rows": rows,
        "hidden_by_logic": form.hidden_by_logic(), "swap_rows": rows_moved,
        "membership": membership_text(lines), "rows_date": rows_date,
        "rows_shown": " ".join(h.les_id for h in rows.histories),
    }
    return render(request, PREVIEW_TEMPLATE, context)


def _problem_texts(form, rows) -> list[str]:
    texts = [f"{form[name].label}: {errors[0]}" if name in form.fields else errors[0]
             for name, errors in form.errors.items()]
    texts += [message for _, message in rows.error_links()]
    return texts


def _render(request, page: _Page, form, rows, *, lines, rows_date, preview=None, preview_note="", save=None,
            conflict_changes=(), lesion_checks=None):
    if preview is None and form.is_bound:
        if form.is_valid() and rows.is_valid():
            scan = assessment_input(form.instance)
            preview = scan_preview(page.record, scan=scan, measurements=rows.derive_measurements(scan.ta_date),
                                   settings=page.settings, today=page.today)
        else:
            preview_note = "Not computed yet: " + "; ".join(_problem_texts(form, rows))
    rows.checks = lesion_checks or {}
    checks_by_field = save.checks_by_field if save else {}
    context = {
        "patient": page.patient, "assessment": page.assessment, "form": form, "rows": rows,
        "first_fields": [(form[name], checks_by_field.get(name, ())) for name in FIRST_FIELDS],
        "later_fields": [(form[name], checks_by_field.get(name, ())) for name in form.fields
                         if name not in FIRST_FIELDS and not form[name].is_hidden],
        "extra_errors": rows.error_links() if rows.is_bound else [],
        "hidden_by_logic": form.hidden_by_logic(),
        **_query_context(request, page),
        "save": save, "conflict_changes": conflict_changes,
        "preview": _preview_view(preview), "preview_note": preview_note,
        "membership": membership_text(lines), "rows_date": rows_date,
        "rows_shown": " ".join(h.les_id for h in rows.histories),
        "page_title": f"Scan · {page.patient.record_id}", "nav": "records", "read_only": False,
    }
    return render(request, TEMPLATE, context)


def _query_context(request, page: _Page) -> dict:
    """The scan's query markers and links (registry/workspace/query_markers.py); none on a new scan."""
    assessment = page.assessment
    return form_query_context(request, patient=page.patient, form="tumor_assessment",
                              instance=assessment.redcap_repeat_instance if assessment else None,
                              saved=assessment is not None and assessment.pk is not None)


def _read_only_page(request, patient: Patient, assessment: TumorAssessment, *, lock=None):
    """The scan as a viewer or investigator sees it: the same content, no inputs and no form."""
    page = _page(request, patient, assessment)
    lines, histories = page.lines_and_lesions(assessment.ta_date)
    form = page.form_class(instance=assessment, record_version=page.version)
    rows = LesionRowsForm(histories=histories, existing=page.existing)
    values = []
    not_applicable = form.hidden_by_logic()
    for field in form:
        if field.is_hidden or field.name in not_applicable:
            continue
        initial = field.initial
        choices = dict(getattr(field.field, "choices", ()) or ())
        if isinstance(initial, list | tuple):
            text = ", ".join(str(choices.get(code, code)) for code in initial)
        elif isinstance(initial, date):
            text = f"{initial:%Y-%m-%d}"
        elif initial in (None, ""):
            text = ""
        else:
            text = str(choices.get(initial, initial))
        values.append((field.label, text, field.name))
    context = {
        "patient": patient, "assessment": assessment, "read_only": True, "values": values,
        **_query_context(request, page),
        "lesion_values": [(history, page.existing.get(history.les_id)) for history in histories],
        "membership": membership_text(lines), "preview": _preview_view(_stored_preview(page, assessment)),
        "page_title": f"Scan · {patient.record_id}", "nav": "records",
        "lock": lock, "may_lock": user_can(request.user, Capability.LOCK, site_id=patient.site_id),
        "lock_form": "tumor_assessment", "lock_instance": assessment.redcap_repeat_instance,
    }
    return render(request, TEMPLATE, context)
