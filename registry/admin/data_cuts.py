"""Frozen data cuts in the admin: every registry user lists them (exports and the study report can be
made from one); administrators freeze a new one. A cut is never changed or deleted here.

Freezing is registry.services.data_cuts.data_cut_freeze; the page only collects its three inputs.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from registry.models import DataCut
from registry.selectors.access import access_for
from registry.services.data_cuts import DataCutRefused, data_cut_freeze, data_cut_may_freeze

from .mixins import NulParametersRefusedMixin, UnseenIsMissingMixin


class FreezeCutForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Unique; exports and reports name the cut by it.")
    cutoff = forms.DateField(
        label="Data cut-off date", required=False,
        help_text="Blank: the analysis settings' data cut-off. Given, it must be that one.",
    )
    locked_only = forms.BooleanField(label="Locked records only", required=False)


@admin.register(DataCut)
class DataCutAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, admin.ModelAdmin):
    list_display = ("name", "cutoff", "scope", "patients", "stale_patients", "not_derived_patients", "frozen_at",
                    "frozen_by", "short_hash")
    list_select_related = ("frozen_by",)
    search_fields = ("name",)
    fields = ("name", "cutoff", "scope", "rules_version", "settings_snapshot", "patients", "stale_patients",
              "not_derived_patients", "new_blob_bytes", "content_hash", "frozen_at", "frozen_by")
    readonly_fields = fields
    freeze_template = "admin/registry/datacut/freeze.html"

    @admin.display(description="content hash")
    def short_hash(self, cut: DataCut) -> str:
        return cut.content_hash[:12]

    def has_module_permission(self, request):
        return access_for(request.user).role is not None

    def has_view_permission(self, request, obj=None):
        return access_for(request.user).role is not None

    def has_add_permission(self, request):
        return data_cut_may_freeze(request.user) and access_for(request.user).role is not None

    def has_change_permission(self, request, obj=None):
        return False  # immutable

    def has_delete_permission(self, request, obj=None):
        return False  # immutable; exports and jobs refer to it

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FreezeCutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                cut = data_cut_freeze(name=data["name"], cutoff=data["cutoff"], locked_only=data["locked_only"],
                                      user=request.user)
            except DataCutRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Froze the data cut {cut.name} ({cut.patients} records).")
                return HttpResponseRedirect(reverse("admin:registry_datacut_changelist"))
        return TemplateResponse(request, self.freeze_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Freeze a data cut",
            "form": form,
        })
