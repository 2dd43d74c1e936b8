"""What every repeating instrument instance shares: its patient and REDCap instance number."""
from django.db import models


class RepeatingInstance(models.Model):
    """One instance of a repeating instrument of a patient's record.

    REDCap identifies it by (record, instrument, instance); imports upsert on that key, so the
    instance number is unique per patient and instrument.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="+")
    redcap_repeat_instance = models.PositiveIntegerField("instance", help_text="REDCap repeat instance number")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "redcap_repeat_instance"], name="%(class)s_one_instance_number_per_patient"
            ),
        ]
