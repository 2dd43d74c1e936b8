"""The workspace settings (the worklist's intervals, the soft checks' thresholds): one row, changed by
administrators in the admin, with its history.

    workspace_settings_update(values={"scan_grace_days": 21}, user=administrator)

Unlike the analysis settings, a change here re-derives nothing: it changes what the worklist lists
and what the soft checks ask about, from the next page on.
"""
from django.db import transaction

from registry.models import WorkspaceSettings
from registry.services.settings_rows import setting_fields, settings_row_update

SETTINGS_CHANGE_REASON = "workspace settings changed"
SETTING_FIELDS = setting_fields(WorkspaceSettings)


@transaction.atomic
def workspace_settings_update(*, values: dict, user) -> WorkspaceSettings:
    """Changes the workspace settings, keeping the history (who, when, the values); the row (pk 1) is
    created at the first change.

    `values` maps setting names to new values (text is converted as a form would); an unknown name
    or an invalid value raises ValidationError and nothing is written. Values equal to the stored
    ones write nothing (no history row). The caller has checked that `user` may change them (the
    admin lets administrators only).
    """
    stored, _ = settings_row_update(
        WorkspaceSettings, values=values, user=user, reason=SETTINGS_CHANGE_REASON, what="a workspace setting")
    return stored
