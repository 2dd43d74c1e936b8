"""What every registry admin shares: the access rule, the audit door, instance numbering.

Registry users need only `is_staff`: what they may see and change comes from their registry role
and sites (registry.selectors.access), never from Django model permissions.
"""
from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Max
from django.forms.models import InlineForeignKeyField

from registry.models import Patient, Role, Site
from registry.records.dictionary import data_dictionary
from registry.selectors.access import (
    access_for, changeable_sites, restrict_to_changeable, restrict_to_visible, visible_sites,
)
from registry.services.derivation import records_changed
from registry.services.patient_versions import records_version_bump

# history_change_reason of every change made through an admin form: which door the data came in by.
ADMIN_DOOR = "admin"
PATIENT_SITE_PATH = "site_id"
INSTRUMENT_SITE_PATH = "patient__site_id"
BLANK_CHOICE_LABEL = "Unknown / not recorded"


def dictionary_radio_fields(model) -> dict[str, int]:
    """The model's fields that the data dictionary draws as radio buttons (radio and yes/no)."""
    names = {field.name for field in model._meta.get_fields()}
    return {
        field.name: admin.HORIZONTAL
        for field in data_dictionary().fields
        if field.field_type in ("radio", "yesno") and field.name in names
    }


def changeable_choices(related_model, user):
    """The rows a foreign-key field of an edit form may point to: those the user may change.

    None for models outside the registry's site scoping (users, ...): Django's default applies.
    """
    if related_model is Site:
        return changeable_sites(user)
    if related_model is Patient:
        return restrict_to_changeable(Patient.objects.all(), user, site_path=PATIENT_SITE_PATH)
    if related_model._meta.app_label == "registry" and any(
        field.name == "patient" for field in related_model._meta.fields
    ):
        return restrict_to_changeable(related_model._default_manager.all(), user, site_path=INSTRUMENT_SITE_PATH)
    return None


class ScopedForeignKeysMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = changeable_choices(db_field.related_model, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SiteListFilter(admin.SimpleListFilter):
    """Filter by site, offering only the sites the user may see."""

    title = "site"
    parameter_name = "site"

    def __init__(self, request, params, model, model_admin):
        self.site_path = model_admin.site_path
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(str(site.id), site.code) for site in visible_sites(request.user)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        # The admin's queryset is already narrowed to visible sites, so naming another site's id
        # in the URL yields an empty list, never that site's rows.
        return queryset.filter(**{self.site_path: self.value()})


class RegistryAccessMixin(ScopedForeignKeysMixin):
    """Permissions and querysets from the registry's one access rule.

    `site_path` is the lookup from the model to its site id; `site_id_of(obj)` reads it from one
    object. Coordinators read and write their sites, viewers read their sites, investigators read
    every site, administrators (and superusers) do everything, anyone else nothing.
    """

    site_path = INSTRUMENT_SITE_PATH

    def site_id_of(self, obj) -> int | None:
        try:
            return obj.patient.site_id
        except ObjectDoesNotExist:  # history of an instance whose patient has since been deleted
            return None

    def get_queryset(self, request):
        return restrict_to_visible(super().get_queryset(request), request.user, site_path=self.site_path)

    def has_module_permission(self, request):
        return access_for(request.user).role is not None

    def has_view_permission(self, request, obj=None):
        access = access_for(request.user)
        if access.role is None:
            return False
        return obj is None or access.can_see_site(self.site_id_of(obj))

    def has_change_permission(self, request, obj=None):
        access = access_for(request.user)
        if not access.can_write:
            return False
        return obj is None or access.can_change_site(self.site_id_of(obj))

    def has_add_permission(self, request):
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The autocomplete endpoint fills foreign-key widgets of edit forms: offer only rows the user
        # may change, not everything they may read.
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            queryset = restrict_to_changeable(queryset, request.user, site_path=self.site_path)
        return queryset, may_have_duplicates

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name in self.radio_fields and db_field.blank:
            # Blank means the value was not recorded; Django's default label "None" reads like "No".
            kwargs.setdefault(
                "choices", db_field.get_choices(include_blank=True, blank_choice=[("", BLANK_CHOICE_LABEL)])
            )
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class AdministratorOnlyMixin:
    """For the tables that decide access itself: only registry administrators see or touch them."""

    def _is_administrator(self, request) -> bool:
        return access_for(request.user).role == Role.ADMINISTRATOR

    def has_module_permission(self, request):
        return self._is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request, obj=None):  # obj: an inline's parent
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)


def next_instance_number(model, patient_id) -> int:
    """The next free REDCap repeat instance of one instrument for one patient (max + 1)."""
    highest = model.objects.filter(patient_id=patient_id).aggregate(highest=Max("redcap_repeat_instance"))["highest"]
    return (highest or 0) + 1


def save_with_admin_door(obj) -> None:
    obj._change_reason = ADMIN_DOOR
    obj.save()


class AuditedSaveMixin:
    """Saves through an admin form record the door ("admin") and number new instances."""

    def save_model(self, request, obj, form, change):
        obj._change_reason = ADMIN_DOOR
        if not change and hasattr(obj, "redcap_repeat_instance") and obj.redcap_repeat_instance is None:
            obj.redcap_repeat_instance = next_instance_number(type(obj), obj.patient_id)
        super().save_model(request, obj, form, change)
        records_changed(obj)  # its patient's derived results are derived again after the commit
        records_version_bump(obj)  # and its record's version (the REST API's ETag) changes

    def delete_model(self, request, obj):
        obj._change_reason = ADMIN_DOOR
        super().delete_model(request, obj)
        records_changed(obj)
        records_version_bump(obj)

    def delete_queryset(self, request, queryset):
        # Delete one by one so every deletion reaches the audit trail with its door.
        for obj in queryset:
            obj._change_reason = ADMIN_DOOR
            obj.delete()
            records_changed(obj)
            records_version_bump(obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._change_reason = ADMIN_DOOR
            obj.delete()
        records_changed(*formset.deleted_objects)
        records_version_bump(*formset.deleted_objects)
        next_numbers: dict[type, int] = {}
        for obj in instances:
            if obj.pk is None and hasattr(obj, "redcap_repeat_instance"):
                model = type(obj)
                if model not in next_numbers:
                    next_numbers[model] = next_instance_number(model, obj.patient_id)
                obj.redcap_repeat_instance = next_numbers[model]
                next_numbers[model] += 1
            save_with_admin_door(obj)
        formset.save_m2m()
        records_changed(*instances)
        records_version_bump(*instances)


class RegistryAdmin(RegistryAccessMixin, AuditedSaveMixin):
    """Mixed in before SimpleHistoryAdmin by every instrument and patient admin."""


class RepeatingInstanceForm(forms.ModelForm):
    """A form of one repeating instrument instance, checking the patient's unique keys before saving.

    Django checks Meta.constraints in `full_clean()` with the inline foreign key (and any field not
    on the form, such as a patient fixed by the parent page) excluded, so "one line number per
    patient" would otherwise only fail at INSERT, as a server error. This repeats those checks
    with the patient included and puts the message next to the field the coordinator typed.
    """

    def validate_unique(self):
        super().validate_unique()
        instance = self.instance
        skipped_in_full_clean = {
            name for name, field in self.fields.items() if isinstance(field, InlineForeignKeyField)
        } | {field.name for field in instance._meta.fields if field.name not in self.fields}
        exclude = self._get_validation_exclusions() - skipped_in_full_clean
        for name in list(skipped_in_full_clean):
            if getattr(instance, instance._meta.get_field(name).attname, None) is None:
                exclude.add(name)  # not known yet (a new parent): nothing to check against
        for constraint in instance._meta.total_unique_constraints:
            fields = set(constraint.fields)
            if not fields & skipped_in_full_clean or fields & exclude:
                continue  # already checked by full_clean(), or cannot be checked yet
            try:
                constraint.validate(type(instance), instance, exclude=exclude)
            except ValidationError as error:
                typed = [
                    name for name in constraint.fields if name in self.fields and name not in skipped_in_full_clean
                ]
                self.add_error(typed[0] if typed else None, error.messages)


class RegistryInlineFormSet(forms.BaseInlineFormSet):
    """An inline of instances: duplicates between its own rows are named in clinical words."""

    def get_unique_error_message(self, unique_check):
        fields = set(unique_check)
        for constraint in self.model._meta.total_unique_constraints:
            if fields <= set(constraint.fields) and constraint.violation_error_message:
                # Every row of the inline has the same parent, so only the other fields are worth naming.
                named = [name for name in unique_check if name not in (self.fk.name, "patient")]
                labels = " and ".join(str(self.model._meta.get_field(name).verbose_name).lower() for name in named)
                return f"Two rows have the same {labels}. {constraint.violation_error_message}"
        return super().get_unique_error_message(unique_check)


class PatientFromParentFormSet(RegistryInlineFormSet):
    """Inline formset whose parent is not the patient (measurements of an assessment, variants of a biopsy).

    Each row's patient is the parent's patient, set before validation so the models' clean()
    (lesion of another patient ...) and the per-patient unique keys can be checked.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.instance.patient_id = self.instance.patient_id


class RegistryInlineMixin(ScopedForeignKeysMixin):
    """Inline permissions follow the parent object's site; instance numbers are never typed."""

    form = RepeatingInstanceForm
    formset = RegistryInlineFormSet
    extra = 0
    exclude = ("redcap_repeat_instance",)

    def site_id_of(self, parent) -> int | None:
        return parent.site_id if hasattr(parent, "site_id") else parent.patient.site_id

    def has_view_permission(self, request, obj=None):
        access = access_for(request.user)
        if access.role is None:
            return False
        return obj is None or access.can_see_site(self.site_id_of(obj))

    def has_change_permission(self, request, obj=None):
        access = access_for(request.user)
        if not access.can_write:
            return False
        return obj is None or access.can_change_site(self.site_id_of(obj))

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)
