"""Exports requested in the admin or the REST API and written in the background
(registry/services/export_jobs.py)."""
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .identified_exports import ExportDoor

# Where an export job is asked for: the admin's page, or POST /api/v1/datasets/{name}/jobs/.
JOB_DOORS = (ExportDoor.ADMIN_EXPORT_JOB, ExportDoor.API_DATASET)


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


class ExportJob(models.Model):
    """One export of one dataset in one format, for the user who asked for it.

    `file_name` is the zip under settings.EXPORTS_DIR (data file, codebook and provenance) once the
    job is done; only its requester may download it, and only while still allowed to. `door` is where
    it was asked for (the admin or the REST API), and what an identified export's log names.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    dataset = models.CharField(max_length=40)
    file_format = models.CharField("format", max_length=10)
    deidentified = models.BooleanField("de-identified")
    site = models.ForeignKey(
        "registry.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Only this site's patients; blank: every site the requester sees.",
    )
    cut = models.ForeignKey(
        "registry.DataCut", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Export from this frozen data cut; blank: from the live records.",
    )
    door = models.CharField(
        max_length=40, choices=[(door.value, door.label) for door in JOB_DOORS],
        default=ExportDoor.ADMIN_EXPORT_JOB, help_text="Where the export was asked for.",
    )
    status = models.CharField(max_length=10, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED)
    patients_done = models.PositiveIntegerField(default=0)
    patients_total = models.PositiveIntegerField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(patients_total__isnull=True) | Q(patients_done__lte=F("patients_total")),
                name="export_job_progress_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExportJobStatus.DONE) | ~Q(file_name=""),
                name="export_job_done_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset}.{self.file_format} for {self.requested_by} ({self.get_status_display()})"
