"""The patient record: REDCap's non-repeating `enrollment` and `vital_status` forms."""
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from . import fields
from .choices import (
    AlkVariant, DeathCause, Histology, Sex, Smoking, Stage, VitalStatus,
)


class Patient(models.Model):
    site = models.ForeignKey("registry.Site", on_delete=models.PROTECT, related_name="patients")

    # --- enrollment ---
    record_id = models.CharField(
        "Record ID", max_length=100, unique=True, validators=[fields.record_id_validator]
    )
    mrn = fields.text("Hospital medical record number", max_length=50)
    birth_date = fields.date("Date of birth")
    sex = fields.coded(Sex, "Sex", required=True)
    smoking = fields.coded(Smoking, "Smoking history")
    histology = fields.coded(Histology, "Histology at diagnosis")
    alk_method_1 = fields.checkbox_option("ALK detected by IHC (Ventana D5F3)")
    alk_method_2 = fields.checkbox_option("ALK detected by FISH")
    alk_method_3 = fields.checkbox_option("ALK detected by tissue NGS")
    alk_method_4 = fields.checkbox_option("ALK detected by plasma NGS")
    alk_method_5 = fields.checkbox_option("ALK detected by RT-PCR")
    alk_method_missing = fields.checkbox_missing_code("Method(s) that detected the ALK rearrangement",
                                                      option_codes=(1, 2, 3, 4, 5))
    alk_variant = fields.coded(AlkVariant, "ALK fusion variant")
    consent_date = fields.date("Date of consent (or of the ethics waiver) for the registry")
    adv_dx_date = fields.date("Date of diagnosis of advanced (unresectable or metastatic) disease", required=True)
    stage_dx = fields.coded(Stage, "Stage at diagnosis of advanced disease (AJCC 8th)")
    cns_mets_dx = fields.yes_no("Brain or leptomeningeal metastases at diagnosis of advanced disease")
    enrollment_complete = fields.record_status("Enrollment", nullable=True)

    # --- vital_status ---
    last_alive_date = fields.date("Date last known alive")
    vital = fields.coded(VitalStatus, "Vital status")
    death_date = fields.date("Date of death")
    death_cause = fields.coded(DeathCause, "Cause of death")
    vital_status_complete = fields.record_status("Vital status", nullable=True)

    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["record_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(birth_date__isnull=True) | Q(death_date__gte=F("birth_date")),
                name="patient_death_not_before_birth",
                violation_error_message="The date of death cannot be before the date of birth.",
            ),
            # WU-001 and wu-001 are one patient to the people who type and read them: a second
            # record differing only in letter case is refused.
            models.UniqueConstraint(
                Lower("record_id"), name="patient_record_id_unique_ignoring_case",
                violation_error_message="A record with this ID exists already (record IDs are unique in the "
                                        "registry, ignoring letter case).",
            ),
        ]
        indexes = [models.Index(fields=["site", "record_id"]), models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return self.record_id

    def clean(self) -> None:
        errors = {}
        if self.death_date and self.birth_date and self.death_date < self.birth_date:
            errors["death_date"] = (
                f"The date of death ({self.death_date:%Y-%m-%d}) cannot be before the date of birth "
                f"({self.birth_date:%Y-%m-%d})."
            )
        if self.adv_dx_date and self.birth_date and self.adv_dx_date < self.birth_date:
            errors["adv_dx_date"] = (
                f"The diagnosis of advanced disease ({self.adv_dx_date:%Y-%m-%d}) cannot be before the date "
                f"of birth ({self.birth_date:%Y-%m-%d})."
            )
        if errors:
            raise ValidationError(errors)


class PatientVersion(models.Model):
    """The version of a patient's whole record (the patient and every instrument instance of it),
    which the REST API sends as the record's ETag.

    Every door that writes a record (admin, REDCap import, spreadsheets, the APIs) bumps it in the
    same transaction (registry/services/patient_versions.py), so it changes on every write. It is a
    table of its own, not a column of Patient, because a full save of a patient loaded before a
    concurrent change (the admin's form does one) would write the older number back over the newer.
    A patient without a row has not been written through a door since it was created: number 1.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True, related_name="record_version")
    number = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField(db_index=True, help_text="When a door last wrote this record.")

    def __str__(self) -> str:
        return f"{self.patient_id} version {self.number}"
