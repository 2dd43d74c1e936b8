"""Confirmations of values a soft check asked about (registry/models/workspace.py SoftCheckConfirmation),
for people to read: who confirmed which value, when and through which door.

Read-only for everyone: a confirmation is written by the door where it was given (the workspace) and
is itself the record of it. Visible by the access rule, like the patient it belongs to.
"""
from django.contrib import admin

from registry.models import SoftCheckConfirmation
from registry.records.soft_checks import CHECK_LABELS

from .mixins import RegistryAccessMixin


class CheckListFilter(admin.SimpleListFilter):
    title = "soft check"
    parameter_name = "check_code"

    def lookups(self, request, model_admin):
        return list(CHECK_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(check_code=self.value()) if self.value() else queryset


@admin.register(SoftCheckConfirmation)
class SoftCheckConfirmationAdmin(RegistryAccessMixin, admin.ModelAdmin):
    list_display = ("confirmed_at", "patient", "form", "instance", "field", "value", "check_label", "confirmed_by",
                    "door")
    list_filter = (CheckListFilter, "door", "form")
    list_select_related = ("patient", "confirmed_by")
    search_fields = ("patient__record_id", "field", "value")
    search_help_text = "Search by record ID, field or value."
    date_hierarchy = "confirmed_at"
    fields = ("patient", "form", "instance", "field", "value", "check_code", "message", "confirmed_by",
              "confirmed_at", "door")
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="soft check", ordering="check_code")
    def check_label(self, obj) -> str:
        return CHECK_LABELS.get(obj.check_code, obj.check_code)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Never through these pages. But deleting a patient takes its confirmations with it, and the
        # patient's delete page asks this admin whether they may go: the patient's deletion is what is
        # authorised there (RegistryAccessMixin: the user may change the site).
        match = request.resolver_match
        if match is None or (match.url_name or "").startswith("registry_softcheckconfirmation_"):
            return False
        return RegistryAccessMixin.has_change_permission(self, request, obj)
