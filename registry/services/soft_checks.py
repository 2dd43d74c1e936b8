"""Confirmations of values a soft check asked about (registry/records/soft_checks.py): stored with who,
when and by which door, and read back so that a confirmed value is not asked about again; and the
warnings the imports and APIs answer for what they wrote."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from registry.models import LesionMeasurement, Patient, SoftCheckConfirmation, TumorAssessment, WorkspaceSettings
from registry.records.soft_checks import (
    MeasurementValues, SoftCheck, SoftCheckWarning, checked_attributes, instances_soft_checks, measurements_soft_checks,
    soft_check_warnings,
)

# Instances whose checks are computed together by written_warnings (a chunk costs a fixed number of queries).
WARNING_CHUNK = 1000


def _confirmation_key(check: SoftCheck) -> tuple:
    return (check.form, check.instance, check.field, check.code, check.value)


def checks_unconfirmed(checks: Iterable[SoftCheck], *, patient_id: int | None) -> list[SoftCheck]:
    """The checks not yet confirmed for this value (one query; a new patient has none confirmed)."""
    checks = list(checks)
    if not checks or patient_id is None:
        return checks
    confirmed = set(SoftCheckConfirmation.objects.filter(patient_id=patient_id).values_list(
        "form", "instance", "field", "check_code", "value"))
    return [c for c in checks if _confirmation_key(c) not in confirmed]


def checks_unconfirmed_by_patient(checks: Mapping[int, list[SoftCheck]]) -> dict[int, list[SoftCheck]]:
    """checks_unconfirmed for many patients at once (one query)."""
    wanted = {patient_id for patient_id, found in checks.items() if found}
    if not wanted:
        return {patient_id: list(found) for patient_id, found in checks.items()}
    confirmed = set(SoftCheckConfirmation.objects.filter(patient_id__in=wanted).values_list(
        "patient_id", "form", "instance", "field", "check_code", "value"))
    return {patient_id: [c for c in found if (patient_id, *_confirmation_key(c)) not in confirmed]
            for patient_id, found in checks.items()}


@transaction.atomic
def soft_checks_confirm(*, patient: Patient, checks: Iterable[SoftCheck], user, door: str) -> list[SoftCheckConfirmation]:
    """Stores a confirmation of each check (already confirmed ones are kept as they are). The instance
    numbers must be known: call after the instances are saved."""
    stored = []
    for check in checks:
        confirmation, _ = SoftCheckConfirmation.objects.get_or_create(
            patient=patient, form=check.form, instance=check.instance, field=check.field,
            check_code=check.code, value=check.value,
            defaults={"message": check.message, "confirmed_by": user, "door": door},
        )
        stored.append(confirmation)
    return stored


def written_warnings(written: Mapping[type, Iterable[int]], *, today: date | None = None,
                     settings=None) -> list[SoftCheckWarning]:
    """The warnings of the instances an import (or an API write) has just written, in the writer's
    transaction: their soft checks not confirmed yet, each with its record ID. `written`: the ids
    written, by model (Patient or a repeating instrument's).

    Queries: the settings (unless given; only for assessments and measurements), then per model and chunk of WARNING_CHUNK ids: the instances
    (with their record ID; measurements with their assessment's date), check_context's (at most
    three) and the confirmations (one)."""
    today = today or timezone.localdate()
    warnings: list[SoftCheckWarning] = []
    ids_by_model = {model: sorted(set(ids)) for model, ids in written.items()}
    if not any(ids_by_model.values()):
        return warnings
    if settings is None and any(ids_by_model.get(model) for model in (TumorAssessment, LesionMeasurement)):
        settings = WorkspaceSettings.current()  # once, not per chunk; only the checks of these two read it
    for model, ids in ids_by_model.items():
        for start in range(0, len(ids), WARNING_CHUNK):
            if model is LesionMeasurement:
                # Read as values, not instances: most rows of an import are measurements.
                found = measurements_soft_checks(
                    _measurement_values(ids[start:start + WARNING_CHUNK]), today=today, settings=settings)
            else:
                found = instances_soft_checks(
                    _checked_instances(model, ids[start:start + WARNING_CHUNK]), today=today, settings=settings)
            by_patient: dict[int, list[SoftCheck]] = {}
            record_of: dict[int, str] = {}
            for instance, checks in found:
                patient_id = instance.pk if model is Patient else instance.patient_id
                record_of[patient_id] = instance.record_id if model is Patient else instance.soft_check_record_id
                by_patient.setdefault(patient_id, []).extend(checks)
            for patient_id, checks in checks_unconfirmed_by_patient(by_patient).items():
                warnings.extend(soft_check_warnings(checks, record=record_of[patient_id]))
    return sorted(warnings, key=lambda w: (w.record, w.form, w.instance or 0, w.field, w.check))


def _measurement_values(ids: list[int]) -> list[MeasurementValues]:
    """The measurements whose checks written_warnings computes, as values, in one query (with their
    assessment's date and their record ID, joined)."""
    return [MeasurementValues(*row) for row in LesionMeasurement.objects.filter(pk__in=ids).order_by().values_list(
        *MeasurementValues._fields[:5], "assessment__ta_date", "patient__record_id")]


def _checked_instances(model, ids: list[int]):
    """The instances whose checks written_warnings computes, in one query: the fields the checks
    read (checked_attributes; building instances of every field was most of the time); an
    instrument's record ID as `soft_check_record_id` (joined, not a Patient instance each: an import
    checks hundreds of thousands of rows). Measurements are read as values instead
    (_measurement_values)."""
    # Unordered (the warnings are sorted in the end): the default ordering joins the patient, and
    # for some instruments another table, only to sort.
    instances = model.objects.filter(pk__in=ids).order_by()
    fields = checked_attributes(model)
    if fields is None:
        # No check reads a row's timestamps (updated_at), and no dictionary field is one: left unread.
        instances = instances.defer(*(field.name for field in model._meta.concrete_fields
                                      if isinstance(field, models.DateTimeField)))
    else:
        instances = instances.only(*fields)
    if model is Patient:
        return instances
    return instances.annotate(soft_check_record_id=F("patient__record_id"))


def confirmed_values(*, code_prefix: str, codes: Iterable[str] = ()) -> set[tuple]:
    """Every confirmation whose check code starts with `code_prefix` or is one of `codes`, as
    (patient id, form, instance, field, check code, value): what a data-quality run reads to leave
    out the hits verified as correct (one query)."""
    condition = Q(check_code__startswith=code_prefix)
    for code in codes:
        condition |= Q(check_code=code)
    return set(SoftCheckConfirmation.objects.filter(condition).values_list(
        "patient_id", "form", "instance", "field", "check_code", "value"))
