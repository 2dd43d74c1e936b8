"""Confirmations of values a soft check asked about (registry/records/soft_checks.py): stored with who,
when and by which door, and read back so that a confirmed value is not asked about again."""
from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from registry.models import Patient, SoftCheckConfirmation
from registry.records.soft_checks import SoftCheck


def checks_unconfirmed(checks: Iterable[SoftCheck], *, patient_id: int | None) -> list[SoftCheck]:
    """The checks not yet confirmed for this value (one query; a new patient has none confirmed)."""
    checks = list(checks)
    if not checks or patient_id is None:
        return checks
    confirmed = set(SoftCheckConfirmation.objects.filter(patient_id=patient_id).values_list(
        "form", "instance", "field", "check_code", "value"))
    return [c for c in checks if (c.form, c.instance, c.field, c.code, c.value) not in confirmed]


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
