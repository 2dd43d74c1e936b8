"""Custom data-quality rules in the admin: administrators write them here as data managers do in the
workspace (workspace:quality_rule_new); both doors save through `quality_rule_save`, and the model's
clean() refuses logic that cannot be read or that names two repeating instruments."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from registry.models import QualityRule
from registry.services.data_quality import quality_rule_save

from .mixins import AdministratorOnlyMixin, ReadOnlyHistoryMixin


@admin.register(QualityRule)
class QualityRuleAdmin(ReadOnlyHistoryMixin, AdministratorOnlyMixin, SimpleHistoryAdmin):
    list_display = ("name", "logic", "active", "created_by", "updated_at")
    list_select_related = ("created_by",)
    list_filter = ("active",)
    search_fields = ("name", "logic")
    fields = ("name", "logic", "active", "created_by", "created_at", "updated_at")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        quality_rule_save(user=request.user, name=obj.name, logic=obj.logic, active=obj.active,
                          rule=obj if change else None)
