from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import MeasurementStatus
from .instruments import RepeatingInstance


class LesionMeasurement(RepeatingInstance):
    """One lesion at one assessment (repeating instrument `lesion_measurement`).

    In REDCap's flat format the measurement names its assessment by date (`lm_date`) and its
    lesion by identifier (`lm_lesion`); here both are foreign keys, so renaming a lesion or
    correcting an assessment date carries the measurements along.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="lesion_measurements")
    assessment = models.ForeignKey(
        "registry.TumorAssessment", on_delete=models.CASCADE, related_name="measurements",
        verbose_name="Assessment date (must equal a tumor assessment date of this patient)",
    )
    lesion = models.ForeignKey(
        "registry.Lesion", on_delete=models.CASCADE, related_name="measurements",
        verbose_name="Lesion identifier (les_id)",
    )
    lm_status = fields.coded(MeasurementStatus, "Status", required=True)
    lm_mm = fields.number("Diameter in mm (long axis; short axis for lymph nodes)")
    lesion_measurement_complete = fields.record_status("Lesion measurement")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "assessment__ta_date", "lesion__les_id"]
        constraints = [
            *RepeatingInstance.Meta.constraints,
            models.UniqueConstraint(fields=["assessment", "lesion"], name="lesion_measurement_one_per_assessment",
                                    violation_error_message="This lesion already has a measurement at this assessment."),
        ]

    def __str__(self) -> str:
        return f"measurement #{self.redcap_repeat_instance}"

    def clean(self) -> None:
        errors = {}
        if self.patient_id is not None:
            if self.assessment_id is not None and self.assessment.patient_id != self.patient_id:
                errors["assessment"] = "The assessment belongs to another patient."
            if self.lesion_id is not None and self.lesion.patient_id != self.patient_id:
                errors["lesion"] = "The lesion belongs to another patient."
        # A missing-data code in lm_mm (e.g. UNK) answers it: measured, diameter unknown (rules §0 v2).
        if self.lm_status == MeasurementStatus.MEASURED and self.lm_mm is None and not self.lm_mm_missing:
            errors["lm_mm"] = "A measured lesion needs its diameter in mm."
        if self.lm_status not in (None, MeasurementStatus.MEASURED) and self.lm_mm is not None:
            errors["lm_mm"] = (
                f"A diameter is recorded only when the lesion was measured; the status is "
                f"'{MeasurementStatus(self.lm_status).label}'."
            )
        if errors:
            raise ValidationError(errors)
