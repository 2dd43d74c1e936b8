"""What every registry admin shares: the access rule, the audit door, instance numbering.

Registry users need only `is_staff`: what they may see and change comes from their registry role
and sites (registry.selectors.access), never from Django model permissions.
"""
from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import BadRequest, ObjectDoesNotExist, ValidationError
from django.forms.models import InlineForeignKeyField
from django.http import Http404, HttpResponseNotAllowed
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html

from registry.models import Patient, Role, Site
from registry.records.dictionary import data_dictionary
from registry.records.missing_codes import (
    clear_codes_of_values, codable_fields, coded_checkboxes, missing_column, refuse_blanks_without_code,
)
from registry.selectors.access import (
    access_for, changeable_sites, restrict_to_changeable, restrict_to_visible, visible_sites,
)
from registry.selectors.locks import NOTHING_LOCKED, record_locks
from registry.services.instances import (
    ADMIN_DOOR, RecordChangedMeanwhile, instance_delete, instance_save, instances_delete, instances_save,
    patient_id_of, record_version_check,
)
from registry.services.locks import RecordLocked, locked_data_refuse
from registry.services.patient_versions import current_versions

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


class ChoiceListFilter(admin.SimpleListFilter):
    """A list filter whose value must be one of its own choices.

    A value the filter does not offer (typed into the URL) is refused the way Django's admin refuses
    an unknown lookup: IncorrectLookupParameters, which the changelist answers with a redirect to
    `?e=1`. Never a server error, and never a list that silently ignores the filter.
    Subclasses implement `filter_by(queryset, value)` for a value of `lookups()`.
    """

    def choice_values(self) -> set[str]:
        return {str(value) for value, _label in self.lookup_choices}

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in self.choice_values():
            raise IncorrectLookupParameters(f"{self.parameter_name}: {value!r} is not one of this filter's choices.")
        return self.filter_by(queryset, value)

    def filter_by(self, queryset, value: str):
        raise NotImplementedError


class SiteListFilter(ChoiceListFilter):
    """Filter by site, offering only the sites the user may see."""

    title = "site"
    parameter_name = "site"

    def __init__(self, request, params, model, model_admin):
        self.site_path = model_admin.site_path
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(str(site.id), site.code) for site in visible_sites(request.user)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and value.isascii() and value.isdigit() and value not in self.choice_values():
            # Another site's id and an id that does not exist both give the same empty list: the
            # answer tells nothing about which site ids exist. The database is not asked, so an id
            # too large for an integer column is no error either.
            return queryset.none()
        return super().queryset(request, queryset)

    def filter_by(self, queryset, value: str):
        return queryset.filter(**{self.site_path: int(value)})


def refuse_nul_characters(request) -> None:
    """A query parameter holding a NUL character is a bad request (400).

    PostgreSQL text cannot hold one, so a filter or search naming it would fail in the database
    (a server error), and no value the admin offers contains one.
    """
    if any("\x00" in value for values in request.GET.lists() for value in values[1]):
        raise BadRequest("A query parameter contains a NUL character.")


class NulParametersRefusedMixin:
    """The changelist refuses a NUL character in its parameters (filters, search) before using them."""

    def changelist_view(self, request, extra_context=None):
        refuse_nul_characters(request)
        return super().changelist_view(request, extra_context)


class UnseenIsMissingMixin:
    """An object the user may not see answers exactly what an id that does not exist answers: 404.

    Django's admin answers a missing id with a redirect to the index (and a message naming the id)
    and an object the user may not view with 403: two answers that tell which ids exist at sites
    the user may not see. Every page that looks its object up with `get_object` (change, delete,
    Django's history, the password page, the patient's audit trail) answers the same plain 404 for both.
    """

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404("Nothing you may see has this id.")
        return obj


class ReadOnlyHistoryMixin:
    """django-simple-history's pages show the past and never write, for anyone.

    simple_history saves a form POSTed to a version's page ("revert") for anyone who may *view* the
    object, so read-only users could change data through it. Here both history pages (the list of
    versions and one version's page) answer a POST with 405 Method Not Allowed and write nothing;
    a version's page shows its values as disabled fields without a save button. To undo a change,
    someone who may change the record enters the old values on its ordinary change page, which
    saves through the ordinary door. An object the user may not see answers 404, as a missing id.
    Mixed in before SimpleHistoryAdmin.
    """

    read_only_methods = ("GET", "HEAD")

    def revert_disabled(self, request, obj=None):
        return True

    def _history_manager(self):
        return getattr(self.model, self.model._meta.simple_history_manager_attribute)

    def history_object(self, request, object_id):
        """The object whose history is asked for, if the user may see it; Http404 otherwise.

        A deleted object is read from its latest version, as simple_history does.
        """
        try:
            obj = self.get_queryset(request).filter(pk=object_id).first()
            if obj is None:
                latest = self._history_manager().filter(**{self.model._meta.pk.attname: object_id}).order_by(
                    "-history_date", "-history_id").first()
                obj = latest.instance if latest is not None else None
        except (ValueError, TypeError, ValidationError):  # an id that cannot be a primary key
            obj = None
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404("Nothing you may see has this id.")
        return obj

    def history_view(self, request, object_id, extra_context=None):
        self.history_object(request, unquote(object_id))
        if request.method not in self.read_only_methods:
            return HttpResponseNotAllowed(self.read_only_methods)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        object_id = unquote(object_id)
        self.history_object(request, object_id)
        try:
            version_exists = self._history_manager().filter(
                **{self.model._meta.pk.attname: object_id, "history_id": version_id}).exists()
        except (ValueError, TypeError, ValidationError):
            version_exists = False
        if not version_exists:
            raise Http404("Nothing you may see has this id.")
        if request.method not in self.read_only_methods:
            return HttpResponseNotAllowed(self.read_only_methods)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        admin_form = context.get("adminform")
        if admin_form is not None:  # a version's page: its values are shown, not offered for editing
            for field in admin_form.form.fields.values():
                field.disabled = True
        return super().render_history_view(request, template, context, **kwargs)


class RegistryAccessMixin(NulParametersRefusedMixin, UnseenIsMissingMixin, ScopedForeignKeysMixin):
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


class AdministratorOnlyMixin(NulParametersRefusedMixin, UnseenIsMissingMixin):
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


def warn_soft_checks(request, warnings) -> None:
    """One messages.warning listing the soft checks of values an admin page or import stored: they
    are accepted (REDCap's behaviour for a value outside its range), but worth a second look."""
    if not warnings:
        return
    listed = "; ".join(
        f"{warning.record} {warning.form}{'' if warning.instance is None else f' #{warning.instance}'}: "
        f"{warning.message}" for warning in warnings)
    messages.warning(request, f"Saved, with {len(warnings)} value{pluralize(len(warnings))} to check: {listed}")


def _warn_saved(request, instances) -> None:
    """The soft checks of the record instances just saved (others, such as sites, have none)."""
    from registry.records.instruments import INSTRUMENTS
    from registry.services.soft_checks import written_warnings

    record_models = {instrument.model for instrument in INSTRUMENTS.values()}
    written: dict[type, list[int]] = {}
    for instance in instances:
        if type(instance) in record_models and instance.pk is not None:
            written.setdefault(type(instance), []).append(instance.pk)
    warn_soft_checks(request, written_warnings(written))


class AuditedSaveMixin:
    """Every save and deletion through an admin page goes through the services of
    registry/services/instances.py, with the user and the door ("admin") in the audit trail; they
    lock the record, number new instances and wire the side effects. A value a soft check asks about
    is saved, with a warning message listing the checks."""

    def save_model(self, request, obj, form, change):
        # The page's version was checked, and the record locked, when the form was validated
        # (RecordVersionForm.clean), in this same transaction: nothing to check again here.
        instance_save(instance=obj, user=request.user, door=ADMIN_DOOR)
        _warn_saved(request, [obj])

    def delete_model(self, request, obj):
        instance_delete(instance=obj, user=request.user, door=ADMIN_DOOR)

    def delete_queryset(self, request, queryset):
        instances_delete(instances=queryset, user=request.user, door=ADMIN_DOOR)

    def save_formset(self, request, form, formset, change):
        saved = formset.save(commit=False)
        instances_save(saved=saved, deleted=formset.deleted_objects, user=request.user, door=ADMIN_DOOR)
        formset.save_m2m()
        _warn_saved(request, saved)


RECORD_VERSION_FIELD = "record_version"
UNVERSIONED_PAGE_MESSAGE = (
    "This page did not say which version of the record it showed (it may be older than the "
    "registry's last update); nothing was saved. Check the values below and save again."
)


class RecordVersionField(forms.CharField):
    """The version of the record a change page showed (hidden); never a change of the record itself."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def has_changed(self, initial, data):
        return False  # not listed among the changed fields in the admin's change message


class RecordVersionForm(forms.Form):
    """Mixed into the change form of a patient or of an instrument instance: carries the record's
    version from the moment the page was shown, and refuses the save when the record has been
    changed since (through any door), naming who changed it and when. Nothing is written then, and
    the form is shown again with what the user typed, now carrying the current version: saved
    again, after a look at the current values, it goes through."""

    record_version = RecordVersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields[RECORD_VERSION_FIELD]  # an add page: there is no version to carry yet
            return
        patient_id = patient_id_of(self.instance)
        if not self.is_bound:
            self.fields[RECORD_VERSION_FIELD].initial = current_versions([patient_id])[patient_id]

    def clean(self):
        cleaned_data = super().clean()
        refuse_blanks_without_code(self)  # a required field: a value or a missing-data code
        if self.instance.pk is None:
            # A new instance overwrites nothing; its record (once known) is locked all the same, so
            # that the model's unique checks that follow hold until it is saved.
            patient = cleaned_data.get("patient")
            patient_id = patient_id_of(self.instance) or getattr(patient, "pk", None)
            if patient_id is not None:
                record_version_check(patient_id=patient_id, expected_version=None)
                whole_record = record_locks([patient_id]).get(patient_id, NOTHING_LOCKED).record
                if whole_record is not None:  # a record locked as a whole takes no new instance
                    self.add_error(None, str(RecordLocked([whole_record])))
            return cleaned_data
        patient_id = patient_id_of(self.instance)
        expected = cleaned_data.get(RECORD_VERSION_FIELD) or ""
        try:
            # Locks the record until the page's transaction ends (the admin runs each page save in
            # one), so the page's writes follow this check with no other writer in between.
            record_version_check(patient_id=patient_id, expected_version=expected)
        except RecordChangedMeanwhile as conflict:
            if expected:
                self.add_error(None, changed_meanwhile_message(conflict, self.instance))
            else:
                self.add_error(None, UNVERSIONED_PAGE_MESSAGE)
            self._carry_version(conflict.current_version)
            return cleaned_data
        try:
            # Locked data: said on the page, before the save (the save service refuses it too).
            locked_data_refuse(saved=[self.instance])
        except RecordLocked as locked:
            self.add_error(None, str(locked))
        return cleaned_data

    def _carry_version(self, version: str) -> None:
        """The form shown again carries the record's current version: saving it again means saving
        over what is there now, which the user has been told to look at."""
        data = self.data.copy()
        data[self.add_prefix(RECORD_VERSION_FIELD)] = version
        self.data = data


def changed_meanwhile_message(conflict: RecordChangedMeanwhile, instance) -> str:
    """The error at the top of a change page whose record was changed after it was shown."""
    change = conflict.last_change
    who = change.user_name or "the system"
    when = f" at {change.changed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if change.changed_at else ""
    url = reverse(f"admin:registry_{instance._meta.model_name}_change", args=[quote(instance.pk)])
    return format_html(
        "This record was changed by {}{} after you opened this page; nothing was saved. Review the current "
        'values (<a href="{}" target="_blank" rel="noopener">open in a new tab</a>) and save again.',
        who, when, url,
    )


def with_missing_codes(fieldsets, model) -> list:
    """`fieldsets` with each codable field's missing-data code on its line, beside it (issue 12 §4):
    `"line_end"` becomes `("line_end", "line_end_missing")`. Fields already on a shared line stay, but
    for a checkbox field's options: its code goes at the end of their line."""
    codable = set(codable_fields(model))
    checkbox_ends = {options[-1]: missing_column(name) for name, options in coded_checkboxes(model).items()}

    def with_code(field):
        if isinstance(field, str):
            return (field, missing_column(field)) if field in codable else field
        return (*field, *(checkbox_ends[name] for name in field if name in checkbox_ends))

    return [(name, {**options, "fields": tuple(with_code(field) for field in options["fields"])})
            for name, options in fieldsets]


def with_record_version(fieldsets, obj) -> list:
    """`fieldsets` with the hidden record version in the first, on the change page of an existing object."""
    fieldsets = list(fieldsets)
    if obj is None or not fieldsets:
        return fieldsets
    name, options = fieldsets[0]
    fieldsets[0] = (name, {**options, "fields": (*options["fields"], RECORD_VERSION_FIELD)})
    return fieldsets


class RecordVersionMixin:
    """Change pages of patients and instrument instances carry the record's version (RecordVersionForm)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "form" not in kwargs:
            kwargs["form"] = type(self.form.__name__, (RecordVersionForm, self.form), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return with_record_version(super().get_fieldsets(request, obj), obj)


class RegistryAdmin(ReadOnlyHistoryMixin, RegistryAccessMixin, RecordVersionMixin, AuditedSaveMixin):
    """Mixed in before SimpleHistoryAdmin by every instrument and patient admin."""


class RepeatingInstanceForm(forms.ModelForm):
    """A form of one repeating instrument instance, checking the patient's unique keys before saving.

    Django checks Meta.constraints in `full_clean()` with the inline foreign key (and any field not
    on the form, such as a patient fixed by the parent page) excluded, so "one line number per
    patient" would otherwise only fail at INSERT, as a server error. This repeats those checks
    with the patient included and puts the message next to the field the coordinator typed.
    """

    def clean(self):
        cleaned_data = super().clean()
        refuse_blanks_without_code(self)  # a required field: a value or a missing-data code
        clear_codes_of_values(self.instance, cleaned_data, set(self.fields))
        return cleaned_data

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


class SettingsRowAdminMixin:
    """A one-row settings table (analysis settings, workspace settings): anyone with a registry role
    reads it, administrators change it; it is added while it does not exist, never twice, and never
    deleted (the registry has no "no settings" state). The subclass names `settings_model` and its update
    service `settings_update(*, values, user)`, through which every save goes (it keeps the history)."""

    settings_model = None
    settings_update = None

    def save_model(self, request, obj, form, change):
        # The form has applied its values to `obj`; the service takes only what differs from the
        # stored row (the change form posts every field, of which only some differ).
        stored = self.settings_model.objects.filter(pk=obj.pk).first() if obj.pk else None
        values = {
            name: getattr(obj, name) for name in form.fields
            if stored is None or getattr(stored, name) != getattr(obj, name)
        }
        # On an add, the service creates the row as pk 1; the admin's redirect needs that pk.
        obj.pk = type(self).settings_update(values=values, user=request.user).pk

    @staticmethod
    def _is_administrator(request) -> bool:
        return access_for(request.user).role == Role.ADMINISTRATOR

    def has_module_permission(self, request):
        return access_for(request.user).role is not None

    def has_view_permission(self, request, obj=None):
        return access_for(request.user).role is not None

    def has_change_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request):
        return self._is_administrator(request) and not self.settings_model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyRecordRowsMixin(RegistryAccessMixin):
    """Rows of a record written by their services only (soft-check confirmations, queries, locks,
    signatures): never added, changed or deleted through their own pages. Deleting a patient takes its
    rows with it, and the patient's delete page asks these admins whether they may go: the patient's
    deletion is what is authorised there (the user may change the site)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        match = request.resolver_match
        if match is None or (match.url_name or "").startswith(f"registry_{self.model._meta.model_name}_"):
            return False
        return RegistryAccessMixin.has_change_permission(self, request, obj)


class ReadOnlyMixin:
    """Nobody adds, changes or deletes here, whatever their permissions: rows written by a service only
    (derivation runs, query threads), shown for inspection."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
