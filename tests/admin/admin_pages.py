"""Reading and posting admin pages the way a browser would: the forms as rendered, then edited."""
from django import forms
from django.contrib.admin.utils import quote
from django.urls import reverse


def change_url(obj) -> str:
    return reverse(f"admin:registry_{obj._meta.model_name}_change", args=[quote(obj.pk)])


def delete_url(obj) -> str:
    return reverse(f"admin:registry_{obj._meta.model_name}_delete", args=[quote(obj.pk)])


def changelist_url(model) -> str:
    return reverse(f"admin:registry_{model._meta.model_name}_changelist")


def _add_form(data: dict, form) -> None:
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
            continue
        if isinstance(field, forms.MultiValueField):  # a date and a time, posted as two inputs
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{bound.html_name}_{index}"] = "" if part is None else part
            continue
        data[bound.html_name] = "" if value is None else value


def form_data_of(response) -> dict:
    """The POST data a browser would send back unchanged from an admin change (or add) page."""
    data: dict = {}
    _add_form(data, response.context["adminform"].form)
    # A history version's page has no inlines.
    inlines = response.context["inline_admin_formsets"] if "inline_admin_formsets" in response.context else []
    for inline in inlines:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def add_inline_row(data: dict, prefix: str, **values) -> None:
    """Add one new row to the inline formset `prefix` (e.g. "treatment_lines")."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value


def inline_errors(response, prefix: str) -> list[dict]:
    """Field errors of each form of inline `prefix`, as {field: [messages]}."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return [dict(form.errors) for form in inline.formset.forms]
    raise AssertionError(f"no inline {prefix} on the page")
