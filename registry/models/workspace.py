"""What the coordinators' workspace needs beyond the case report form: its settings (the worklist's
intervals and the soft checks' thresholds) and the confirmations of values a soft check asked about.

Workspace settings are apart from the analysis settings on purpose: changing an interval here changes
what the worklist lists tomorrow, and re-derives nothing.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class WorkspaceSettings(models.Model):
    """The workspace's settings. One row (pk 1); administrators edit it in the admin, with its history."""

    scan_interval_alk_tki_days = models.PositiveIntegerField(
        "scan interval on an ALK TKI (days)", default=84,
        help_text="A follow-up scan is expected this many days after the last one during an ALK TKI line.")
    scan_interval_chemotherapy_days = models.PositiveIntegerField(
        "scan interval on chemotherapy (days)", default=42,
        help_text="The same during chemotherapy, with or without an anti-angiogenic.")
    scan_interval_other_days = models.PositiveIntegerField(
        "scan interval on other systemic therapy (days)", default=42,
        help_text="The same during immunotherapy-containing and other systemic therapy.")
    scan_grace_days = models.PositiveIntegerField(
        "grace period (days)", default=14,
        help_text="A scan is overdue once its interval plus this many days have passed.")
    vital_status_days = models.PositiveIntegerField(
        "vital status confirmed within (days)", default=180,
        help_text="A living patient whose last known alive date is older than this is listed for a vital status update.")
    recent_days = models.PositiveIntegerField(
        "recent changes (days)", default=7, help_text="Records changed within this many days are listed as recent.")
    target_change_percent = models.PositiveIntegerField(
        "target lesion change that asks for confirmation (%)", default=50,
        help_text="A target lesion whose diameter changes by more than this percentage between two scans is "
                  "asked about (a soft check), so that a typing slip (12 for 21 mm) is caught before it saves.")
    scan_after_line_end_days = models.PositiveIntegerField(
        "scan long after its line ended (days)", default=180,
        help_text="A scan this many days after the end of the last line, with no later line, is asked about.")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "workspace settings"
        verbose_name_plural = "workspace settings"

    def __str__(self) -> str:
        return "Workspace settings"

    @classmethod
    def current(cls) -> "WorkspaceSettings":
        """The one row (the defaults above until an administrator saves it); one query."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class SoftCheckConfirmation(models.Model):
    """A value a soft check asked about, confirmed as correct by a person: who and when.

    Keyed by the value itself: a confirmation holds while the field keeps the value confirmed and
    no longer applies once it changes. The data-quality rules read these as "verified as correct";
    the audit trail (registry/selectors/audit_trail.py) lists them as "confirmed" entries.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="soft_check_confirmations")
    form = models.CharField("instrument", max_length=50)
    instance = models.PositiveIntegerField(
        "instance", null=True, blank=True, help_text="The repeat instance; blank on a non-repeating form.")
    field = models.CharField(max_length=100)
    check_code = models.CharField("soft check", max_length=50)
    value = models.CharField("value confirmed", max_length=200)
    message = models.TextField("what the check said", blank=True, default="")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)
    door = models.CharField(max_length=30, help_text="Where it was confirmed: workspace, admin, import, api ...")
    # No HistoricalRecords: a confirmation is itself the record of who confirmed what and when, written
    # once and never changed (the audit trail lists these rows). django-simple-history's historical
    # rows also have an `instance` property, which the repeat-instance field above would clash with.

    class Meta:
        # One confirmation per value. Two partial constraints rather than one with nulls_distinct=False,
        # which SQLite cannot keep: a non-repeating form's confirmations have no instance number.
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "form", "instance", "field", "check_code", "value"],
                condition=models.Q(instance__isnull=False), name="soft_check_confirmed_once",
            ),
            models.UniqueConstraint(
                fields=["patient", "form", "field", "check_code", "value"],
                condition=models.Q(instance__isnull=True), name="soft_check_confirmed_once_on_a_form",
            ),
        ]
        indexes = [models.Index(fields=["patient", "form", "instance"])]

    def __str__(self) -> str:
        where = self.form if self.instance is None else f"{self.form} #{self.instance}"
        return f"{where} {self.field} = {self.value} ({self.check_code})"
