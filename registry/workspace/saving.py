"""Saving one instrument form from the workspace: the steps every form page shares.

    1. values left in fields that branching logic hides: the coordinator chooses to clear or keep them;
    2. soft checks (registry/records/soft_checks.py) not confirmed yet: asked beside their fields;
    3. the save itself, through `instance_save` (record lock, version check, validation, audit trail,
       re-derivation, version bump) with the confirmations ticked, in one transaction;
    4. a record changed meanwhile (RecordChangedMeanwhile): nothing is written, the page keeps what the
       user typed and says who changed the record and when.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from registry.models import Patient
from registry.selectors.audit_trail import AuditEntry, audit_trail
from registry.records.soft_checks import SoftCheck, instance_soft_checks
from registry.services.instances import RecordChangedMeanwhile, instance_save, instances_save
from registry.services.soft_checks import checks_unconfirmed, soft_checks_confirm

WORKSPACE_DOOR = "workspace"
HIDDEN_VALUES_DECISION = "hidden_values"  # POST field: "clear" or "keep"
CONFIRM_CHECK = "confirm_check"  # POST field, one per confirmed check: its key


@dataclass
class FormSave:
    saved: bool
    conflict: RecordChangedMeanwhile | None = None
    asking: list[SoftCheck] = field(default_factory=list)  # soft checks waiting for a confirmation
    hidden_values: list[str] = field(default_factory=list)  # hidden fields holding values, to clear or keep

    def conflict_changes(self, *, since) -> list[AuditEntry]:
        """What was changed in the record since the page was loaded (`since`; None: the last change),
        newest first, from the audit trail: who, when, which fields from what to what."""
        if self.conflict is None:
            return []
        patient_id = Patient.objects.filter(record_id=self.conflict.record_id).values_list("pk", flat=True).first()
        if patient_id is None:
            return []
        if since is None and self.conflict.last_change.changed_at is not None:
            since = self.conflict.last_change.changed_at
        return audit_trail(patient_ids=[patient_id], since=since)

    @property
    def checks_by_field(self) -> dict[str, list[SoftCheck]]:
        found: dict[str, list[SoftCheck]] = {}
        for check in self.asking:
            found.setdefault(check.field, []).append(check)
        return found


def confirmed_keys(post) -> set[str]:
    return set(post.getlist(CONFIRM_CHECK))


def form_save(request, form, *, patient: Patient | None, today: date, forms: list[str] | None = None,
              door: str = WORKSPACE_DOOR, related: Sequence = (), deleted: Sequence[Model] = ()) -> FormSave:
    """Saves a valid InstrumentForm's instance, or says what stands in the way (nothing written then).
    `patient` is the record (None while enrolling a new patient); `forms` the dictionary forms the page
    shows (a patient holds two). `related` are valid InstrumentForms of instances saved with it and
    `deleted` instances deleted with it (a line's baseline lesions, a biopsy's NGS variants), all in
    one transaction (`instances_save`); a hidden field of a related form is named with its prefix."""
    page_forms = [form, *related]
    hidden = [page_form.add_prefix(name) for page_form in page_forms for name in page_form.values_in_hidden_fields()]
    decision = request.POST.get(HIDDEN_VALUES_DECISION, "")
    if hidden and decision not in ("clear", "keep"):
        return FormSave(False, hidden_values=hidden)
    if hidden and decision == "clear":
        for page_form in page_forms:
            page_form.clear_fields(page_form.values_in_hidden_fields())
    instance = form.instance
    # Each instance with the forms its checks read: the page's `forms` for the main one, its own for the others.
    checked = [(instance, forms), *((page_form.instance, None) for page_form in related)]
    checks_of = [instance_soft_checks(each, today=today, forms=each_forms) for each, each_forms in checked]
    instances = [each for each, _ in checked]
    checks = [check for found in checks_of for check in found]
    ticked = confirmed_keys(request.POST)
    asking = [check for check in checks_unconfirmed(checks, patient_id=patient.pk if patient else None)
              if check.key not in ticked]
    if asking:
        return FormSave(False, asking=asking)
    expected = form.cleaned_data.get("record_version") or None
    expected = expected if patient is not None else None
    try:
        with transaction.atomic():
            if related or deleted:
                instances_save(saved=[instance, *(page_form.instance for page_form in related)], deleted=deleted,
                               user=request.user, door=door, expected_version=expected)
            else:
                instance_save(instance=instance, user=request.user, door=door, expected_version=expected)
            ticked_checks_confirm(patient=patient or instance, checked=list(zip(instances, checks_of, strict=True)),
                                  ticked=ticked, user=request.user, door=door)
    except RecordChangedMeanwhile as conflict:
        return FormSave(False, conflict=conflict)
    return FormSave(True)


def ticked_checks_confirm(*, patient: Patient, checked: Sequence[tuple[Model, Sequence[SoftCheck]]], ticked: set[str],
                          user, door: str) -> None:
    """Stores a confirmation of every check the user ticked, inside the save and after it: `checked` pairs
    each instance with the checks it raised before it was saved. A new instance got its number from the
    save, the one thing its checks lacked, so the checks are numbered here rather than run again."""
    confirmed = [
        replace(check, instance=getattr(instance, "redcap_repeat_instance", None))
        for instance, checks in checked for check in checks if check.key in ticked
    ]
    if confirmed:
        soft_checks_confirm(patient=patient, checks=confirmed, user=user, door=door)


def form_rebased(form, conflict: RecordChangedMeanwhile):
    """The bound form, still holding what the user typed, now carrying the record's current version:
    once the user has seen the change made meanwhile, saving again applies theirs over it."""
    data = form.data.copy()
    data[form.add_prefix("record_version")] = conflict.current_version
    data[form.add_prefix("loaded_at")] = timezone.now().isoformat()
    form.data = data
    return form


def form_data_without_hidden_values(data, page_forms):
    """A copy of the POST `data` with the values of fields that branching logic hides emptied, in each
    of `page_forms` (bound InstrumentForms): what "delete those values" means before validation, so
    that a value the model refuses where its field does not apply (an 'other regimen' once the regimen
    is not 'Other') is deleted rather than reported."""
    data = data.copy()
    for page_form in page_forms:
        for name in page_form.values_in_hidden_fields():
            data.setlist(page_form.add_prefix(name), [])
    return data
