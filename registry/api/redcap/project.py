"""The project as REDCap's API describes it, all from the data dictionary: metadata, instruments,
repeating instruments, export field names, and what each export column is (its kind for
filterLogic, its labels for rawOrLabel exports).

The registry is one REDCap classic project (not longitudinal: no events or arms) whose instruments
repeat, except enrollment and vital status; record_id is its record ID field.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from registry.records.dictionary import COLUMNS, DictionaryField, data_dictionary
from registry.records.instruments import (
    RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, all_flat_columns, column_owner,
    missing_code_columns,
)
from registry.records.missing_codes import checkbox_code_columns, missing_data_codes

from registry.records import filter_logic

ACCESS_GROUP = "redcap_data_access_group"
# The metadata keys of REDCap's API (export metadata), one for each of the data dictionary's 18
# columns, in the same order.
METADATA_KEYS = (
    "field_name", "form_name", "section_header", "field_type", "field_label", "select_choices_or_calculations",
    "field_note", "text_validation_type_or_show_slider_number", "text_validation_min", "text_validation_max",
    "identifier", "branching_logic", "required_field", "custom_alignment", "question_number", "matrix_group_name",
    "matrix_ranking", "field_annotation",
)
assert len(METADATA_KEYS) == len(COLUMNS)

# REDCap's labels of its own columns (label headers and label exports).
KEY_COLUMN_LABELS = {
    REPEAT_INSTRUMENT: "Repeat Instrument", REPEAT_INSTANCE: "Repeat Instance", ACCESS_GROUP: "Data Access Group",
}
# A form's status field: REDCap's codes and labels; its label header is "Complete?".
FORM_STATUS_LABELS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
# An instrument's label: REDCap keeps it beside the dictionary (the Online Designer); these are the
# registry's. A form missing here is labelled from its name.
INSTRUMENT_LABELS = {
    "enrollment": "Enrollment", "treatment_line": "Treatment line", "local_therapy": "Local therapy",
    "tumor_assessment": "Tumor assessment", "lesion": "Lesion", "lesion_measurement": "Lesion measurement",
    "biopsy": "Biopsy", "ngs_variant": "NGS variant", "vital_status": "Vital status",
}
RECORD_FORMS = ("enrollment", "vital_status")


def instrument_label(form: str) -> str:
    return INSTRUMENT_LABELS.get(form) or form.replace("_", " ").capitalize()


def metadata(*, fields: list[str], forms: list[str]) -> list[dict[str, str]]:
    """The dictionary's rows with REDCap's metadata keys; only the given fields and forms' fields
    when either is given. Raises UnknownNames for names that are not the project's."""
    dictionary = data_dictionary()
    _check_names("fields", fields, set(dictionary.by_name))
    _check_names("forms", forms, set(dictionary.forms))
    chosen = [
        field for field in dictionary.fields
        if not (fields or forms) or field.name in fields or field.form in forms
    ]
    return [dict(zip(METADATA_KEYS, field.row, strict=True)) for field in chosen]


def instruments() -> list[dict[str, str]]:
    return [{"instrument_name": form, "instrument_label": instrument_label(form)} for form in data_dictionary().forms]


def repeating_instruments() -> list[dict[str, str]]:
    """A classic project's repeating instruments: form_name and custom_form_label (no event_name)."""
    return [
        {"form_name": form, "custom_form_label": ""}
        for form in data_dictionary().forms if form in REPEATING_INSTRUMENTS
    ]


def export_field_names(field: str = "") -> list[dict[str, str]]:
    """Each field's export names: a checkbox has one per choice (`field___code`), and one per
    missing-data code when it takes one (`alk_method___unk`, choice value `UNK`), every form its
    `<form>_complete` (as PyCap documents REDCap's answer). `field` limits it to one field."""
    dictionary = data_dictionary()
    coded = {field_name for field_name, _ in missing_code_columns().values()}
    rows = []
    for form in dictionary.forms:
        for item in dictionary.form_fields(form):
            if item.field_type == "checkbox":
                rows += [
                    {"original_field_name": item.name, "choice_value": code,
                     "export_field_name": f"{item.name}___{code}"}
                    for code, _ in item.choices
                ]
                if item.name in coded:
                    rows += [
                        {"original_field_name": item.name, "choice_value": code, "export_field_name": column}
                        for column, code in checkbox_code_columns(item.name).items()
                    ]
            else:
                rows.append({"original_field_name": item.name, "choice_value": "", "export_field_name": item.name})
        status = f"{form}_complete"
        rows.append({"original_field_name": status, "choice_value": "", "export_field_name": status})
    if field:
        rows = [row for row in rows if row["original_field_name"] == field]
        if not rows:
            raise UnknownNames("field", [field])
    return rows


class UnknownNames(ValueError):
    """Names given in a parameter that are not the project's; the message is REDCap's."""

    def __init__(self, parameter: str, names: list[str]):
        listed = ", ".join(f"'{name}'" for name in names)
        super().__init__(f"The following values in the parameter \"{parameter}\" are not valid: {listed}")


def _check_names(parameter: str, given: list[str], known: set[str]) -> None:
    unknown = [name for name in given if name not in known]
    if unknown:
        raise UnknownNames(parameter, unknown)


# ---------------------------------------------------------------- export columns


@dataclass(frozen=True)
class ColumnInfo:
    name: str  # the export column
    form: str | None  # None for the three key columns
    field: DictionaryField | None  # None for a key column or a `<form>_complete`
    checkbox_code: str | None
    kind: str  # filter_logic.TEXT, NUMBER or DATE
    label: str  # the label header (rawOrLabelHeaders=label)

    def value_label(self, raw: str, *, checkbox_labels: bool) -> str:
        """The cell as a label export writes it (rawOrLabel=label); blank stays blank."""
        if raw == "":
            return raw
        if self.name == REPEAT_INSTRUMENT:
            return instrument_label(raw)
        if self.form is not None and self.field is None:  # a form's status
            return FORM_STATUS_LABELS.get(raw, raw)
        if self.field is None:
            return raw
        if self.checkbox_code is not None:
            # REDCap: "Checked"/"Unchecked", or with exportCheckboxLabel the choice's label or blank.
            if checkbox_labels:
                return self.choice_label if raw == "1" else ""
            return "Checked" if raw == "1" else "Unchecked"
        if self.field.is_coded:
            return self.field.choice_labels.get(raw, raw)
        return raw

    @property
    def choice_label(self) -> str:
        """A checkbox column's choice label: the option's, or the missing-data code's (its code column)."""
        if self.checkbox_code in self.field.choice_labels:
            return self.field.choice_labels[self.checkbox_code]
        return missing_data_codes().get(self.checkbox_code, "")


def _kind(field: DictionaryField | None, checkbox_code: str | None) -> str:
    if field is None or checkbox_code is not None or field.is_coded:
        return filter_logic.NUMBER  # form status, checkbox option, radio/dropdown/yes-no codes
    if field.validation == "date_ymd":
        return filter_logic.DATE
    if field.validation in ("integer", "number"):
        return filter_logic.NUMBER
    return filter_logic.TEXT


@cache
def columns() -> dict[str, ColumnInfo]:
    """Every export column of the flat format, in its order, and the data access group column."""
    dictionary = data_dictionary()
    found = {
        RECORD_ID: ColumnInfo(RECORD_ID, None, dictionary.field(RECORD_ID), None, filter_logic.TEXT,
                              dictionary.field(RECORD_ID).label),
        REPEAT_INSTRUMENT: ColumnInfo(REPEAT_INSTRUMENT, None, None, None, filter_logic.TEXT,
                                      KEY_COLUMN_LABELS[REPEAT_INSTRUMENT]),
        REPEAT_INSTANCE: ColumnInfo(REPEAT_INSTANCE, None, None, None, filter_logic.NUMBER,
                                    KEY_COLUMN_LABELS[REPEAT_INSTANCE]),
        ACCESS_GROUP: ColumnInfo(ACCESS_GROUP, None, None, None, filter_logic.TEXT, KEY_COLUMN_LABELS[ACCESS_GROUP]),
    }
    for name in all_flat_columns()[3:]:
        form, field, code = column_owner()[name]
        # A checkbox's missing-data code column is one more choice of the field, its code the choice's.
        code = missing_code_columns()[name][1] if name in missing_code_columns() else code
        if field is None:
            label = "Complete?"
        elif code in missing_data_codes():
            label = f"{field.label} (choice={missing_data_codes()[code]})"
        elif code is not None:
            label = f"{field.label} (choice={field.choice_labels[code]})"
        else:
            label = field.label
        found[name] = ColumnInfo(name, form, field, code, _kind(field, code), label)
    return found


def column_kinds() -> dict[str, str]:
    return {name: info.kind for name, info in columns().items()}


def date_columns() -> frozenset[str]:
    """Columns holding a date_ymd value (the ones an import's dateFormat applies to)."""
    return frozenset(name for name, info in columns().items() if info.kind == filter_logic.DATE)


def selected_columns(*, fields: list[str], forms: list[str]) -> list[str]:
    """The data columns (after the three key columns) of an export of `fields` and `forms`: all
    when neither is given, else every column of each field (a checkbox: each choice) and of each
    form (with its status), in export order. Raises UnknownNames."""
    dictionary = data_dictionary()
    statuses = {f"{form}_complete" for form in dictionary.forms}
    known_fields = set(dictionary.by_name) | statuses
    # REDCap takes a checkbox's field name; an export name (`alk_method___2`, `alk_method___unk`) is taken
    # too. A checkbox's missing-data code columns are chosen with it; the export leaves out those of a
    # field that no record exported holds a code in (record_export.with_codes_in_use).
    export_names = set(all_flat_columns())
    _check_names("fields", [name for name in fields if name not in export_names], known_fields)
    _check_names("forms", forms, set(dictionary.forms))
    data_columns = all_flat_columns()[3:]
    if not fields and not forms:
        return list(data_columns)
    wanted_fields, wanted_forms = set(fields), set(forms)
    chosen = []
    for name in data_columns:
        form, field, _ = column_owner()[name]
        if form in wanted_forms or name in wanted_fields or (field is not None and field.name in wanted_fields):
            chosen.append(name)
    return chosen


def form_of_column(name: str) -> str | None:
    return columns()[name].form
