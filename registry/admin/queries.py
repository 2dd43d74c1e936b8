"""Queries (registry/models/queries.py) for people to inspect: each with its thread, read-only.

Nobody opens, answers, closes or changes a query here: the workspace and the REST API do, through
registry/services/queries.py, which checks who may make which transition. Visible by the access rule,
like the record the query is about.
"""
from django.contrib import admin

from registry.models import Query, QueryMessage

from .mixins import ReadOnlyMixin, ReadOnlyRecordRowsMixin


class QueryMessageInline(ReadOnlyMixin, admin.TabularInline):
    model = QueryMessage
    fields = ("created_at", "author", "transition", "state_after", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Query)
class QueryAdmin(ReadOnlyRecordRowsMixin, admin.ModelAdmin):
    list_display = ("query_number", "patient", "target", "state", "opened", "opened_by")
    list_display_links = ("query_number",)
    list_filter = ("state", "form")
    list_select_related = ("patient", "opened_by")
    search_fields = ("patient__record_id", "field")
    search_help_text = "Search by record ID or field."
    date_hierarchy = "opened_at"
    fields = ("patient", "form", "instance_number", "field", "state", "opened_by", "opened_at", "closed_at",
              "updated_at")
    readonly_fields = fields
    inlines = [QueryMessageInline]
    list_per_page = 100

    @admin.display(description="query", ordering="id")
    def query_number(self, obj) -> str:
        return f"Query {obj.pk}"

    @admin.display(description="about", ordering="form")
    def target(self, obj) -> str:
        form = obj.form if obj.instance_number is None else f"{obj.form} #{obj.instance_number}"
        return ": ".join(part for part in (form, obj.field) if part) or "the record"

    @admin.display(description="opened (UTC)", ordering="opened_at")
    def opened(self, obj) -> str:
        return f"{obj.opened_at:%Y-%m-%d %H:%M}"

