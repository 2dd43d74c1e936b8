"""The repeating instruments: inlines for the patient page and one admin page per instrument.

Django admin cannot nest inlines, so lesion measurements are entered on their assessment's page
and NGS variants on their biopsy's page; the patient page links to both.
"""
from django.contrib import admin
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, TreatmentLine, TumorAssessment,
)
from registry.records.spreadsheets import NgsVariantResource
from .mixins import (
    PatientFromParentFormSet, RegistryAdmin, RegistryInlineMixin, RepeatingInstanceForm, SiteListFilter,
    dictionary_radio_fields, with_missing_codes, with_record_version,
)
from .imports import UserScopedResourcesMixin

# ---------------------------------------------------------------- inlines of the patient page


class TreatmentLineInline(RegistryInlineMixin, admin.TabularInline):
    model = TreatmentLine
    fields = (
        "line_no", "line_type", "line_drug", "line_drug_other", "line_tki_generation", "line_start", "line_end",
        "line_end_reason", "line_ecog", "line_cns_mets", "line_beyond_pd", "treatment_line_complete",
    )


class LocalTherapyInline(RegistryInlineMixin, admin.TabularInline):
    model = LocalTherapy
    fields = ("lt_date", "lt_type", "lt_site", "lt_intent", "local_therapy_complete")


class TumorAssessmentInline(RegistryInlineMixin, admin.TabularInline):
    """The time points; imaging details and lesion measurements are on each assessment's own page."""

    model = TumorAssessment
    fields = ("ta_date", "ta_nontarget", "ta_new_lesion", "ta_new_count", "ta_reported", "tumor_assessment_complete")
    show_change_link = True


class LesionInline(RegistryInlineMixin, admin.TabularInline):
    model = Lesion
    fields = ("les_id", "les_line", "les_class", "les_site", "lesion_complete")


class BiopsyInline(RegistryInlineMixin, admin.TabularInline):
    """Biopsies; their NGS variants are on each biopsy's own page."""

    model = Biopsy
    fields = (
        "bx_date", "bx_specimen", "bx_site", "bx_adequate", "bx_histology", "bx_ngs", "bx_ngs_panel",
        "biopsy_complete",
    )
    show_change_link = True


# ---------------------------------------------------------------- inlines of assessment and biopsy pages


class LesionMeasurementInline(RegistryInlineMixin, admin.TabularInline):
    model = LesionMeasurement
    fk_name = "assessment"
    formset = PatientFromParentFormSet
    fields = ("lesion", "lm_status", "lm_mm", "lesion_measurement_complete")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only the assessment's patient's lesions can be measured at it.
        lesion_field = formset.form.base_fields.get("lesion")
        if lesion_field is not None and obj is not None:
            lesion_field.queryset = lesion_field.queryset.filter(patient_id=obj.patient_id)
        return formset


class NgsVariantInline(RegistryInlineMixin, admin.TabularInline):
    model = NgsVariant
    fk_name = "biopsy"
    formset = PatientFromParentFormSet
    fields = ("var_gene", "var_kind", "var_protein", "var_vaf", "var_cn", "var_partner", "ngs_variant_complete")


# ---------------------------------------------------------------- one page per instrument


class PatientFromForm(RepeatingInstanceForm):
    """A new measurement or variant belongs to the patient of the assessment or biopsy it names."""

    patient_source: str = ""

    def clean(self):
        cleaned_data = super().clean()
        source = cleaned_data.get(self.patient_source)
        if source is not None and self.instance.pk is None:
            # Set before model validation so that clean() can compare the other keys' patients.
            self.instance.patient_id = source.patient_id
        return cleaned_data


class MeasurementForm(PatientFromForm):
    patient_source = "assessment"


class VariantForm(PatientFromForm):
    patient_source = "biopsy"


class InstrumentAdmin(RegistryAdmin, SimpleHistoryAdmin):
    """An instrument's changelist and change page, scoped to the sites the user may see.

    The patient is chosen when the instance is created and fixed afterwards, and the REDCap
    instance number is assigned (max + 1), never typed.
    """

    form = RepeatingInstanceForm
    search_fields = ("patient__record_id",)
    search_help_text = "Search by record ID."
    list_select_related = ("patient__site",)
    list_filter = (SiteListFilter,)
    autocomplete_fields = ("patient",)
    list_per_page = 50
    # The instrument's own fields, by heading; the record fields (patient, instance) come first.
    instrument_fieldsets: list = []
    # Fields that name another instance of the same patient: narrowed to that patient once known.
    same_patient_fields: tuple[str, ...] = ()
    # Whether the patient is picked on the add page (False: it comes from `same_patient_fields`).
    patient_chosen_on_add = True

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            record = ("patient", "redcap_repeat_instance")
        else:
            record = ("patient",) if self.patient_chosen_on_add else ()
        fieldsets = with_missing_codes(self.instrument_fieldsets, self.model)
        if record:
            fieldsets.insert(0, ("Record", {"fields": record}))
        return with_record_version(fieldsets, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly = ("patient", "redcap_repeat_instance", *readonly)
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            for name in self.same_patient_fields:
                field = form.base_fields.get(name)
                if field is not None:
                    field.queryset = field.queryset.filter(patient_id=obj.patient_id)
        return form

    @admin.display(description="record ID", ordering="patient__record_id")
    def record_id(self, obj):
        return obj.patient.record_id

    @admin.display(description="site", ordering="patient__site__code")
    def site_code(self, obj):
        return obj.patient.site.code


@admin.register(TreatmentLine)
class TreatmentLineAdmin(InstrumentAdmin):
    list_display = (
        "record_id", "site_code", "line_no", "line_type", "line_drug", "line_start", "line_end",
        "treatment_line_complete",
    )
    list_display_links = ("record_id", "line_no")
    radio_fields = dictionary_radio_fields(TreatmentLine)
    instrument_fieldsets = [
        ("Treatment line", {"fields": (
            "line_no", "line_type", "line_drug", "line_drug_other", "line_tki_generation", "line_start",
            "line_end", "line_end_reason", "line_ecog", "line_cns_mets", "line_beyond_pd",
        )}),
        ("Form status", {"fields": ("treatment_line_complete",)}),
    ]


@admin.register(LocalTherapy)
class LocalTherapyAdmin(InstrumentAdmin):
    list_display = ("record_id", "site_code", "lt_date", "lt_type", "lt_site", "lt_intent", "local_therapy_complete")
    list_display_links = ("record_id", "lt_date")
    radio_fields = dictionary_radio_fields(LocalTherapy)
    instrument_fieldsets = [
        ("Local therapy", {"fields": ("lt_date", "lt_type", "lt_site", "lt_intent")}),
        ("Form status", {"fields": ("local_therapy_complete",)}),
    ]


@admin.register(TumorAssessment)
class TumorAssessmentAdmin(InstrumentAdmin):
    list_display = ("record_id", "site_code", "ta_date", "ta_nontarget", "ta_new_lesion", "ta_reported",
                    "tumor_assessment_complete")
    list_display_links = ("record_id", "ta_date")
    radio_fields = dictionary_radio_fields(TumorAssessment)
    inlines = [LesionMeasurementInline]
    instrument_fieldsets = [
        ("Tumor assessment", {"fields": ("ta_date",)}),
        ("Imaging performed", {"fields": (("ta_scope_1", "ta_scope_2", "ta_scope_3", "ta_scope_4", "ta_scope_5"),)}),
        ("Response", {"fields": ("ta_nontarget", "ta_new_lesion")}),
        ("Sites of new lesions", {"fields": (
            ("ta_new_sites_1", "ta_new_sites_2", "ta_new_sites_3", "ta_new_sites_4", "ta_new_sites_5"),
            ("ta_new_sites_6", "ta_new_sites_7", "ta_new_sites_8", "ta_new_sites_9", "ta_new_sites_10"),
            ("ta_new_sites_11", "ta_new_sites_12", "ta_new_sites_99"),
            "ta_new_count",
        )}),
        ("Symptoms and reported response", {"fields": ("ta_symptoms", "ta_neuro_symptoms", "ta_reported")}),
        ("Form status", {"fields": ("tumor_assessment_complete",)}),
    ]

    def get_inline_instances(self, request, obj=None):
        # Lesions belong to a patient; until the assessment is saved its patient's lesions are unknown.
        return super().get_inline_instances(request, obj) if obj is not None else []


@admin.register(Lesion)
class LesionAdmin(InstrumentAdmin):
    list_display = ("record_id", "site_code", "les_id", "les_line", "les_class", "les_site", "lesion_complete")
    list_display_links = ("record_id", "les_id")
    search_fields = ("patient__record_id", "les_id")
    search_help_text = "Search by record ID or lesion identifier."
    radio_fields = dictionary_radio_fields(Lesion)
    instrument_fieldsets = [
        ("Lesion", {"fields": ("les_id", "les_line", "les_class", "les_site")}),
        ("Form status", {"fields": ("lesion_complete",)}),
    ]


@admin.register(LesionMeasurement)
class LesionMeasurementAdmin(InstrumentAdmin):
    form = MeasurementForm
    list_display = ("record_id", "site_code", "assessment_date", "lesion_identifier", "lm_status", "lm_mm",
                    "lesion_measurement_complete")
    list_display_links = ("record_id", "assessment_date")
    list_select_related = ("patient__site", "assessment", "lesion")
    radio_fields = dictionary_radio_fields(LesionMeasurement)
    autocomplete_fields = ("assessment", "lesion")
    same_patient_fields = ("assessment", "lesion")
    patient_chosen_on_add = False
    instrument_fieldsets = [
        ("Lesion measurement", {"fields": ("assessment", "lesion", "lm_status", "lm_mm")}),
        ("Form status", {"fields": ("lesion_measurement_complete",)}),
    ]

    @admin.display(description="assessment date", ordering="assessment__ta_date")
    def assessment_date(self, obj):
        return obj.assessment.ta_date

    @admin.display(description="lesion", ordering="lesion__les_id")
    def lesion_identifier(self, obj):
        return obj.lesion.les_id


@admin.register(Biopsy)
class BiopsyAdmin(InstrumentAdmin):
    list_display = ("record_id", "site_code", "bx_date", "bx_specimen", "bx_site", "bx_ngs", "biopsy_complete")
    list_display_links = ("record_id", "bx_date")
    radio_fields = dictionary_radio_fields(Biopsy)
    inlines = [NgsVariantInline]
    instrument_fieldsets = [
        ("Biopsy", {"fields": (
            "bx_date", "bx_specimen", "bx_site", "bx_adequate", "bx_histology", "bx_ngs", "bx_ngs_panel",
        )}),
        ("Form status", {"fields": ("biopsy_complete",)}),
    ]


@admin.register(NgsVariant)
class NgsVariantAdmin(UserScopedResourcesMixin, ImportExportMixin, InstrumentAdmin):
    form = VariantForm
    resource_classes = [NgsVariantResource]
    list_display = ("record_id", "site_code", "biopsy_date", "var_gene", "var_kind", "var_protein", "var_vaf",
                    "ngs_variant_complete")
    list_display_links = ("record_id", "var_gene")
    list_select_related = ("patient__site", "biopsy")
    search_fields = ("patient__record_id", "var_gene")
    search_help_text = "Search by record ID or gene."
    radio_fields = dictionary_radio_fields(NgsVariant)
    autocomplete_fields = ("biopsy",)
    same_patient_fields = ("biopsy",)
    patient_chosen_on_add = False
    instrument_fieldsets = [
        ("NGS variant", {"fields": (
            "biopsy", "var_gene", "var_kind", "var_protein", "var_vaf", "var_cn", "var_partner",
        )}),
        ("Form status", {"fields": ("ngs_variant_complete",)}),
    ]

    @admin.display(description="biopsy date", ordering="biopsy__bx_date")
    def biopsy_date(self, obj):
        return obj.biopsy.bx_date
