"""The log of identified exports: who took identified data out of the registry, through which door, when.

A row is written by registry/services/identified_exports.py at the moment an export holding identified
data (identifier fields, real record IDs and dates) is produced, whatever the door; de-identified
exports are not logged. Administrators read the log in the admin; nobody changes or deletes it.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportDoor(models.TextChoices):
    COMMAND_EXPORT_DATASET = "command export_dataset", "Command line: export_dataset"
    COMMAND_EXPORT_RECORDS = "command export_records", "Command line: export_records"
    ADMIN_EXPORT_JOB = "admin export job", "Admin: dataset export job"
    ADMIN_REDCAP_RECORDS = "admin redcap records", "Admin: REDCap records export"
    ADMIN_SPREADSHEET = "admin spreadsheet", "Admin: spreadsheet export"
    API_DATASET = "api dataset", "REST API: dataset"
    API_RECORD_LIST = "api record list", "REST API: list of patients or records (sync)"
    REDCAP_API = "redcap api", "REDCap API: record export"
    WORKSPACE_REPORT = "workspace report", "Workspace: saved report download"
    SERVICE = "service", "Direct call of the export service"


class IdentifiedExport(models.Model):
    """One identified export. `user` is None for the system (the command line without --user);
    `username` keeps the name should the account be deleted later."""

    exported_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="identified_exports",
    )
    username = models.CharField(max_length=150, blank=True, default="", help_text="Blank: the system.")
    door = models.CharField(max_length=30, choices=ExportDoor.choices)
    content = models.CharField(
        max_length=60,
        help_text="What was exported: a dataset's name, records, patients, or a spreadsheet's instrument.",
    )
    file_format = models.CharField("format", max_length=10, blank=True, default="")
    site_codes = models.CharField(
        "sites", max_length=500, blank=True, default="", help_text="The sites whose patients the export holds.",
    )
    record_count = models.PositiveIntegerField("records", null=True, blank=True,
                                               help_text="Patients exported (blank: not known).")
    parameters = models.JSONField(default=dict, blank=True, help_text="What the export was asked with.")

    class Meta:
        ordering = ["-exported_at", "-id"]
        indexes = [models.Index(fields=["user", "-exported_at"]), models.Index(fields=["door", "-exported_at"])]

    def __str__(self) -> str:
        who = self.username or "the system"
        return f"{self.content} by {who} ({self.get_door_display()}, {self.exported_at:%Y-%m-%d %H:%M} UTC)"
