"""What the registry's one-row settings tables (analysis settings, workspace settings) share: a change
is validated, written only when a value differs, and kept in the row's history with who and why."""
from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models


def setting_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The fields an administrator sets (not the key, not the time of the last change)."""
    return tuple(field.name for field in model._meta.concrete_fields if field.editable and field.name != "id")


def settings_row_update(
    model: type[models.Model], *, values: dict, user, reason: str, what: str,
    comparable: Callable[[models.Model], object] | None = None,
) -> tuple[models.Model, bool]:
    """Applies `values` to the one row (pk 1) of `model`, created at the first change, inside the caller's
    transaction (the row is locked). An unknown name or an invalid value raises ValidationError and
    nothing is written; values equal to the stored ones write nothing. Returns the row and whether it
    changed. `what` names the settings in messages; `comparable` (default: the setting values) tells
    whether anything changed."""
    names = setting_fields(model)
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValidationError({name: f"is not {what}" for name in unknown})
    comparable = comparable or (lambda row: {name: getattr(row, name) for name in names})
    stored = model.objects.select_for_update().filter(pk=1).first()
    is_new = stored is None
    if is_new:
        stored = model(pk=1)
    before = comparable(stored)
    for name, value in values.items():
        setattr(stored, name, value)
    stored.full_clean()  # also converts text ("84", "2024-06-30") to the field's type
    if not is_new and comparable(stored) == before:
        return stored, False
    stored._history_user = user
    stored._change_reason = reason
    stored.save()
    return stored, True
