"""The saved report form: name, sharing, fields grouped by instrument, filter and sort.

The form only shapes input; the service (registry/services/saved_reports.py) checks the definition
against the data dictionary and the filterLogic parser, and its messages are shown beside the fields.
"""
from django import forms
from django.urls import reverse_lazy

from registry.api.redcap import project
from registry.models import SortDirection
from registry.records.dictionary import data_dictionary
from registry.records.instruments import RECORD_ID


def _label(name: str) -> str:
    dictionary = data_dictionary()
    if name in dictionary.by_name:
        return f"{dictionary.field(name).label} [{name}]"
    return f"Complete? [{name}]"


def field_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields a report may hold, grouped by instrument (Django's grouped choices)."""
    dictionary = data_dictionary()
    groups = []
    for form in dictionary.forms:
        names = [field.name for field in dictionary.form_fields(form) if field.name != RECORD_ID]
        names.append(f"{form}_complete")
        groups.append((project.instrument_label(form), [(name, _label(name)) for name in names]))
    return groups


class SavedReportForm(forms.Form):
    name = forms.CharField(max_length=200)
    shared = forms.BooleanField(
        required=False, label="Share with everyone who reads records",
        help_text="Each reader sees only the rows of the sites they may see, de-identified if that is how they "
                  "read data.")
    fields = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False, label="Fields")
    filter_logic = forms.CharField(
        required=False, label="Filter", widget=forms.Textarea(attrs={
            "rows": 3, "spellcheck": "false", "hx-get": reverse_lazy("workspace:report_filter_check"),
            "hx-trigger": "input changed delay:400ms", "hx-target": "#filter-check", "hx-swap": "outerHTML",
            "aria-describedby": "filter-check"}),
        help_text='REDCap filterLogic, e.g. [sex] = "2" and [line_drug] = "2". Blank: every record.')
    sort_field = forms.ChoiceField(required=False, label="Sort by")
    sort_direction = forms.ChoiceField(choices=SortDirection.choices, label="Direction")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = field_choices()
        self.fields["fields"].choices = choices
        self.fields["sort_field"].choices = [("", "Record order"), (RECORD_ID, "Record ID [record_id]")] + [
            (group, [(name, label) for name, label in names if data_dictionary().by_name.get(name) is None
                     or data_dictionary().field(name).field_type != "checkbox"])
            for group, names in choices
        ]
