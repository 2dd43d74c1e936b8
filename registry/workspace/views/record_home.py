"""A patient's record home page, the enrolment of a new patient, and the deletion of an instance.

Doors only: the facts come from registry/selectors/record_home.py (a fixed number of queries), the
display values from registry/workspace/record_page.py and timeline.py, and every write goes through
registry/services/instances.py with the door "workspace". Access is asked on every request: a record
the user does not see answers 404; users who see but may not change it get the same page without
action links, and 403 on a write.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from registry.models import Patient
from registry.records.instruments import REPEATING_INSTRUMENTS
from registry.selectors.access import (
    Capability, can_change_patient, changeable_sites, may_see_identified, user_can, visible_patients,
)
from registry.selectors.locks import NOTHING_LOCKED, record_locks, record_signatures
from registry.selectors.queries import record_queries
from registry.selectors.record_home import record_home as record_home_facts
from registry.selectors.record_names import next_record_name
from registry.services.instances import RecordChangedMeanwhile, instances_delete
from registry.services.patient_versions import current_versions
from registry.services.queries import may_open

from ..forms import instrument_form_class
from ..record_page import FORM_LABELS, header, live_results, status_grid, stored_results
from ..saving import WORKSPACE_DOOR, FormSave, form_save
from ..timeline import drug_label, timeline_layout

# The reason of a deletion is kept in the audit trail beside the door ("workspace: <reason>"). The
# history column is a text column without a limit; this one keeps the trail readable.
DELETE_REASON_MAX_LENGTH = 500


@login_required
def record_home(request, record_id: str):
    today = timezone.localdate()
    home = record_home_facts(user=request.user, record_id=record_id, today=today)
    if home is None:
        raise Http404("No record you may see has this ID.")
    patient = home.patient
    identified = may_see_identified(request.user)
    locks = record_locks([patient.pk]).get(patient.pk, NOTHING_LOCKED)
    context = {
        "nav": "records",
        "page_title": f"Record {patient.record_id}",
        # A record locked as a whole offers no additions and no deletions (every door refuses them).
        "locks": locks,
        "signatures": record_signatures([patient.pk]).get(patient.pk, []),
        "may_lock": user_can(request.user, Capability.LOCK, site_id=patient.site_id),
        "may_sign": user_can(request.user, Capability.SIGN, site_id=patient.site_id),
        "home": home,
        "header": header(home),
        "identified": identified,
        "can_change": can_change_patient(request.user, patient) and locks.record is None,
        "timeline": timeline_layout(
            patient=patient, lines=home.lines, assessments=home.assessments, biopsies=home.biopsies,
            local_therapies=home.local_therapies, live=home.live, today=today, analysis_cutoff=home.analysis_cutoff),
        # Each form's row with its own lock, if any (a locked instance: no delete link, a lock badge).
        "grid": [(row, locks.instances.get((row.form, row.instance))) for row in status_grid(home)],
        "stored": stored_results(home),
        "live": live_results(home),
        "record_queries": record_queries(patient),
        "may_open_query": may_open(request.user, patient),
        "audit_trail_url": reverse("admin:registry_patient_audit_trail", args=[patient.pk])
        if request.user.is_staff else "",
    }
    return render(request, "workspace/record_home.html", context)


# ---------------------------------------------------------------- enrolment


class EnrolmentForm(forms.Form):
    """The site and record ID of a new patient; the enrollment instrument's fields come beside it."""

    site = forms.ModelChoiceField(queryset=None, label="Site", empty_label=None)
    # A model field's validators are the model's (full_clean); the form checks the same rule up front.
    record_id = Patient._meta.get_field("record_id").formfield(
        validators=Patient._meta.get_field("record_id").validators,
        label="Record ID", help_text="Proposed as the next number of the site (“<site id>-<n>”); you may change it.")

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean_record_id(self):
        record_id = self.cleaned_data["record_id"].strip()
        if Patient.objects.filter(record_id__iexact=record_id).exists():
            raise ValidationError("A record with this ID exists already (record IDs are unique in the registry, "
                                  "ignoring letter case).")
        return record_id


@login_required
def record_new(request):
    sites = changeable_sites(request.user).order_by("code")
    site_list = list(sites)
    if not site_list:
        raise PermissionDenied("You may not enrol patients.")
    identified = may_see_identified(request.user)
    form_class = instrument_form_class("enrollment", user_sees_identified=identified, missing_codes=True)
    chosen = _chosen_site(request, site_list)
    today = timezone.localdate()
    proposed = next_record_name(request.user, site_id=chosen.pk)
    save = FormSave(False)
    if request.method == "POST":
        enrolment = EnrolmentForm(request.POST, sites=sites)
        form = form_class(request.POST, instance=Patient())
        if request.POST.get("_branching"):
            return render(request, "workspace/includes/branching_state.html",
                          {"form_id": "enrol-form", "hidden": sorted(form.hidden_by_logic())})
        if enrolment.is_valid() & form.is_valid():
            form.instance.site = enrolment.cleaned_data["site"]
            form.instance.record_id = enrolment.cleaned_data["record_id"]
            try:
                save = form_save(request, form, patient=None, today=today, forms=["enrollment"])
            except ValidationError as error:
                _errors_to_forms(error, enrolment, form)
            if save.saved:
                messages.success(request, f"Record {form.instance.record_id} enrolled at {form.instance.site.code}.")
                return redirect("workspace:record", record_id=form.instance.record_id)
    else:
        enrolment = EnrolmentForm(initial={"site": chosen.pk, "record_id": proposed}, sites=sites)
        form = form_class(instance=Patient())
        if request.htmx and request.GET.get("site"):
            # The site choice changed: propose that site's next record ID (the field alone).
            return render(request, "workspace/includes/field.html", {"field": enrolment["record_id"]})
    context = {
        "nav": "enrol", "page_title": "Enrol a patient", "enrolment": enrolment, "form": form, "save": save,
        "fields": _fields_with_checks(form, save), "extra_errors": _enrolment_errors(enrolment),
        "hidden_by_logic": form.hidden_by_logic(),
        "one_site": len(site_list) == 1, "site": chosen,
    }
    return render(request, "workspace/record_new.html", context, status=200)


def _chosen_site(request, sites):
    wanted = request.POST.get("site") or request.GET.get("site")
    for site in sites:
        if str(site.pk) == wanted:
            return site
    return sites[0]


def _errors_to_forms(error: ValidationError, enrolment: EnrolmentForm, form) -> None:
    """A validation error of the save (the model's rules, checked under the record lock) shown on the
    field it is about; nothing was written."""
    for name, messages_ in error.message_dict.items():
        target = enrolment if name in enrolment.fields else form
        field = name if name in target.fields else None
        for message in messages_:
            target.add_error(field, message)


def _enrolment_errors(enrolment: EnrolmentForm) -> list[tuple[str, str]]:
    """The site's and record ID's errors, for the page's one error summary (beside the form's)."""
    if not enrolment.is_bound:
        return []
    return [(enrolment[name].auto_id, f"{enrolment[name].label}: {error}")
            for name, errors in enrolment.errors.items() if name in enrolment.fields for error in errors]


def _fields_with_checks(form, save: FormSave) -> list[tuple]:
    checks = save.checks_by_field
    return [(field, checks.get(field.name, [])) for field in form.visible_fields()]


# ---------------------------------------------------------------- deleting an instance


class DeleteForm(forms.Form):
    reason = forms.CharField(
        label="Reason for deleting", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=DELETE_REASON_MAX_LENGTH,
        help_text=f"Kept in the audit trail with the deletion (at most {DELETE_REASON_MAX_LENGTH} characters).",
        error_messages={"required": "Say why this is deleted: the reason is kept in the audit trail."},
    )
    record_version = forms.CharField(widget=forms.HiddenInput, required=False)
    loaded_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)


def _deletion(form: str, instance) -> tuple[str, list]:
    """What is deleted, in words, and the instances deleted with it (each gets the reason in the trail)."""
    label = FORM_LABELS[form]
    children, noun = [], ""
    if form == "tumor_assessment":
        children, noun = list(instance.measurements.all()), "lesion measurement"
        text = f"Tumour assessment {instance.ta_date:%Y-%m-%d}"
    elif form == "biopsy":
        children, noun = list(instance.variants.all()), "NGS variant"
        text = f"Biopsy {instance.bx_date:%Y-%m-%d}"
    elif form == "lesion":
        children, noun = list(instance.measurements.all()), "measurement"
        text = f"Lesion {instance.les_id}"
    elif form == "treatment_line":
        text = f"Treatment line {instance.line_no} ({drug_label(instance)}, started {instance.line_start:%Y-%m-%d})"
    elif form == "local_therapy":
        text = f"Local therapy {instance.lt_date:%Y-%m-%d} ({instance.get_lt_type_display()})"
    elif form == "ngs_variant":
        text = f"NGS variant {instance} of the biopsy {instance.biopsy.bx_date:%Y-%m-%d}"
    else:
        text = f"{label} #{instance.redcap_repeat_instance}"
    if children:
        text += f" and its {len(children)} {noun}{'' if len(children) == 1 else 's'}"
    return text, children


@login_required
def instance_delete(request, record_id: str, form: str, instance: int):
    instrument = REPEATING_INSTRUMENTS.get(form)
    if instrument is None:
        raise Http404("Only instances of repeating instruments are deleted here.")
    patient = visible_patients(request.user).select_related("site").filter(record_id=record_id).first()
    if patient is None:
        raise Http404("No record you may see has this ID.")
    if not can_change_patient(request.user, patient):
        raise PermissionDenied("You may read this record, not change it.")
    target = instrument.model.objects.filter(patient=patient, redcap_repeat_instance=instance).first()
    if target is None:
        raise Http404("This record has no such instance.")
    description, children = _deletion(form, target)
    save = FormSave(False)
    conflict_changes = []
    if request.method == "POST":
        delete_form = DeleteForm(request.POST)
        if delete_form.is_valid():
            door = f"{WORKSPACE_DOOR}: {delete_form.cleaned_data['reason']}"
            try:
                # The children first, each with the reason in its history row (a database cascade would
                # delete them without it).
                instances_delete(instances=[*children, target], user=request.user, door=door,
                                 expected_version=delete_form.cleaned_data["record_version"] or None)
            except RecordChangedMeanwhile as conflict:
                save = FormSave(False, conflict=conflict)
                conflict_changes = save.conflict_changes(since=delete_form.cleaned_data.get("loaded_at"))
                data = delete_form.data.copy()
                data["record_version"] = conflict.current_version
                data["loaded_at"] = timezone.now().isoformat()
                delete_form = DeleteForm(data)
                delete_form.is_valid()
            else:
                messages.success(request, f"Deleted: {description}. The reason is kept in the audit trail.")
                return redirect("workspace:record", record_id=patient.record_id)
    else:
        delete_form = DeleteForm(initial={
            "record_version": current_versions([patient.pk])[patient.pk], "loaded_at": timezone.now().isoformat()})
    context = {
        "nav": "records", "page_title": f"Delete from {patient.record_id}", "patient": patient,
        "description": description, "form": delete_form, "save": save, "conflict_changes": conflict_changes,
    }
    return render(request, "workspace/instance_delete.html", context)
