from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import NonTargetRead, ReportedResponse
from .instruments import RepeatingInstance


class TumorAssessment(RepeatingInstance):
    """One imaging time point, dated by its first scan (repeating instrument `tumor_assessment`).

    The dictionary allows one assessment per date per patient; lesion measurements name their
    assessment by that date, so the database keeps it unique.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="tumor_assessments")
    ta_date = fields.date("Date of this imaging time point (its first scan)", identifies=True)
    ta_scope_1 = fields.checkbox_option("Imaging: CT chest/abdomen")
    ta_scope_2 = fields.checkbox_option("Imaging: brain MRI")
    ta_scope_3 = fields.checkbox_option("Imaging: brain CT")
    ta_scope_4 = fields.checkbox_option("Imaging: PET-CT")
    ta_scope_5 = fields.checkbox_option("Imaging: bone scan")
    ta_scope_missing = fields.checkbox_missing_code("Imaging performed", option_codes=(1, 2, 3, 4, 5))
    ta_nontarget = fields.coded(
        NonTargetRead, "Non-target lesions overall, as read (used when no lesion-level non-target data)"
    )
    ta_new_lesion = fields.yes_no("Unequivocal new lesion(s)")
    ta_new_sites_1 = fields.checkbox_option("New lesion site: lung")
    ta_new_sites_2 = fields.checkbox_option("New lesion site: lymph node")
    ta_new_sites_3 = fields.checkbox_option("New lesion site: brain")
    ta_new_sites_4 = fields.checkbox_option("New lesion site: leptomeninges")
    ta_new_sites_5 = fields.checkbox_option("New lesion site: pleural effusion")
    ta_new_sites_6 = fields.checkbox_option("New lesion site: pericardial effusion")
    ta_new_sites_7 = fields.checkbox_option("New lesion site: pulmonary lymphangitis")
    ta_new_sites_8 = fields.checkbox_option("New lesion site: liver")
    ta_new_sites_9 = fields.checkbox_option("New lesion site: bone")
    ta_new_sites_10 = fields.checkbox_option("New lesion site: adrenal")
    ta_new_sites_11 = fields.checkbox_option("New lesion site: pleura (nodule or mass)")
    ta_new_sites_12 = fields.checkbox_option("New lesion site: ascites")
    ta_new_sites_99 = fields.checkbox_option("New lesion site: other")
    ta_new_sites_missing = fields.checkbox_missing_code("Sites of new lesions", option_codes=(*range(1, 13), 99))
    ta_new_count = fields.integer("Number of new lesions")
    ta_symptoms = fields.yes_no("New or worsening symptoms attributed to the cancer at this assessment")
    ta_neuro_symptoms = fields.yes_no("New or worsening neurological symptoms")
    ta_reported = fields.coded(
        ReportedResponse, "Overall response as reported by the treating physician or radiologist"
    )
    tumor_assessment_complete = fields.record_status("Tumor assessment")
    history = HistoricalRecords()

    NEW_SITE_FIELDS = tuple(f"ta_new_sites_{code}" for code in (*range(1, 13), 99))

    class Meta:
        ordering = ["patient", "ta_date"]
        constraints = [
            *RepeatingInstance.Meta.constraints,
            models.UniqueConstraint(fields=["patient", "ta_date"], name="tumor_assessment_one_per_date",
                                    violation_error_message="This patient already has an assessment on this date."),
        ]

    def __str__(self) -> str:
        return f"assessment {self.ta_date:%Y-%m-%d}" if self.ta_date else "assessment"

    def clean(self) -> None:
        errors = {}
        new_sites_ticked = any(getattr(self, name) for name in self.NEW_SITE_FIELDS)
        if self.ta_new_lesion != 1:
            if new_sites_ticked:
                errors["ta_new_lesion"] = "Sites of new lesions are ticked, but 'unequivocal new lesion(s)' is not Yes."
            if self.ta_new_count is not None:
                errors["ta_new_count"] = "A number of new lesions is recorded, but 'unequivocal new lesion(s)' is not Yes."
        if errors:
            raise ValidationError(errors)
