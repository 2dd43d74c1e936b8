"""The workspace settings (the worklist's intervals, the soft checks' thresholds): one row, changed by
administrators in the admin, with its history.

    workspace_settings_update(values={"scan_grace_days": 21}, user=administrator)

Unlike the analysis settings, a change here re-derives nothing: it changes what the worklist lists
and what the soft checks ask about, from the next page on.
"""
from django.core.exceptions import ValidationError
from django.db import transaction

from registry.models import WorkspaceSettings

SETTINGS_CHANGE_REASON = "workspace settings changed"
SETTING_FIELDS = tuple(
    field.name for field in WorkspaceSettings._meta.concrete_fields if field.name not in ("id", "updated_at")
)


def _values_of(settings: WorkspaceSettings) -> dict:
    return {name: getattr(settings, name) for name in SETTING_FIELDS}


@transaction.atomic
def workspace_settings_update(*, values: dict, user) -> WorkspaceSettings:
    """Changes the workspace settings, keeping the history (who, when, the values); the row (pk 1) is
    created at the first change.

    `values` maps setting names to new values (text is converted as a form would); an unknown name
    or an invalid value raises ValidationError and nothing is written. Values equal to the stored
    ones write nothing (no history row). The caller has checked that `user` may change them (the
    admin lets administrators only).
    """
    unknown = sorted(set(values) - set(SETTING_FIELDS))
    if unknown:
        raise ValidationError({name: "is not a workspace setting" for name in unknown})
    stored = WorkspaceSettings.objects.select_for_update().filter(pk=1).first()
    is_new = stored is None
    if is_new:
        stored = WorkspaceSettings(pk=1)
    before = _values_of(stored)
    for name, value in values.items():
        setattr(stored, name, value)
    stored.full_clean()  # also converts text ("84") to the field's type
    if not is_new and _values_of(stored) == before:
        return stored
    stored._history_user = user
    stored._change_reason = SETTINGS_CHANGE_REASON
    stored.save()
    return stored
