"""Frozen data cuts (issue 12 §6): the records and their derived results as they stood when an
administrator froze them, kept unchanged for analyses to be produced again from them.

Storage is content-addressed: each distinct content (a record's canonical content, a patient's
derived results with the dataset rows they give) is one `DataCutBlob`, stored once, compressed, and
named by the SHA-256 of its uncompressed bytes; a cut is an index of `DataCutEntry` rows, one per
record, pointing at its two blobs. A second cut of mostly unchanged records adds little more than
its index. Written only by registry/services/data_cuts.py; nothing updates or deletes a cut.
"""
from django.conf import settings
from django.db import models


class DataCutScope(models.TextChoices):
    ALL = "all", "All records"
    LOCKED = "locked", "Locked records only"


class DataCutBlob(models.Model):
    """One content, stored once whatever the number of cuts that hold it."""

    sha256 = models.CharField("SHA-256", max_length=64, unique=True, help_text="Of the uncompressed content.")
    data = models.BinaryField(help_text="The content, zlib-compressed.")
    size_bytes = models.PositiveIntegerField(help_text="Uncompressed size.")

    class Meta:
        verbose_name = "data cut blob"

    def __str__(self) -> str:
        return self.sha256[:12]


class DataCut(models.Model):
    """A named, immutable data cut. `content_hash` is the SHA-256 of its canonical index
    (registry/services/data_cuts.py `cut_content_hash`): two cuts with the same hash hold the same
    records and results."""

    name = models.CharField(max_length=100, unique=True)
    cutoff = models.DateField("data cut-off date")
    scope = models.CharField(max_length=10, choices=DataCutScope.choices, default=DataCutScope.ALL)
    rules_version = models.PositiveSmallIntegerField()
    settings_snapshot = models.JSONField(help_text="The analysis settings when the cut was frozen.")
    content_hash = models.CharField(max_length=64)
    patients = models.PositiveIntegerField()
    stale_patients = models.PositiveIntegerField(help_text="Records whose results were stale when frozen.")
    not_derived_patients = models.PositiveIntegerField(help_text="Records without derived results when frozen.")
    new_blob_bytes = models.PositiveBigIntegerField(
        help_text="Compressed bytes of the contents this cut stored first (the others were already stored).")
    frozen_at = models.DateTimeField()
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Blank: frozen from the command line as the system.")

    class Meta:
        ordering = ["-frozen_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DataCutEntry(models.Model):
    """One record of a cut: its site then and the blobs of its content and its results."""

    cut = models.ForeignKey(DataCut, on_delete=models.PROTECT, related_name="entries")
    record_id = models.CharField(max_length=100)
    site = models.ForeignKey("registry.Site", on_delete=models.PROTECT, related_name="+")
    site_code = models.CharField(max_length=30, help_text="The site's code when the cut was frozen.")
    # No index of their own: blobs are looked up from entries, never entries from blobs.
    record_blob = models.ForeignKey(DataCutBlob, on_delete=models.PROTECT, related_name="+", db_index=False)
    results_blob = models.ForeignKey(DataCutBlob, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        verbose_name_plural = "data cut entries"
        constraints = [models.UniqueConstraint(fields=["cut", "record_id"], name="data_cut_entry_one_per_record")]

    def __str__(self) -> str:
        return f"{self.cut} / {self.record_id}"
