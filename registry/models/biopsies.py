from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import AnatomicSite, BiopsyHistology, Specimen
from .instruments import RepeatingInstance


class Biopsy(RepeatingInstance):
    """A tissue or liquid biopsy (repeating instrument `biopsy`); one per date per patient."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="biopsies")
    bx_date = fields.date("Biopsy date", identifies=True)
    bx_specimen = fields.coded(Specimen, "Specimen", required=True)
    bx_site = fields.coded(AnatomicSite, "Biopsied site")
    bx_adequate = fields.yes_no("Sample adequate for analysis")
    bx_histology = fields.coded(BiopsyHistology, "Histology of this specimen (same codes as the diagnosis histology)")
    bx_ngs = fields.yes_no("Next-generation sequencing performed")
    bx_ngs_panel = fields.text("NGS panel (vendor and number of genes)")
    biopsy_complete = fields.record_status("Biopsy")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "bx_date"]
        verbose_name_plural = "biopsies"
        constraints = [
            *RepeatingInstance.Meta.constraints,
            models.UniqueConstraint(fields=["patient", "bx_date"], name="biopsy_one_per_date",
                                    violation_error_message="This patient already has a biopsy on this date."),
        ]

    def __str__(self) -> str:
        return f"biopsy {self.bx_date:%Y-%m-%d}" if self.bx_date else "biopsy"
