"""Locking, unlocking and signing a record from the workspace (issue 12 §5).

    POST records/<id>/lock/          lock the whole record, or one instance (`form`, `instance`)
    GET|POST records/<id>/unlock/    the reason asked for, then the lock lifted
    GET|POST records/<id>/sign/      the meaning shown, the password asked again, then the signature

Doors only: registry/services/locks.py decides and writes; a user without the capability gets 403,
a record they do not see 404. The instrument pages ask `page_lock` and show a locked instance
read-only, naming the lock.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry.api.redcap.project import instrument_label
from registry.models import Patient, RecordLock
from registry.selectors.access import Capability, user_can, visible_patients
from registry.selectors.locks import NOTHING_LOCKED, record_locks
from registry.services.locks import (
    RECORD_FORMS, SIGNATURE_MEANING, LockError, instance_lock, instance_unlock, record_lock, record_sign,
    record_unlock,
)

WHOLE_RECORD_FIELD = ""  # the `form` posted for the whole record


def page_lock(patient: Patient, form: str, instance) -> RecordLock | None:
    """The lock that keeps this page's instance from changing (None: it may change); one query.
    A new instance is kept only by a whole-record lock."""
    locks = record_locks([patient.pk]).get(patient.pk, NOTHING_LOCKED)
    if form in RECORD_FORMS:
        return locks.lock_of(form, None)
    if instance is None or instance.pk is None:
        return locks.record
    return locks.lock_of(form, instance.redcap_repeat_instance)


def _patient(request, record_id: str, capability: Capability) -> Patient:
    patient = get_object_or_404(visible_patients(request.user), record_id=record_id)
    if not user_can(request.user, capability, site_id=patient.site_id):
        raise PermissionDenied("Your role may not lock, unlock or sign records." if capability == Capability.LOCK
                               else "Your role may not sign records.")
    return patient


def _target(data) -> tuple[str, int | None]:
    """(form, instance) posted: blank form for the whole record."""
    form = data.get("form", WHOLE_RECORD_FIELD)
    instance = data.get("instance") or None
    if instance is not None:
        if not str(instance).isdigit():
            raise Http404("No such instance.")
        instance = int(instance)
    return form, instance


def _back(patient: Patient, form: str, instance: int | None):
    if form == WHOLE_RECORD_FIELD:
        return redirect("workspace:record", record_id=patient.record_id)
    if form in RECORD_FORMS:
        return redirect("workspace:record_form", record_id=patient.record_id, form=form)
    if form == "tumor_assessment":
        return redirect("workspace:scan", record_id=patient.record_id, instance=instance)
    return redirect("workspace:instance", record_id=patient.record_id, form=form, instance=instance)


@login_required
@require_POST
def lock(request, record_id: str):
    patient = _patient(request, record_id, Capability.LOCK)
    form, instance = _target(request.POST)
    try:
        if form == WHOLE_RECORD_FIELD:
            made = record_lock(patient=patient, user=request.user)
        else:
            made = instance_lock(patient=patient, form=form, instance=instance, user=request.user)
    except LockError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Locked: {made.what}. It can no longer be changed or deleted through any door.")
    return _back(patient, form, instance)


class UnlockForm(forms.Form):
    form = forms.CharField(widget=forms.HiddenInput, required=False)
    instance = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label="Reason for unlocking", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500,
        help_text="Kept with the lock, who unlocked it and when.",
        error_messages={"required": "Say why this is unlocked: the reason is kept with the lock."})


@login_required
def unlock(request, record_id: str):
    patient = _patient(request, record_id, Capability.LOCK)
    form_name, instance = _target(request.POST if request.method == "POST" else request.GET)
    unlock_form = UnlockForm(request.POST if request.method == "POST" else None,
                             initial={"form": form_name, "instance": instance})
    if request.method == "POST" and unlock_form.is_valid():
        try:
            if form_name == WHOLE_RECORD_FIELD:
                lifted = record_unlock(patient=patient, user=request.user, reason=unlock_form.cleaned_data["reason"])
            else:
                lifted = instance_unlock(patient=patient, form=form_name, instance=instance, user=request.user,
                                         reason=unlock_form.cleaned_data["reason"])
        except LockError as error:
            unlock_form.add_error(None, str(error))
        else:
            messages.success(request, f"Unlocked: {lifted.what}. The reason is kept with the lock.")
            return _back(patient, form_name, instance)
    # Named as the record page names it ("treatment line #1"), not by the instrument's code.
    what = ("the whole record" if form_name == WHOLE_RECORD_FIELD
            else f"{instrument_label(form_name).lower()}{f' #{instance}' if instance else ''}")
    context = {"nav": "records", "page_title": f"Unlock {what} of {patient.record_id}", "patient": patient,
               "what": what, "form": unlock_form}
    return render(request, "workspace/record_unlock.html", context)


class SignForm(forms.Form):
    password = forms.CharField(label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Entered again to sign: the signature is yours alone.")


@login_required
def sign(request, record_id: str):
    patient = _patient(request, record_id, Capability.SIGN)
    sign_form = SignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and sign_form.is_valid():
        try:
            record_sign(patient=patient, user=request.user, password=sign_form.cleaned_data["password"],
                        meaning=SIGNATURE_MEANING)
        except LockError as error:
            sign_form.add_error(None, str(error))
        else:
            messages.success(request, f"Record {patient.record_id} signed.")
            return redirect("workspace:record", record_id=patient.record_id)
    context = {"nav": "records", "page_title": f"Sign record {patient.record_id}", "patient": patient,
               "meaning": SIGNATURE_MEANING, "form": sign_form}
    return render(request, "workspace/record_sign.html", context)
