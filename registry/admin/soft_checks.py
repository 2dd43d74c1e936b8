"""Confirmations of values a soft check asked about (registry/models/workspace.py SoftCheckConfirmation),
for people to read: who confirmed which value, when and through which door.

Read-only for everyone: a confirmation is written by the door where it was given (the workspace) and
is itself the record of it. Visible by the access rule, like the patient it belongs to.
"""
from django.contrib import admin

from registry.models import SoftCheckConfirmation
from registry.records.data_quality import CONFIRMATION_PREFIX
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
    # Few, short columns: the list fits 1,280 px without sideways scrolling; the message is on the row's page.
    # (the door is a filter, the message on the row's page).
    list_display = ("confirmed", "patient", "where", "confirmed_value", "check_label", "who")
    list_display_links = ("confirmed",)
    list_filter = (CheckListFilter, "door", "form")
    list_select_related = ("patient", "confirmed_by")
    search_fields = ("patient__record_id", "field", "value")
    search_help_text = "Search by record ID, field or value."
    date_hierarchy = "confirmed_at"
    fields = ("patient", "form", "instance", "field", "value", "check_code", "message", "confirmed_by",
              "confirmed_at", "door")
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="confirmed (UTC)", ordering="confirmed_at")
    def confirmed(self, obj) -> str:
        return f"{obj.confirmed_at:%Y-%m-%d %H:%M}"

    @admin.display(description="instrument and field", ordering="form")
    def where(self, obj) -> str:
        form = obj.form if obj.instance is None else f"{obj.form} #{obj.instance}"
        return f"{form}: {obj.field}"

    @admin.display(description="value", ordering="value")
    def confirmed_value(self, obj) -> str:
        return obj.value

    @admin.display(description="by", ordering="confirmed_by__username")
    def who(self, obj) -> str:
        return obj.confirmed_by.get_username() if obj.confirmed_by is not None else "(no user recorded)"

    @admin.display(description="soft check", ordering="check_code")
    def check_label(self, obj) -> str:
        if obj.check_code.startswith(CONFIRMATION_PREFIX):  # a data-quality hit verified as correct
            return f"data-quality rule {obj.check_code.removeprefix(CONFIRMATION_PREFIX)}"
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
