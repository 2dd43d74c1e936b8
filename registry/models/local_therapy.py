from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import AnatomicSite, LocalTherapyIntent, LocalTherapyType
from .instruments import RepeatingInstance


class LocalTherapy(RepeatingInstance):
    """Radiotherapy, surgery or ablation of one site (repeating instrument `local_therapy`).

    Local therapy never starts a new line of therapy (derivation rules §1).
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="local_therapies")
    lt_date = fields.date("Date of local therapy (start)", identifies=True)
    lt_type = fields.coded(LocalTherapyType, "Type", required=True)
    lt_site = fields.coded(AnatomicSite, "Treated site")
    lt_intent = fields.coded(LocalTherapyIntent, "Intent")
    local_therapy_complete = fields.record_status("Local therapy")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "lt_date", "redcap_repeat_instance"]
        verbose_name_plural = "local therapies"
        constraints = [*RepeatingInstance.Meta.constraints]

    def __str__(self) -> str:
        return f"{self.get_lt_type_display()} on {self.lt_date:%Y-%m-%d}" if self.lt_date else "local therapy"
