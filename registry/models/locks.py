"""Locks on records and instrument instances, and e-signatures of locked records (issue 12 §5).

A lock is a row: while it has no `unlocked_at` it holds, and every door refuses to change or delete
what it covers (registry/services/locks.py `locked_data_refuse`, called by the write services). An
unlock does not delete the row: it stamps who unlocked, when and why, so the lock's whole life stays
readable beside the history rows django-simple-history keeps of every change to it.

A signature is written once and never changed: the signer, the UTC time, the meaning the signer was
shown, and the SHA-256 of the record's content (registry/records/record_content.py) at that moment.
It is valid while the record's content still hashes to it, and void (shown as such) once it does not.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

WHOLE_RECORD = ""  # the `form` of a lock on the whole record


class RecordLock(models.Model):
    """A lock of a whole record (`form` blank) or of one instrument instance (`form`, and the repeat
    instance for a repeating instrument; blank for the record's own forms, enrollment and vital status)."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="locks")
    form = models.CharField("instrument", max_length=50, blank=True, default=WHOLE_RECORD,
                            help_text="Blank: the whole record.")
    # Not named `instance`: django-simple-history's historical rows have an `instance` property.
    repeat_instance = models.PositiveIntegerField(
        "instance", null=True, blank=True, help_text="The repeat instance; blank on a non-repeating form.")
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    locked_at = models.DateTimeField()
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "form", "repeat_instance", "-locked_at"]
        constraints = [
            # One lock in force per thing locked: two partial constraints, as SQLite cannot keep
            # nulls_distinct=False (the record's own forms and the whole record have no instance number).
            models.UniqueConstraint(
                fields=["patient", "form", "repeat_instance"],
                condition=Q(unlocked_at__isnull=True, repeat_instance__isnull=False), name="record_lock_once_on_instance",
            ),
            models.UniqueConstraint(
                fields=["patient", "form"],
                condition=Q(unlocked_at__isnull=True, repeat_instance__isnull=True), name="record_lock_once_on_form",
            ),
            models.CheckConstraint(
                condition=~Q(form=WHOLE_RECORD) | Q(repeat_instance__isnull=True),
                name="record_lock_whole_record_has_no_instance",
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True) | ~Q(unlock_reason=""),
                name="record_lock_unlocked_with_a_reason",
                violation_error_message="An unlock needs a reason.",
            ),
        ]
        indexes = [models.Index(fields=["patient", "unlocked_at"])]

    def __str__(self) -> str:
        return f"{self.what} ({'unlocked' if self.unlocked_at else 'locked'})"

    @property
    def is_whole_record(self) -> bool:
        return self.form == WHOLE_RECORD

    @property
    def what(self) -> str:
        """What is locked, in words: "record WU-001", "treatment_line 2 of record WU-001"."""
        record = f"record {self.patient.record_id}"
        if self.is_whole_record:
            return record
        if self.repeat_instance is None:
            return f"{self.form} of {record}"
        return f"{self.form} {self.repeat_instance} of {record}"

    def describe(self) -> str:
        """The lock named as every refusal names it: what, who locked it and when (UTC)."""
        who = self.locked_by.get_username() if self.locked_by_id else "the system"
        return f"{self.what} is locked (by {who} on {self.locked_at:%Y-%m-%d %H:%M} UTC)"


class RecordSignature(models.Model):
    """An e-signature of a locked record: who signed, when, what the signature meant, and the hash
    of the record's content it vouches for."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="signatures")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    meaning = models.TextField(help_text="The meaning of the signature, as shown to the signer.")
    content_hash = models.CharField("content hash (SHA-256)", max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "-signed_at"]

    def __str__(self) -> str:
        return f"{self.patient.record_id} signed by {self.signed_by.get_username()} on {self.signed_at:%Y-%m-%d %H:%M} UTC"
