"""Data-quality rules (REDCap's "Data Quality" module, adapted): custom rules written in REDCap's
logic, the runs of all rules, and the hits each run found.

The built-in rules (A, B, C, D, E, F, G, I) and the derivation's flags are code, not rows
(registry/records/data_quality.py lists them); a custom rule is a row here. "Verified as correct"
is not stored on a hit: it is a SoftCheckConfirmation of the hit's value (the model the workspace's
confirmed soft checks use), which holds until the value changes; `QualityRuleHit.verified` is a
copy of that answer made when the run stored the hit or when the hit was verified, for counting.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords


class QualityRule(models.Model):
    """A custom data-quality rule: a hit wherever its logic holds (`[ta_date] > [death_date]`)."""

    name = models.CharField(max_length=200, unique=True)
    logic = models.TextField(
        help_text="REDCap logic that holds on the values in error, e.g. [ta_date] > [death_date]. It may name "
                  "the fields of one repeating instrument at most (one hit per instance), together with the "
                  "record's enrollment and vital-status fields.")
    active = models.BooleanField(default=True, help_text="Inactive rules are kept but not run.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from registry.records.data_quality import CustomRuleError, custom_rule_logic

        try:
            custom_rule_logic(self.logic)
        except CustomRuleError as error:
            raise ValidationError({"logic": str(error)}) from None

    @property
    def code(self) -> str:
        """The rule's code on hits and in addresses."""
        return f"custom-{self.pk}"


class QualityRuleRun(models.Model):
    """One run of every active rule over every record."""

    class Trigger(models.TextChoices):
        WORKSPACE = "workspace", "on demand (workspace)"
        NIGHTLY = "nightly", "nightly"
        COMMAND = "command", "management command"

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    records = models.PositiveIntegerField(default=0)
    hit_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"data-quality run of {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class QualityRuleHit(models.Model):
    """A value (or a record, for a derivation flag) that a rule found in one run."""

    run = models.ForeignKey(QualityRuleRun, on_delete=models.CASCADE, related_name="hits")
    rule = models.CharField(max_length=80, help_text="A, B, C, D, E, F, G, I, flag-<code> or custom-<id>.")
    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("registry.Site", on_delete=models.CASCADE, related_name="+")
    record_id = models.CharField(max_length=100)
    form = models.CharField("instrument", max_length=50)
    instance = models.PositiveIntegerField(null=True, blank=True, help_text="Blank on a non-repeating form.")
    field = models.CharField(max_length=100, blank=True, default="")
    value = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField()
    verified = models.BooleanField(default=False, help_text="Verified as correct (a confirmation of this value).")

    class Meta:
        indexes = [models.Index(fields=["run", "rule", "site"])]

    def __str__(self) -> str:
        where = self.form if self.instance is None else f"{self.form} #{self.instance}"
        return f"{self.rule}: {self.record_id} {where} {self.field}"
