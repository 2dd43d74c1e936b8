"""The patient page: enrollment and vital status, with every repeating instrument inline, and below
them what was derived from them (read-only).

The data dictionary's identifier fields (mrn, birth_date) are left out of every patient page (form,
history, audit trail) for users who read de-identified data only (registry/selectors/access.py
`may_see_identified`); they have no write right, so no save depends on the fields left out."""
from dataclasses import replace

from django.contrib import admin
from django.db.models import Count
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from registry.models import Patient, Role
from registry.records.spreadsheets import VitalStatusResource
from registry.selectors.access import access_for, identifier_columns, may_see_identified
from registry.selectors.record_names import next_record_name

from .audit import AuditTrailMixin
from .derived import DERIVED_LIST_FILTERS, DataQualityMixin, DerivedResultsMixin
from .reports import StudyReportMixin
from .imports import RedcapRecordsMixin, UserScopedResourcesMixin
from .instruments import BiopsyInline, LesionInline, LocalTherapyInline, TreatmentLineInline, TumorAssessmentInline
from .mixins import PATIENT_SITE_PATH, RegistryAdmin, SiteListFilter, dictionary_radio_fields, with_missing_codes


@admin.register(Patient)
class PatientAdmin(
    StudyReportMixin, DataQualityMixin, DerivedResultsMixin, AuditTrailMixin, RedcapRecordsMixin,
    UserScopedResourcesMixin, ImportExportMixin, RegistryAdmin, SimpleHistoryAdmin,
):
    site_path = PATIENT_SITE_PATH
    # The vital-status spreadsheet (django-import-export); whole records go through the REDCap pages.
    resource_classes = [VitalStatusResource]
    import_export_change_list_template = "admin/registry/patient/change_list.html"

    list_display = ("record_id", "site_code", "sex", "adv_dx_date", "vital", "line_count")
    list_select_related = ("site",)
    list_filter = (SiteListFilter, "vital", *DERIVED_LIST_FILTERS)
    search_fields = ("record_id",)
    search_help_text = "Search by record ID."
    list_per_page = 50
    # Explicit: the lines-count annotation groups the query, and Django drops Meta.ordering then.
    ordering = ("record_id",)
    radio_fields = dictionary_radio_fields(Patient)
    inlines = [TreatmentLineInline, LocalTherapyInline, TumorAssessmentInline, LesionInline, BiopsyInline]
    fieldsets = [
        ("Enrollment", {"fields": ("site", "record_id", "mrn", "birth_date", "sex", "smoking")}),
        ("Diagnosis", {
            "fields": (
                "histology",
                ("alk_method_1", "alk_method_2", "alk_method_3", "alk_method_4", "alk_method_5"),
                "alk_variant", "consent_date", "adv_dx_date", "stage_dx", "cns_mets_dx",
            ),
            "description": "Method(s) that detected the ALK rearrangement: tick every method that did.",
        }),
        ("Enrollment form status", {"fields": ("enrollment_complete",)}),
        ("Vital status", {"fields": ("last_alive_date", "vital", "death_date", "death_cause")}),
        ("Vital status form status", {"fields": ("vital_status_complete",)}),
    ]

    def site_id_of(self, obj) -> int | None:
        return obj.site_id

    # --- identifier fields: only for users who may see identified data

    def get_fieldsets(self, request, obj=None):
        fieldsets = with_missing_codes(super().get_fieldsets(request, obj), Patient)
        if may_see_identified(request.user):
            return fieldsets
        hidden = identifier_columns()
        return [
            (name, {**options, "fields": _without(options["fields"], hidden)}) for name, options in fieldsets
        ]

    def get_historical_record_context_helper(self, request, historical_record):
        if may_see_identified(request.user):
            return super().get_historical_record_context_helper(request, historical_record)
        return _DeidentifiedChanges(self.model, historical_record)

    def get_changeform_initial_data(self, request):
        # The ID REDCap's data access group numbering proposes ("<site id>-<n>" for a one-site
        # coordinator), so that coordinators of different sites never pick the same one.
        return {"record_id": next_record_name(request.user), **super().get_changeform_initial_data(request)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("treatment_lines"))

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        # Every inline row is labelled by its __str__, which names the patient: joined here, or the
        # page would ask for the patient once per line, assessment, lesion ...
        kwargs["queryset"] = kwargs["queryset"].select_related("patient")
        return kwargs

    def has_delete_permission(self, request, obj=None):
        # Deleting a patient deletes every instrument with it: administrators only.
        return access_for(request.user).role == Role.ADMINISTRATOR

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}), "may_import_records": access_for(request.user).can_write,
            "may_export_records": may_see_identified(request.user),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="site", ordering="site__code")
    def site_code(self, obj):
        return obj.site.code

    @admin.display(description="lines of therapy", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count


def _without(fields, hidden: frozenset[str]) -> tuple:
    """A fieldset's fields (names, or tuples of names on one line) without the `hidden` ones."""
    kept = []
    for field in fields:
        if isinstance(field, (list, tuple)):
            line = tuple(name for name in field if name not in hidden)
            if line:
                kept.append(line)
        elif field not in hidden:
            kept.append(field)
    return tuple(kept)


class _DeidentifiedChanges(HistoricalRecordContextHelper):
    """The history page's list of changes without the identifier fields' (their values would show)."""

    def context_for_delta_changes(self, delta):
        hidden = identifier_columns()
        return super().context_for_delta_changes(
            replace(delta, changes=[change for change in delta.changes if change.field not in hidden]),
        )
