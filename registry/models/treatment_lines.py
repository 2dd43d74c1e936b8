from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from . import fields
from .choices import (
    CHEMOTHERAPY_REGIMENS, TKI_GENERATION_BY_REGIMEN, Ecog, LineEndReason, LineType, Regimen, TkiGeneration,
)
from .instruments import RepeatingInstance


class TreatmentLine(RepeatingInstance):
    """One line of systemic therapy for advanced disease (repeating instrument `treatment_line`)."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="treatment_lines")
    line_no = fields.integer("Line number", identifies=True)
    line_type = fields.coded(LineType, "Type of systemic therapy", required=True)
    line_drug = fields.coded(Regimen, "Regimen", required=True)
    line_drug_other = fields.text("Other regimen, specify")
    line_tki_generation = fields.coded(TkiGeneration, "Generation of this other ALK inhibitor")
    line_start = fields.date("Start date", identifies=True)
    line_end = fields.date("End date (blank while ongoing)")
    line_end_reason = fields.coded(LineEndReason, "Reason the line ended")
    line_ecog = fields.coded(Ecog, "ECOG performance status at start of line")
    line_cns_mets = fields.yes_no("Brain or leptomeningeal metastases present at start of line")
    line_beyond_pd = fields.yes_no("Continued beyond radiological progression")
    treatment_line_complete = fields.record_status("Treatment line")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "line_no"]
        constraints = [
            *RepeatingInstance.Meta.constraints,
            models.UniqueConstraint(fields=["patient", "line_no"], name="treatment_line_one_number_per_patient",
                                    violation_error_message="This patient already has a line with this number."),
            models.CheckConstraint(
                condition=Q(line_end__isnull=True) | Q(line_end__gte=F("line_start")),
                name="treatment_line_end_not_before_start",
                violation_error_message="A line cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id and self.patient.record_id} line {self.line_no}"

    @property
    def tki_generation(self) -> int | None:
        """The ALK TKI generation of this line, or None when it is not an ALK TKI line."""
        if self.line_type != LineType.ALK_TKI:
            return None
        if self.line_drug == Regimen.OTHER:
            return self.line_tki_generation
        return TKI_GENERATION_BY_REGIMEN.get(self.line_drug)

    def clean(self) -> None:
        errors = {}
        if self.line_start and self.line_end and self.line_end < self.line_start:
            errors["line_end"] = (
                f"The line cannot end ({self.line_end:%Y-%m-%d}) before it starts ({self.line_start:%Y-%m-%d})."
            )
        if self.line_end_reason is not None and self.line_end is None and not self.line_end_missing:
            # A coded end date (e.g. UNK) says the line ended on a date not known: its reason may be given.
            errors["line_end_reason"] = "A reason the line ended needs the end date of the line."
        if self.line_type == LineType.ALK_TKI and self.line_drug in CHEMOTHERAPY_REGIMENS:
            errors["line_drug"] = (
                f"{Regimen(self.line_drug).label} is chemotherapy, but the line is recorded as an ALK tyrosine "
                "kinase inhibitor."
            )
        if self.line_type in (LineType.CHEMOTHERAPY, LineType.CHEMOTHERAPY_ANTIANGIOGENIC) and (
            self.line_drug in TKI_GENERATION_BY_REGIMEN
        ):
            errors["line_drug"] = (
                f"{Regimen(self.line_drug).label} is an ALK tyrosine kinase inhibitor, but the line is recorded "
                "as chemotherapy."
            )
        if self.line_drug == Regimen.OTHER and not self.line_drug_other.strip():
            errors["line_drug_other"] = "Name the regimen when it is 'Other'."
        if self.line_drug_other.strip() and self.line_drug not in (None, Regimen.OTHER):
            errors["line_drug_other"] = "An 'other regimen' is recorded only when the regimen is 'Other'."
        if self.line_tki_generation is not None and not (
            self.line_type == LineType.ALK_TKI and self.line_drug == Regimen.OTHER
        ):
            errors["line_tki_generation"] = (
                "The generation is recorded only for an 'Other' ALK inhibitor; a named inhibitor's generation "
                "is known."
            )
        if errors:
            raise ValidationError(errors)
