"""Full derivations fanned out in chunks of patients (issue 14): one run, its chunks and their progress.

A run is written when a full derivation starts (analysis settings changed, the nightly catch-up after
a rules version change, `derive` without --record); each chunk is a fixed list of patients derived in
one transaction by one Celery task (or one local process). Written only by
registry/services/derivation_runs.py; read-only in the admin.
"""
from django.conf import settings
from django.db import models


class DerivationRun(models.Model):
    class Trigger(models.TextChoices):
        SETTINGS = "settings", "analysis settings changed"
        REFRESH = "refresh", "missing, stale or outdated results (nightly, rules version)"
        COMMAND = "command", "derive command"

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    reason = models.CharField(max_length=200, blank=True, default="")
    rules_version = models.PositiveSmallIntegerField()
    settings_snapshot = models.JSONField(help_text="The analysis settings when the run started.")
    chunk_patients = models.PositiveIntegerField(help_text="Patients per chunk (one transaction each).")
    total_patients = models.PositiveIntegerField()
    total_chunks = models.PositiveIntegerField()
    # Kept by each chunk's own transaction, in the same statement that counts it: a chunk is counted
    # once, however often it runs.
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_failed = models.PositiveIntegerField(default=0)
    patients_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the last chunk was done or failed.")
    # The Celery task that recorded the run (derive_all), blank for one recorded otherwise: the broker
    # delivers a task again when its worker died before finishing it, and that delivery finds this run
    # and sends its chunks instead of recording a second run and leaving this one never sent.
    task_id = models.CharField(max_length=255, blank=True, default="",
                               help_text="The task that recorded the run (its redelivery resumes it).")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(chunks_done__lte=models.F("total_chunks")),
                                   name="derivation_run_done_within_total"),
            models.UniqueConstraint(fields=["task_id"], condition=~models.Q(task_id=""),
                                    name="derivation_run_one_per_task"),
        ]

    def __str__(self) -> str:
        return f"Derivation run {self.pk} ({self.get_trigger_display()})"

    @property
    def finished(self) -> bool:
        return self.chunks_done + self.chunks_failed >= self.total_chunks


class DerivationChunk(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    run = models.ForeignKey(DerivationRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    patient_ids = models.JSONField(help_text="The ids of the chunk's patients, in order.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker began it (retries included).")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    patients = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    assessments = models.PositiveIntegerField(default=0)
    biopsies = models.PositiveIntegerField(default=0)
    flags = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="derivation_chunk_number_once")]

    def __str__(self) -> str:
        return f"chunk {self.number} of run {self.run_id}"
