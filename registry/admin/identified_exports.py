"""The log of identified exports (registry/models/identified_exports.py), for administrators to read.

Nobody adds, changes or deletes a row here: the doors write it (registry/services/identified_exports.py).
"""
from django.contrib import admin

from registry.models import IdentifiedExport

from .mixins import AdministratorOnlyMixin


@admin.register(IdentifiedExport)
class IdentifiedExportAdmin(AdministratorOnlyMixin, admin.ModelAdmin):
    """Administrators read the log; nobody adds, changes or deletes a row of it."""

    list_display = ("exported_at", "username", "door", "content", "file_format", "site_codes", "record_count")
    list_filter = ("door", ("user", admin.RelatedOnlyFieldListFilter), "exported_at")
    date_hierarchy = "exported_at"
    search_fields = ("username", "content")
    search_help_text = "Search by username or what was exported."
    fields = ("exported_at", "user", "username", "door", "content", "file_format", "site_codes", "record_count",
              "parameters")
    readonly_fields = fields
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
