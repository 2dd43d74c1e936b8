"""Locks and e-signatures of records (registry/models/locks.py), for people to read: what was locked,
by whom and when, who unlocked it and why; who signed which record, meaning what, and whether the
signature still holds.

Read-only for everyone: locks and signatures are made in the workspace through registry/services/locks.py
(which checks the capability, the reason and the password). Visible by the access rule, like the
patient they belong to.
"""
from django.contrib import admin

from registry.models import RecordLock, RecordSignature
from registry.selectors.locks import record_signatures

from .mixins import ReadOnlyRecordRowsMixin


@admin.register(RecordLock)
class RecordLockAdmin(ReadOnlyRecordRowsMixin, admin.ModelAdmin):
    list_display = ("locked", "patient", "what_locked", "who", "state")
    list_display_links = ("locked",)
    list_filter = ("form",)
    list_select_related = ("patient", "locked_by", "unlocked_by")
    search_fields = ("patient__record_id",)
    search_help_text = "Search by record ID."
    date_hierarchy = "locked_at"
    fields = ("patient", "form", "repeat_instance", "locked_by", "locked_at", "unlocked_by", "unlocked_at",
              "unlock_reason")
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="locked (UTC)", ordering="locked_at")
    def locked(self, obj) -> str:
        return f"{obj.locked_at:%Y-%m-%d %H:%M}"

    @admin.display(description="locked", ordering="form")
    def what_locked(self, obj) -> str:
        if obj.is_whole_record:
            return "the whole record"
        return obj.form if obj.repeat_instance is None else f"{obj.form} #{obj.repeat_instance}"

    @admin.display(description="by", ordering="locked_by__username")
    def who(self, obj) -> str:
        return obj.locked_by.get_username() if obj.locked_by is not None else "(the system)"

    @admin.display(description="state")
    def state(self, obj) -> str:
        if obj.unlocked_at is None:
            return "in force"
        return f"unlocked {obj.unlocked_at:%Y-%m-%d %H:%M} UTC: {obj.unlock_reason}"


@admin.register(RecordSignature)
class RecordSignatureAdmin(ReadOnlyRecordRowsMixin, admin.ModelAdmin):
    list_display = ("signed", "patient", "who", "meaning")
    list_display_links = ("signed",)
    list_select_related = ("patient", "signed_by")
    search_fields = ("patient__record_id",)
    search_help_text = "Search by record ID."
    date_hierarchy = "signed_at"
    fields = ("patient", "signed_by", "signed_at", "meaning", "content_hash", "status")
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="signed (UTC)", ordering="signed_at")
    def signed(self, obj) -> str:
        return f"{obj.signed_at:%Y-%m-%d %H:%M}"

    @admin.display(description="by", ordering="signed_by__username")
    def who(self, obj) -> str:
        return obj.signed_by.get_username()

    @admin.display(description="status")
    def status(self, obj) -> str:
        """Valid or void, on the signature's own page (reading the record's content costs a few queries)."""
        for found in record_signatures([obj.patient_id]).get(obj.patient_id, []):
            if found.signature.pk == obj.pk:
                return found.label
        return ""
