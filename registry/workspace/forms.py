"""The workspace's instrument forms, built from the models and the data dictionary alike.

One form per instrument instance, as REDCap shows it: the dictionary's labels, its field notes as help,
every code as its label, one date format (ISO, a text input with a picker beside it), a REDCap
checkbox field (`ta_scope`) as one group of tick boxes, identifier fields left out for users without
the identified grant, and the record's version carried along so that a save over a change made
meanwhile is refused (registry/services/instances.py).

Branching logic is evaluated on the server (registry/workspace/branching.py); a field it hides is still
rendered (hidden), so a value left in it reaches the server and is offered for deletion on save.
"""
from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.db import models
from django.utils import timezone

from registry.records.dictionary import DictionaryField, data_dictionary
from registry.records.instruments import INSTRUMENTS, checkbox_attribute
from registry.records.missing_codes import (
    MISSING_SUFFIX, clear_codes_of_values, codable_fields, coded_checkboxes, missing_code_choices, missing_column,
    refuse_blanks_without_code,
)
from registry.selectors.access import identifier_field_names

from .branching import form_values, hidden_fields

ISO_DATE_FORMAT = "%Y-%m-%d"
ISO_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"


class IsoDateInput(forms.TextInput):
    """A date typed as YYYY-MM-DD whatever the browser's locale; workspace.js adds a picker button beside it."""

    def __init__(self, attrs=None):
        defaults = {
            "pattern": ISO_DATE_PATTERN, "placeholder": "YYYY-MM-DD", "inputmode": "numeric",
            "autocomplete": "off", "size": "10", "maxlength": "10", "data-date-picker": "",
        }
        super().__init__({**defaults, **(attrs or {})}, )
        self.format = ISO_DATE_FORMAT


class IsoDateField(forms.DateField):
    widget = IsoDateInput
    input_formats = [ISO_DATE_FORMAT]
    default_error_messages = {"invalid": "Enter the date as YYYY-MM-DD, e.g. 2024-03-31."}


class RecordVersionField(forms.CharField):
    """The version of the record the page was rendered from (its ETag), sent back on save."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)


def _dictionary_field(name: str) -> DictionaryField | None:
    return data_dictionary().by_name.get(name)


class CodableBoundField(forms.BoundField):
    """A field that takes a missing-data code: `missing_code` is the bound select of its code, which
    field.html shows beside the input (the select itself is not one of the form's visible fields)."""

    @property
    def missing_code(self):
        name = missing_column(self.name)
        return self.form[name] if name in self.form.fields else None


def _missing_code_field(model_field: models.Field) -> forms.Field:
    return forms.TypedChoiceField(
        label="Missing-data code", required=False, empty_value="",
        choices=[("", "— no code"), *missing_code_choices()],
        help_text="Instead of a value: why it is missing (the value is then left empty).",
        widget=forms.Select(attrs={"class": "missing-code"}),
    )


def _formfield(model_field: models.Field, **kwargs) -> forms.Field | None:
    """The form field of one model field: ISO dates, coded values as labelled choices, help from the
    dictionary's field note, the dictionary's label."""
    if model_field.name.endswith(MISSING_SUFFIX) and (
            model_field.name.removesuffix(MISSING_SUFFIX) in codable_fields(model_field.model)
            or getattr(model_field, "codes_checkbox", False)):  # a checkbox field's code: one select for the group
        return _missing_code_field(model_field)
    dictionary = _dictionary_field(model_field.name)
    if dictionary is not None:
        kwargs.setdefault("label", dictionary.label)
        if dictionary.note:
            kwargs.setdefault("help_text", dictionary.note)
    if isinstance(model_field, models.DateField):
        return model_field.formfield(form_class=IsoDateField, **kwargs)
    if model_field.choices and dictionary is not None and dictionary.field_type in ("yesno", "radio") and len(
            model_field.choices) <= 4:
        field = model_field.formfield(widget=forms.RadioSelect, **kwargs)
        # Radio buttons have no blank choice to pick; "not known" is an unticked group (clearable by the form's reset).
        field.choices = [choice for choice in field.choices if choice[0] != ""]
        return field
    if isinstance(model_field, models.DecimalField):
        field = model_field.formfield(**kwargs)
        field.widget = forms.TextInput(attrs={"inputmode": "decimal", "size": "8"})
        return field
    if isinstance(model_field, models.PositiveIntegerField | models.IntegerField) and not model_field.choices:
        field = model_field.formfield(**kwargs)
        field.widget = forms.TextInput(attrs={"inputmode": "numeric", "size": "6"})
        return field
    return model_field.formfield(**kwargs)


class InstrumentForm(forms.ModelForm):
    """The base of every workspace instrument form.

    Subclasses come from `instrument_form_class`; `checkbox_groups` maps a dictionary checkbox field
    (`ta_scope`) to its model attributes (`ta_scope_1` ...), shown as one group of tick boxes.
    """

    form_name: str = ""
    checkbox_groups: dict[str, list[tuple[str, str, str]]] = {}  # field → [(code, label, model attribute)]

    record_version = RecordVersionField()
    # When the page was rendered (aware UTC, ISO): a refused save lists the changes made since.
    loaded_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, record_version: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["record_version"].initial = record_version
            self.fields["loaded_at"].initial = timezone.now().isoformat()
        for name, options in self.checkbox_groups.items():
            dictionary = _dictionary_field(name)
            self.fields[name] = forms.MultipleChoiceField(
                label=dictionary.label if dictionary else name, required=False,
                choices=[(code, label) for code, label, _ in options], widget=forms.CheckboxSelectMultiple,
                help_text=dictionary.note if dictionary and dictionary.note else "",
                initial=[code for code, _, attribute in options if getattr(self.instance, attribute, False)],
            )
        self.order_fields(self.dictionary_order())
        for name in self.missing_code_fields():
            self.fields[name.removesuffix(MISSING_SUFFIX)].bound_field_class = CodableBoundField

    # --- missing-data codes (issue 12 §4)
    def missing_code_fields(self) -> list[str]:
        """The `<field>_missing` selects of this form (shown beside their fields, not as fields)."""
        return [name for name in self.fields
                if name.endswith(MISSING_SUFFIX) and name.removesuffix(MISSING_SUFFIX) in self.fields]

    def visible_fields(self):
        companions = set(self.missing_code_fields())
        return [bound for bound in super().visible_fields() if bound.name not in companions]

    def clean(self):
        """A value and a code together: whichever the person changed wins (saving a value clears the
        code and choosing a code clears the value); both changed is an error naming the field."""
        cleaned = super().clean()
        for name in self.missing_code_fields():
            field_name = name.removesuffix(MISSING_SUFFIX)
            code, value = cleaned.get(name, ""), cleaned.get(field_name)
            if not code or value in (None, "", [], ()):
                continue
            if field_name in self.changed_data and name not in self.changed_data:
                cleaned[name] = ""
            elif name in self.changed_data and field_name not in self.changed_data:
                cleaned[field_name] = "" if isinstance(self.fields[field_name], forms.CharField) and not isinstance(
                    self.fields[field_name], forms.TypedChoiceField) else None
            else:
                self.add_error(name, f"Enter a value of '{self.fields[field_name].label}' or a missing-data code, "
                                     "not both.")
        refuse_blanks_without_code(self)  # a required field: a value or a code
        return cleaned

    def dictionary_order(self) -> list[str]:
        """The fields in the data dictionary's order (checkbox groups where the dictionary has them)."""
        return [field.name for field in data_dictionary().form_fields(self.form_name) if field.name in self.fields]

    def _post_clean(self):
        # The model's clean() reads the ticked options (e.g. new-lesion sites need "new lesion = yes").
        for name, options in self.checkbox_groups.items():
            if name in self.cleaned_data:
                ticked = set(self.cleaned_data[name] or ())  # None: a code chosen instead (clean())
                for code, _, attribute in options:
                    setattr(self.instance, attribute, code in ticked)
                if ticked and missing_column(name) not in self.fields and hasattr(self.instance, missing_column(name)):
                    # A page without the field's code select (the scan page): options ticked replace the code.
                    setattr(self.instance, missing_column(name), "")
        super()._post_clean()
        # A form without a field's code select (a scan's or a row's) that saves a value clears the code.
        clear_codes_of_values(self.instance, {name: getattr(self.instance, name) for name in self.fields
                                              if hasattr(self.instance, name)}, set(self.fields))

    # --- branching logic
    def current_values(self) -> dict[str, str]:
        """The values on the page (as typed, when bound), as REDCap raw text by export column."""
        return form_values(self)

    def hidden_by_logic(self) -> frozenset[str]:
        """Fields whose branching logic does not hold for the values on the page."""
        return hidden_fields(self.form_name, self.current_values(), names=self.fields)

    def values_in_hidden_fields(self) -> list[str]:
        """Hidden fields that still hold a value: offered for deletion on save."""
        values = self.current_values()
        found = []
        for name in sorted(self.hidden_by_logic()):
            if name in self.checkbox_groups:
                if any(values.get(f"{name}___{code}") == "1" for code, _, _ in self.checkbox_groups[name]):
                    found.append(name)
            elif values.get(name, "") != "":
                found.append(name)
        return found

    def clear_fields(self, names: Iterable[str]) -> None:
        """Empties these fields of the (valid) form's instance, as a coordinator asked on save."""
        for name in names:
            if name in self.checkbox_groups:
                for _, _, attribute in self.checkbox_groups[name]:
                    setattr(self.instance, attribute, False)
                continue
            model_field = self.instance._meta.get_field(name)
            empty = "" if isinstance(model_field, models.CharField) else None
            setattr(self.instance, name, empty)


def _checkbox_groups(form_name: str, model: type[models.Model]) -> dict[str, list[tuple[str, str, str]]]:
    groups = {}
    for field in data_dictionary().form_fields(form_name):
        if field.field_type == "checkbox":
            options = [(code, label, checkbox_attribute(field.name, code)) for code, label in field.choices]
            if all(hasattr(model, attribute) for _, _, attribute in options):
                groups[field.name] = options
    return groups


def instrument_form_class(
    form_name: str, *, user_sees_identified: bool = True, exclude: Iterable[str] = (),
    base: type[InstrumentForm] = InstrumentForm, missing_codes: bool = False,
) -> type[InstrumentForm]:
    """The ModelForm of one instrument (a dictionary form): its dictionary fields and its status,
    without the record key, identifier fields when the user may not see them, and `exclude`; with
    `missing_codes`, each codable field's missing-data code select (field.html shows it beside the
    field; a page that does not show them leaves them out)."""
    instrument = INSTRUMENTS[form_name]
    model = instrument.model
    groups = _checkbox_groups(form_name, model)
    grouped = {attribute for options in groups.values() for _, _, attribute in options}
    hidden = set(exclude) | ({*identifier_field_names()} if not user_sees_identified else set())
    names = [
        field.name for field in data_dictionary().form_fields(form_name)
        if field.name != "record_id" and field.field_type != "checkbox" and field.name not in hidden
        and hasattr(model, field.name)
    ]
    names = [name for name in names if name not in grouped]
    if missing_codes:
        codable = set(codable_fields(model))
        names = [companion for name in names
                 for companion in ((name, missing_column(name)) if name in codable else (name,))]
        # A checkbox field's code (one select beside its group of tick boxes).
        names += [missing_column(name) for name in coded_checkboxes(model) if name in groups and name not in hidden]
    names.append(instrument.complete_field)
    attributes = {
        "form_name": form_name,
        "checkbox_groups": {name: options for name, options in groups.items() if name not in hidden},
        # Django 5.2 reads the callback from Meta only (a class attribute is ignored).
        "Meta": type("Meta", (), {"model": model, "fields": names, "formfield_callback": staticmethod(_formfield)}),
    }
    return type(f"{model.__name__}{form_name.title().replace('_', '')}Form", (base,), attributes)
