from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import AnatomicSite, LesionClass
from .instruments import RepeatingInstance


class Lesion(RepeatingInstance):
    """A lesion selected at a line's baseline (repeating instrument `lesion`).

    Lymph nodes (site = lymph node) are measured on the short axis.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="lesions")
    les_id = fields.text("Lesion identifier, unique within the patient (e.g. L1-T1)", max_length=30, identifies=True)
    les_line = fields.integer("Line number whose baseline selected this lesion", identifies=True)
    les_class = fields.coded(LesionClass, "Classification", required=True)
    les_site = fields.coded(AnatomicSite, "Site", required=True)
    lesion_complete = fields.record_status("Lesion")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "les_id"]
        constraints = [
            *RepeatingInstance.Meta.constraints,
            models.UniqueConstraint(fields=["patient", "les_id"], name="lesion_one_id_per_patient",
                                    violation_error_message="This patient already has a lesion with this identifier."),
        ]

    def __str__(self) -> str:
        return self.les_id
