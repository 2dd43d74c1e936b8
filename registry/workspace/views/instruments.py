"""Data entry of one instrument instance, as a coordinator keys it in from a chart: a treatment line
with the lesions selected at its baseline, a biopsy with its NGS variants, a local therapy, a lesion,
and the two forms of the patient record (enrollment, vital status).

Every page is the same door (registry/workspace/saving.py does the steps they share):
    - the record is looked up among the patients the user sees (another site's record: 404);
    - who may not change it (viewers, investigators) gets the same page read-only: no form, and a
      POST is refused (403) with nothing written;
    - branching logic is evaluated on the server: the form posts its values on every change
      (`_branching=1`) and the answer names the fields to hide (includes/branching_state.html);
    - a save asks about values left in hidden fields and about soft checks, refuses a save over a
      change made meanwhile (keeping what was typed) and otherwise writes everything of the page in
      one transaction (`instances_save`), then returns to the record's home page.

Tumor assessments (with their lesion measurements) have their own page (views/scans.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Max
from django.forms import BaseModelFormSet, formset_factory
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from registry.models import Lesion, NgsVariant, Patient, TreatmentLine
from registry.models.choices import LesionClass
from registry.records.instruments import INSTRUMENTS, format_value
from registry.records.missing_codes import missing_column, missing_data_codes
from registry.selectors.access import Capability, can_change_patient, may_see_identified, user_can, visible_patients
from registry.services.locks import RecordLocked
from registry.services.patient_versions import current_versions
from registry.workspace.forms import InstrumentForm, instrument_form_class
from registry.workspace.query_markers import form_query_context
from registry.workspace.saving import (
    HIDDEN_VALUES_DECISION, FormSave, form_data_without_hidden_values, form_rebased, form_save,
)
from registry.workspace.views.locks import page_lock

BRANCHING = "_branching"  # POST field of the htmx request that asks which fields to hide
FORM_ID = "instance-form"

# Instruments entered one instance per page here; the record's two forms live on the Patient.
INSTANCE_FORMS = ("treatment_line", "local_therapy", "lesion", "biopsy", "ngs_variant")
RECORD_FORMS = ("enrollment", "vital_status")
TITLES = {
    "enrollment": "Enrollment", "vital_status": "Vital status", "treatment_line": "Treatment line",
    "local_therapy": "Local therapy", "lesion": "Lesion", "biopsy": "Biopsy", "ngs_variant": "NGS variant",
}


# ---------------------------------------------------------------- rows entered on their parent's page

class RowForm(InstrumentForm):
    """One row of a parent's page (a baseline lesion, an NGS variant): no version of its own (the
    page's form carries it) and no status of its own (it takes its parent's)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("record_version", "loaded_at", f"{self.form_name}_complete"):
            self.fields.pop(name, None)


class LesionRowForm(RowForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left blank, the identifier is proposed on save: L<line>-T<n> for a target lesion, L<line>-N<n> otherwise.
        self.fields["les_id"].required = False
        self.fields["les_id"].help_text = "Leave blank to number it L<line>-T<n> (target) or L<line>-N<n>."


@dataclass(frozen=True)
class Rows:
    """The instances of one instrument entered on their parent's page."""

    form: str  # dictionary form of the rows
    prefix: str  # the formset's prefix in the page's POST
    heading: str
    noun: str  # one row, in messages
    add_label: str  # the button that adds a row
    base: type[RowForm]
    exclude: tuple[str, ...] = ()

    def queryset(self, parent, patient):
        raise NotImplementedError

    def attach(self, row, parent, patient) -> None:
        """Ties a row's instance to its parent, before it is validated against the database and saved."""
        row.patient = patient
        setattr(row, f"{self.form}_complete", getattr(parent, f"{INSTRUMENTS_OF[type(parent)]}_complete"))

    def row_title(self, row) -> str:
        raise NotImplementedError


class BaselineLesions(Rows):
    def queryset(self, parent, patient):
        if parent.pk is None:
            return Lesion.objects.none()
        # With the number of measurements of each: deleting a lesion deletes them too, and the page says so.
        return Lesion.objects.filter(patient=patient, les_line=parent.line_no).annotate(
            measurement_count=Count("measurements")).order_by("les_id")

    def attach(self, row, parent, patient) -> None:
        super().attach(row, parent, patient)
        row.les_line = parent.line_no  # kept in step with the line's number, also when it changes

    def row_title(self, row) -> str:
        return f"Lesion {row.les_id}" if row.pk else "New lesion"


class BiopsyVariants(Rows):
    def queryset(self, parent, patient):
        if parent.pk is None:
            return NgsVariant.objects.none()
        return NgsVariant.objects.filter(biopsy=parent).order_by("redcap_repeat_instance")

    def attach(self, row, parent, patient) -> None:
        super().attach(row, parent, patient)
        row.biopsy = parent

    def row_title(self, row) -> str:
        return f"Variant {row.var_gene} {row.var_protein}".strip() if row.pk else "New variant"


INSTRUMENTS_OF = {instrument.model: name for name, instrument in INSTRUMENTS.items() if name not in RECORD_FORMS}
ROWS = {
    "treatment_line": BaselineLesions("lesion", "lesions", "Lesions selected at this line's baseline",
                                      "baseline lesion", "Add a lesion", LesionRowForm, exclude=("les_line",)),
    "biopsy": BiopsyVariants("ngs_variant", "variants", "NGS variants found in this biopsy", "NGS variant",
                             "Add an NGS variant", RowForm),
}
EXTRA_ROWS = 2  # empty rows offered; "Add a row" (workspace.js) adds more from the formset's empty form


def _formset_class(rows: Rows):
    form_class = instrument_form_class(rows.form, exclude=rows.exclude, base=rows.base)
    formset = formset_factory(form_class, formset=BaseModelFormSet, extra=EXTRA_ROWS, can_delete=True)
    formset.model = INSTRUMENTS[rows.form].model
    return formset


# ---------------------------------------------------------------- the page

@dataclass
class Page:
    """What one instrument page shows and saves."""

    patient: Patient
    form_name: str
    instance: models.Model
    title: str
    can_change: bool
    sees_identified: bool
    form: InstrumentForm | None = None
    rows: Rows | None = None
    formset: BaseModelFormSet | None = None
    save: FormSave = field(default_factory=lambda: FormSave(False))
    extra_errors: list[tuple[str, str]] = field(default_factory=list)
    conflict_changes: list = field(default_factory=list)
    lock: object = None  # the RecordLock keeping the instance from changing (shown read-only), or None
    may_lock: bool = False

    @property
    def forms(self) -> list[str] | None:
        return [self.form_name] if self.form_name in RECORD_FORMS else None

    def row_forms(self) -> list[InstrumentForm]:
        """The formset's rows that are kept (not ticked for deletion, not left empty)."""
        if self.formset is None:
            return []
        return [row for row in self.formset.forms if not _deleted(row) and (row.instance.pk or row.has_changed())]


def _deleted(row) -> bool:
    return row.is_bound and row.prefix + "-DELETE" in row.data and bool(row.data.get(row.prefix + "-DELETE"))


def _patient(request, record_id: str) -> Patient:
    """The record, among those the user sees; a record of another site is 'not found'."""
    return get_object_or_404(visible_patients(request.user), record_id=record_id)


def _title(form_name: str, instance) -> str:
    label = TITLES[form_name]
    if form_name in RECORD_FORMS or instance.pk is None:
        return label if form_name in RECORD_FORMS else f"New {label[0].lower()}{label[1:]}"
    if form_name == "treatment_line":
        return f"{label} {instance.line_no}"
    return f"{label} {instance.redcap_repeat_instance}"


def _page(request, patient: Patient, form_name: str, instance) -> Page:
    sees_identified = may_see_identified(request.user)
    page = Page(patient=patient, form_name=form_name, instance=instance, title=_title(form_name, instance),
                can_change=can_change_patient(request.user, patient), sees_identified=sees_identified,
                rows=ROWS.get(form_name))
    page.lock = page_lock(patient, form_name, instance)
    page.may_lock = user_can(request.user, Capability.LOCK, site_id=patient.site_id)
    if page.lock is not None:
        if request.method == "POST" and page.can_change:
            raise RecordLocked([page.lock])  # a 403 naming the lock; nothing written
        page.can_change = False
    if request.method == "POST" and not page.can_change:
        raise PermissionDenied("This record is read-only for you.")
    form_class = instrument_form_class(form_name, user_sees_identified=sees_identified, missing_codes=True)
    version = current_versions([patient.pk])[patient.pk]
    data = request.POST if request.method == "POST" else None
    if data is not None and data.get(HIDDEN_VALUES_DECISION) == "clear":
        # Deleting values left in hidden fields comes before validation: the model may refuse them there.
        _bind(page, form_class, data, version)
        data = form_data_without_hidden_values(data, [page.form, *page.row_forms()])
    _bind(page, form_class, data, version)
    return page


def _bind(page: Page, form_class, data, version: str) -> None:
    initial = {}
    if page.instance.pk is None and page.form_name == "treatment_line":
        highest = TreatmentLine.objects.filter(patient=page.patient).aggregate(highest=Max("line_no"))["highest"]
        initial["line_no"] = (highest or 0) + 1
    page.form = form_class(data, instance=page.instance, record_version=version, initial=initial)
    if page.rows is not None:
        formset_class = _formset_class(page.rows)
        page.formset = formset_class(data, prefix=page.rows.prefix,
                                     queryset=page.rows.queryset(page.instance, page.patient))


def _hidden_names(page: Page) -> list[str]:
    """The fields branching logic hides on the page (rows' fields with their prefix)."""
    names = set(page.form.hidden_by_logic())
    if page.formset is not None:
        for row in page.formset.forms:
            names |= {row.add_prefix(name) for name in row.hidden_by_logic()}
    return sorted(names)


# ---------------------------------------------------------------- validation beyond the forms

def _add_errors(form, error: ValidationError) -> None:
    for name, errors in error.update_error_dict({}).items():
        form.add_error(name if name in form.fields else None, errors)


def _constraints_check(form) -> None:
    """The database's rules on the instance among the record's others (one line number per patient,
    one biopsy per date, one lesion identifier per patient), which a form leaves to the model because
    the record is not one of its fields."""
    try:
        form.instance.validate_constraints()
    except ValidationError as error:
        _add_errors(form, error)


LESION_ID = re.compile(r"^L(\d+)-([TN])(\d+)$")


def _lesion_ids_propose(page: Page, rows: list) -> None:
    """Numbers the lesions left without identifier: L<line>-T<n> / L<line>-N<n>, one past the highest of
    their kind among the patient's lesions and the page's rows."""
    line_no = page.form.instance.line_no
    taken = set(Lesion.objects.filter(patient=page.patient).exclude(
        pk__in=[row.instance.pk for row in rows if row.instance.pk]).values_list("les_id", flat=True))
    taken |= {row.instance.les_id for row in rows if row.instance.les_id}
    highest: dict[str, int] = {"T": 0, "N": 0}
    for les_id in taken:
        match = LESION_ID.match(les_id)
        if match and int(match[1]) == line_no:
            highest[match[2]] = max(highest[match[2]], int(match[3]))
    for row in rows:
        if not row.instance.les_id and row.instance.les_class is not None:
            kind = "T" if row.instance.les_class == LesionClass.TARGET else "N"
            highest[kind] += 1
            row.instance.les_id = f"L{line_no}-{kind}{highest[kind]}"


def _rows_check(page: Page, rows: list) -> None:
    """Two rows of the page may not name the same lesion."""
    if page.rows is None or page.rows.form != "lesion":
        return
    seen: dict[str, object] = {}
    for row in rows:
        les_id = row.instance.les_id
        if les_id and les_id in seen:
            row.add_error("les_id", f"Another row of this page is lesion {les_id} already.")
        seen.setdefault(les_id, row)


def _page_valid(page: Page) -> bool:
    """Validates the page's form and rows (with the record's rules across instances); errors land on
    their fields and, for rows, in `page.extra_errors`."""
    valid = page.form.is_valid()
    rows_valid = page.formset is None or page.formset.is_valid()
    if valid:
        _constraints_check(page.form)
    rows = page.row_forms()
    if valid and rows_valid and page.rows is not None:
        for row in rows:
            page.rows.attach(row.instance, page.form.instance, page.patient)
        if page.rows.form == "lesion":
            _lesion_ids_propose(page, rows)
        _rows_check(page, rows)
        for row in rows:
            if not row.errors:
                _constraints_check(row)
    if page.formset is not None:
        for number, row in enumerate(page.formset.forms, start=1):
            if _deleted(row):
                continue  # a row ticked for deletion is not checked (the formset does not save it either)
            for field_name, errors in row.errors.items():
                label = row.fields[field_name].label if field_name in row.fields else ""
                anchor = row[field_name].auto_id if field_name in row.fields else f"row-{row.prefix}"
                for error in errors:
                    page.extra_errors.append((anchor, f"{page.rows.noun[0].upper()}{page.rows.noun[1:]} row {number} — "
                                                      f"{label + ': ' if label else ''}{error}"))
        for error in page.formset.non_form_errors():
            page.extra_errors.append((f"rows-{page.rows.prefix}", error))
    return page.form.is_valid() and not page.extra_errors


def _rows_to_write(page: Page) -> tuple[list, list]:
    """The rows to save (new ones, changed ones, and any whose line number moved with the line) and
    the instances to delete."""
    saved, deleted = [], []
    if page.formset is None:
        return saved, deleted
    for row in page.formset.forms:
        if _deleted(row):
            if row.instance.pk:
                deleted.append(row.instance)
            continue
        if row.instance.pk is None and not row.has_changed():
            continue
        # A renumbered line carries its lesions along (their les_line), changed on the page or not.
        if row.instance.pk is None or row.has_changed() or _line_renumbered(page):
            saved.append(row)
    return saved, deleted


def _line_renumbered(page: Page) -> bool:
    return page.form_name == "treatment_line" and "line_no" in page.form.changed_data


# ---------------------------------------------------------------- the views

def _answer(request, page: Page):
    if request.method == "POST" and request.POST.get(BRANCHING):
        return render(request, "workspace/includes/branching_state.html",
                      {"form_id": FORM_ID, "hidden": _hidden_names(page)})
    if request.method == "POST":
        saved = _save(request, page)
        if saved is not None:
            return saved
    return _render(request, page)


def _save(request, page: Page):
    """Saves the page, or leaves on it what stands in the way; a redirect when saved."""
    hidden = [page.form.add_prefix(name) for name in page.form.values_in_hidden_fields()] + [
        row.add_prefix(name) for row in page.row_forms() for name in row.values_in_hidden_fields()]
    if hidden and request.POST.get(HIDDEN_VALUES_DECISION) not in ("clear", "keep"):
        page.save = FormSave(False, hidden_values=hidden)
        return None
    if not _page_valid(page):
        return None
    saved_rows, deleted = _rows_to_write(page)
    page.save = form_save(request, page.form, patient=page.patient, today=timezone.localdate(), forms=page.forms,
                          related=saved_rows, deleted=deleted)
    if page.save.conflict is not None:
        page.conflict_changes = page.save.conflict_changes(since=page.form.cleaned_data.get("loaded_at"))
        form_rebased(page.form, page.save.conflict)
        return None
    if not page.save.saved:
        return None
    messages.success(request, _saved_message(page, saved_rows, deleted))
    return redirect("workspace:record", record_id=page.patient.record_id)


def _saved_message(page: Page, saved_rows: list, deleted: list) -> str:
    title = _title(page.form_name, page.form.instance)
    text = f"{title} of {page.patient.record_id} saved."
    if page.rows is not None and (saved_rows or deleted):
        parts = []
        new = sum(1 for row in saved_rows if not row.initial)  # an existing row's initial holds its instance's values
        changed = len(saved_rows) - new
        for count, verb in ((new, "added"), (changed, "changed"), (len(deleted), "deleted")):
            if count:
                parts.append(f"{count} {page.rows.noun}{'s' if count != 1 else ''} {verb}")
        text = f"{text[:-1]}: {', '.join(parts)}."
    return text


def _render(request, page: Page) -> HttpResponse:
    context = {
        "page_title": f"{page.title} — {page.patient.record_id}", "patient": page.patient, "page": page,
        "nav": "records", "form_id": FORM_ID, "lock": page.lock, "may_lock": page.may_lock,
        "lock_form": page.form_name if page.instance.pk is not None else "",
        "lock_instance": getattr(page.instance, "redcap_repeat_instance", None),
        **form_query_context(request, patient=page.patient, form=page.form_name,
                             instance=None if page.form_name in RECORD_FORMS else page.instance.redcap_repeat_instance,
                             saved=page.instance.pk is not None),
    }
    if not page.can_change:
        context.update(read_only=True, values=_values(page.form), row_tables=_row_tables(page))
        return render(request, "workspace/instance_form.html", context)
    form = page.form
    hidden = _hidden_names(page)
    with_errors = {name for name in form.errors} | {
        row.add_prefix(name) for row in (page.formset.forms if page.formset else []) for name in row.errors}
    checks = page.save.checks_by_field
    context.update(
        read_only=False, form=form, hidden=hidden,
        hidden_by_logic={name for name in hidden if name not in with_errors},
        fields=[(bound, checks.get(bound.name, [])) for bound in form.visible_fields()],
        other_checks=[check for check in page.save.asking if check.field not in form.fields
                      or check.form != page.form_name],
        save=page.save, conflict_changes=page.conflict_changes, extra_errors=page.extra_errors,
        hidden_value_labels=_hidden_value_labels(page) if page.save.hidden_values else [],
        keep_hidden_values=request.POST.get(HIDDEN_VALUES_DECISION) == "keep" and not page.save.hidden_values,
        rows=_row_blocks(page, hidden, with_errors),
    )
    return render(request, "workspace/instance_form.html", context)


def _hidden_value_labels(page: Page) -> list[str]:
    labels = []
    for name in page.save.hidden_values:
        if name in page.form.fields:
            labels.append(page.form[name].label)
            continue
        for number, row in enumerate(page.formset.forms if page.formset else [], start=1):
            for field_name in row.fields:
                if row.add_prefix(field_name) == name:
                    labels.append(f"{row.fields[field_name].label} ({page.rows.noun} row {number})")
    return labels


def _row_blocks(page: Page, hidden: list[str], with_errors: set[str]) -> dict | None:
    if page.formset is None:
        return None
    hidden_set = set(hidden) - with_errors

    def block(row, hidden_names) -> dict:
        title = page.rows.row_title(row.instance)  # "Lesion L1-T1": its delete box says "Delete lesion L1-T1"
        return {
            "form": row, "title": title,
            "cells": [(bound, bound.html_name in hidden_names) for bound in row.visible_fields()
                      if bound.name != "DELETE"],
            "delete": row["DELETE"] if row.instance.pk else None,
            "delete_label": f"Delete {title[0].lower()}{title[1:]}",
            "measurements": _measurement_count(row.instance) if page.rows.form == "lesion" and row.instance.pk else 0,
        }

    empty = page.formset.empty_form  # the template of a row added in the browser ("Add a ...")
    return {"rows": page.rows, "formset": page.formset,
            "blocks": [block(row, hidden_set) for row in page.formset.forms],
            "empty": block(empty, {empty.add_prefix(name) for name in empty.hidden_by_logic()})}


def _measurement_count(lesion: Lesion) -> int:
    return getattr(lesion, "measurement_count", 0)


# ---------------------------------------------------------------- read-only

def _display(form: InstrumentForm, name: str) -> str:
    """A value as the page shows it: codes as labels, dates ISO, blank as blank."""
    instance = form.instance
    if name in form.checkbox_groups:
        code = getattr(instance, missing_column(name), "")  # a checkbox field's missing-data code
        if code:
            return f"{code} ({missing_data_codes().get(code, '')})"
        return ", ".join(label for _, label, attribute in form.checkbox_groups[name] if getattr(instance, attribute))
    value = getattr(instance, name, None)
    if value is None or value == "":
        code = getattr(instance, missing_column(name), "")  # a missing-data code stands for the value
        return f"{code} ({missing_data_codes().get(code, '')})" if code else ""
    model_field = instance._meta.get_field(name)
    if model_field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    return format_value(value)


def _values(form: InstrumentForm) -> list[tuple[str, str, str]]:
    hidden = form.hidden_by_logic()
    companions = set(form.missing_code_fields())
    return [(form[name].label, _display(form, name), name) for name in form.fields
            if name not in ("record_version", "loaded_at") and name not in hidden and name not in companions]


def _row_tables(page: Page) -> dict | None:
    if page.formset is None:
        return None
    forms = [row for row in page.formset.forms if row.instance.pk]
    names = [name for name in (forms[0].fields if forms else []) if name not in ("id", "DELETE")]
    return {
        "rows": page.rows,
        "headers": [forms[0][name].label for name in names] if forms else [],
        "values": [[("" if name in row.hidden_by_logic() else _display(row, name)) for name in names] for row in forms],
    }


# ---------------------------------------------------------------- doors

def _instance_form(form: str) -> str:
    if form not in INSTANCE_FORMS:
        raise Http404("No such form here.")
    return form


@login_required
def instance_new(request, record_id: str, form: str):
    form = _instance_form(form)
    if form == "ngs_variant":
        raise Http404("An NGS variant is added on its biopsy's page.")
    patient = _patient(request, record_id)
    if not can_change_patient(request.user, patient):
        raise PermissionDenied("This record is read-only for you.")
    instance = INSTRUMENTS[form].model(patient=patient)
    return _answer(request, _page(request, patient, form, instance))


@login_required
def instance_edit(request, record_id: str, form: str, instance: int):
    form = _instance_form(form)
    patient = _patient(request, record_id)
    found = get_object_or_404(INSTRUMENTS[form].model, patient=patient, redcap_repeat_instance=instance)
    if form == "ngs_variant":
        # A variant is entered with its biopsy (all of one sequencing report at once).
        return redirect(reverse("workspace:instance", kwargs={
            "record_id": patient.record_id, "form": "biopsy", "instance": found.biopsy.redcap_repeat_instance}))
    return _answer(request, _page(request, patient, form, found))


@login_required
def record_form(request, record_id: str, form: str):
    if form not in RECORD_FORMS:
        raise Http404("No such form here.")
    patient = _patient(request, record_id)
    return _answer(request, _page(request, patient, form, patient))

