"""The workspace settings in the admin: one row, read by anyone with a registry role, changed by
administrators only, through `workspace_settings_update` (which keeps the history). Like the analysis
settings (registry/admin/derived.py), but a change here re-derives nothing."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from registry.models import WorkspaceSettings
from registry.services.workspace_settings import workspace_settings_update

from .mixins import NulParametersRefusedMixin, ReadOnlyHistoryMixin, SettingsRowAdminMixin, UnseenIsMissingMixin


@admin.register(WorkspaceSettings)
class WorkspaceSettingsAdmin(SettingsRowAdminMixin, ReadOnlyHistoryMixin, NulParametersRefusedMixin,
                             UnseenIsMissingMixin, SimpleHistoryAdmin):
    """The worklist's intervals and the soft checks' thresholds. The history pages are read-only
    (ReadOnlyHistoryMixin): going back to earlier values is a change made on the change page."""

    list_display = (
        "__str__", "scan_interval_alk_tki_days", "scan_interval_chemotherapy_days", "scan_grace_days",
        "vital_status_days", "recent_days", "updated_at",
    )
    fieldsets = (
        ("Worklist", {"fields": (
            "scan_interval_alk_tki_days", "scan_interval_chemotherapy_days", "scan_interval_other_days",
            "scan_grace_days", "vital_status_days", "recent_days",
        )}),
        ("Soft checks", {"fields": ("target_change_percent", "scan_after_line_end_days")}),
        (None, {"fields": ("updated_at",)}),
    )
    settings_model = WorkspaceSettings
    settings_update = staticmethod(workspace_settings_update)
    readonly_fields = ("updated_at",)
