"""The REST API's JSON for records, drawn from the data dictionary, and its conversion to REDCap's
flat rows (so that every write goes through the one import, registry/services/records.py).

Field names are the dictionary's, exactly as REDCap exports them (a checkbox is one `field___code`
per option); values are the dictionary's raw codes, typed:

| dictionary field                        | JSON                                   |
|-----------------------------------------|----------------------------------------|
| radio, dropdown, yesno, `<form>_complete` | integer code, or null when not recorded |
| checkbox option `field___code`           | 1 ticked, 0 not ticked                 |
| a checkbox's missing-data code `field_missing` | a code ("UNK"), "" when none; its options 0 |
| text validated as date_ymd               | "YYYY-MM-DD", or null                  |
| text validated as integer / number       | number, or null                        |
| other text                               | string ("" when blank)                 |

A measurement names its assessment by `lm_date` and its lesion by `lm_lesion`, a variant its biopsy
by `var_bx_date`, as in REDCap. Instances of repeating instruments carry `redcap_repeat_instance`.

This module checks only the JSON types (an integer where a code goes, a string where a date goes);
what the values mean (a code of the field, a real date, a minimum, the models' rules) is checked by
the import's own parser (registry/records/instruments.py `parse_value`) and the models' clean(), once,
for every door.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from registry.records.flat_layout import FlatColumn, form_columns
from registry.records.import_result import ImportProblem
from registry.records.missing_codes import (
    checkbox_code_columns, coded_checkboxes, is_missing_code, missing_column, missing_data_codes,
)
from registry.records.instruments import (
    INSTRUMENTS, RECORD_ID, REPEAT_INSTANCE, REPEATING_INSTRUMENTS, format_decimal, unstorable_text_reason,
)
from registry.services.record_writes import instance_row

# Instruments of a record, in the dictionary's order: the patient resource holds enrollment, its
# own sub-resource holds vital_status, every repeating instrument is a list.
PATIENT_FORM = "enrollment"
VITAL_STATUS_FORM = "vital_status"
REPEATING_FORMS = tuple(REPEATING_INSTRUMENTS)
READ_ONLY_FIELDS = ("updated_at",)  # sent in answers, ignored when a client sends them back
_LARGEST_INSTANCE = 2_147_483_647


@dataclass(frozen=True)
class ApiField:
    name: str  # the flat column, e.g. "alk_method___2"
    kind: str  # code, checkbox, date, integer, number, text
    column: FlatColumn
    codes: tuple[tuple[int, str], ...]  # (code, label) for kind code and checkbox
    nullable: bool
    required: bool  # needed to create an instance
    max_length: int | None

    @property
    def missing_name(self) -> str | None:
        """`line_end_missing` beside a field that takes a missing-data code; None for any other."""
        return None if self.column.missing_attribute is None else missing_column(self.name)

    @property
    def label(self) -> str:
        if self.column.field is None:
            return f"{self.column.form} record status"
        label = self.column.field.label
        if self.column.checkbox_code is not None:
            label = f"{label}: {dict(self.column.field.choices)[self.column.checkbox_code]}"
        return label

    def codes_text(self) -> str:
        return ", ".join(f"{code} {label}" for code, label in self.codes)


def _api_field(column: FlatColumn) -> ApiField:
    model_field = column.model_field
    field = column.field
    codes: tuple[tuple[int, str], ...] = ()
    if field is None:
        kind, codes = "code", ((0, "Incomplete"), (1, "Unverified"), (2, "Complete"))
    elif column.checkbox_code is not None:
        kind, codes = "checkbox", ((1, "ticked"), (0, "not ticked"))
    elif field.field_type in ("radio", "dropdown", "yesno"):
        kind = "code"
        codes = tuple((int(code), label) for code, label in field.choice_labels.items())
    elif field.validation == "date_ymd":
        kind = "date"
    elif field.validation == "integer":
        kind = "integer"
    elif field.validation == "number":
        kind = "number"
    else:
        kind = "text"
    nullable = kind not in ("text", "checkbox") and (column.reference is not None or model_field.null)
    return ApiField(
        name=column.name, kind=kind, column=column, codes=codes, nullable=nullable, required=column.required,
        max_length=column.max_length,
    )


@cache
def api_fields(form: str) -> tuple[ApiField, ...]:
    """The form's fields; a checkbox's missing-data code is its companion `<field>_missing`
    (checkbox_codes), not the flat format's code columns."""
    return tuple(_api_field(column) for column in form_columns(form) if column.missing_code is None)


@dataclass(frozen=True)
class CheckboxCode:
    """A checkbox field that takes a missing-data code: `"alk_method_missing": "UNK"` in the API, the
    code's own column (`alk_method___unk` = 1) in the flat rows the API writes through."""

    field_name: str  # alk_method
    missing_name: str  # alk_method_missing
    options: tuple[str, ...]  # alk_method___1 ...
    code_columns: dict[str, str]  # code → its flat column

    @property
    def last_option(self) -> str:
        return self.options[-1]


@cache
def checkbox_codes(form: str) -> dict[str, CheckboxCode]:
    """`alk_method_missing` → its CheckboxCode, for each checkbox field of the form that takes a code."""
    found = {}
    for field_name in coded_checkboxes(INSTRUMENTS[form].model):
        options = tuple(field.name for field in api_fields(form)
                        if field.column.checkbox_code is not None and field.column.field.name == field_name)
        if options:
            found[missing_column(field_name)] = CheckboxCode(
                field_name, missing_column(field_name), options,
                {code: column for column, code in checkbox_code_columns(field_name).items()})
    return found


@cache
def _checkbox_code_after(form: str) -> dict[str, str]:
    """The last option of each checkbox field that takes a code → its `<field>_missing`."""
    return {checkbox.last_option: name for name, checkbox in checkbox_codes(form).items()}


@cache
def _fields_by_name(form: str) -> dict[str, ApiField]:
    return {field.name: field for field in api_fields(form)}


# ---------------------------------------------------------------------------- answers

def _json_value(field: ApiField, instance):
    column = field.column
    if column.reference is not None:
        if getattr(instance, f"{column.attribute}_id") is None:
            return None
        value = getattr(getattr(instance, column.attribute), column.reference.target_field)
    else:
        value = getattr(instance, column.attribute)
    if value is None:
        return None
    if field.kind == "checkbox":
        return 1 if value else 0
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format_decimal(value)
        return int(text) if "." not in text else float(text)
    return value


def form_values(form: str, instance) -> dict:
    """The form's fields of one stored instance (for enrollment and vital status: the patient); each
    codable field is followed by its missing-data code, "" when none (`"line_end": null,
    "line_end_missing": "UNK"`)."""
    values = {}
    after = _checkbox_code_after(form)
    for field in api_fields(form):
        values[field.name] = _json_value(field, instance)
        if field.missing_name is not None:
            values[field.missing_name] = getattr(instance, field.missing_name)
        elif field.name in after:  # a checkbox's code follows its options (which are then all 0)
            values[after[field.name]] = getattr(instance, after[field.name])
    return values


@cache
def _code_fields(form: str) -> dict[str, ApiField]:
    """`line_end_missing` → the field whose code it holds."""
    return {field.missing_name: field for field in api_fields(form) if field.missing_name is not None}


def instance_json(form: str, instance) -> dict:
    return {
        REPEAT_INSTANCE: instance.redcap_repeat_instance,
        **form_values(form, instance),
        "updated_at": instance.updated_at.isoformat(),
    }


# ---------------------------------------------------------------------------- requests → flat rows

class Problems:
    """The problems found converting a request, in the import's ImportProblem shape."""

    def __init__(self):
        self.items: list[ImportProblem] = []

    def add(self, record: str, instrument: str, instance, field: str, value, reason: str) -> None:
        self.items.append(ImportProblem(
            line=None, record=record, instrument=instrument, instance="" if instance is None else str(instance),
            field=field, value=_as_text(value), reason=reason,
        ))

    def keys(self) -> set[tuple[str, str, str, str]]:
        return {(p.record, p.instrument, p.instance, p.field) for p in self.items}

    def __bool__(self) -> bool:
        return bool(self.items)


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored in any text column, or None (the flat format's own rule)."""
    return unstorable_text_reason(text)


_WHOLE_NUMBER_KINDS = frozenset(("code", "checkbox", "integer", "number"))
_STRING_KINDS = frozenset(("text", "date"))


def cell_text(field: ApiField, value) -> tuple[str | None, str | None]:
    """(flat cell text, None) for a value of the right JSON type, or (None, reason)."""
    # The usual cases first: an integer where a number goes, a string where a text or a date goes.
    if type(value) is int and field.kind in _WHOLE_NUMBER_KINDS:
        return str(value), None
    if type(value) is str and field.kind in _STRING_KINDS:
        reason = text_problem(value)
        return (value, None) if reason is None else (None, reason)
    if value is None:
        if field.kind == "checkbox":
            return None, "must be 1 (ticked) or 0 (not ticked), not null"
        return "", None
    is_number = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    if field.kind in ("code", "checkbox"):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value), None
        return None, f"must be a whole-number code of this field ({field.codes_text()}), not {_type_name(value)}"
    if field.kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value), None
        if isinstance(value, (float, Decimal)) and not isinstance(value, bool):
            return None, "must be a whole number"
        return None, f"must be a whole number, not {_type_name(value)}"
    if field.kind == "number":
        if is_number:
            if isinstance(value, float):
                if value != value or value in (float("inf"), float("-inf")):
                    return None, "must be a finite number"
                value = Decimal(repr(value))
            return (format(value, "f") if isinstance(value, Decimal) else str(value)), None
        return None, f"must be a number, not {_type_name(value)}"
    if not isinstance(value, str):
        expected = "a date as a \"YYYY-MM-DD\" string" if field.kind == "date" else "a string"
        return None, f"must be {expected}, not {_type_name(value)}"
    reason = text_problem(value)
    if reason is not None:
        return None, reason
    return value, None


def form_cells(form: str, values: dict, problems: Problems, *, record: str, instance=None,
               ignore: tuple[str, ...] = READ_ONLY_FIELDS) -> dict[str, str]:
    """The flat cells of one form's values; unknown fields and wrong types are problems (the value
    is then left out, so the import does not report it a second time)."""
    known = _fields_by_name(form)
    code_fields = _code_fields(form)
    checkboxes = checkbox_codes(form)
    cells: dict[str, str] = {}
    codes: dict[str, tuple[str, str]] = {}  # field → (its `_missing` name, the code)
    checkbox_coded: dict[str, str] = {}  # a checkbox's `_missing` name → the code
    for name, value in values.items():
        if name in ignore:
            continue
        if name in checkboxes:
            if value is None or value == "":
                continue  # no code: the options sent (or not) say the rest
            if isinstance(value, str) and is_missing_code(value):
                checkbox_coded[name] = value
            else:
                listed = ", ".join(missing_data_codes())
                problems.add(record, form, instance, name, value,
                             f"must be a missing-data code of this project ({listed}), or blank for none")
            continue
        if name in code_fields:
            if value is None or value == "":
                continue  # no code: the field's own value (or its absence) says the rest
            if isinstance(value, str) and is_missing_code(value):
                codes[code_fields[name].name] = (name, value)
            else:
                listed = ", ".join(missing_data_codes())
                problems.add(record, form, instance, name, value,
                             f"must be a missing-data code of this project ({listed}), or blank for none")
            continue
        field = known.get(name)
        if field is None:
            problems.add(record, form, instance, name, value, f"is not a field of the {form} instrument")
            continue
        text, reason = cell_text(field, value)
        if reason is not None:
            problems.add(record, form, instance, name, value, reason)
            continue
        cells[name] = text
    for field_name, (name, code) in codes.items():
        if cells.get(field_name, ""):
            # A rule across two fields (a sentence, as the models' own): the schema cannot state it.
            problems.add(record, form, instance, name, code,
                         f"A value of {field_name} ({values[field_name]}) is sent with the missing-data code {code}; "
                         f"a field holds one or the other: send {field_name} null with the code.")
            del cells[field_name]
        elif field_name in values and field_name not in cells:
            continue  # the value was refused (and reported) already
        else:
            cells[field_name] = code  # the flat format's way: the code in the cell
    for name, code in checkbox_coded.items():
        checkbox = checkboxes[name]
        ticked = [option for option in checkbox.options if cells.get(option) == "1"]
        if ticked:
            problems.add(record, form, instance, name, code,
                         f"A ticked option ({', '.join(ticked)}) is sent with the missing-data code {code}; a "
                         "checkbox field holds ticked options or a code: send its options 0 with the code.")
            continue
        cells[checkbox.code_columns[code]] = "1"  # the flat format's way: the code's own column ticked
    return cells


def all_cells(form: str, cells: dict[str, str], problems: Problems) -> dict[str, str]:
    """`cells` with every other field of the form blank (a checkbox option unticked): a PUT replaces
    the whole form. A field refused by the conversion stays out (so that it is reported once)."""
    refused = {problem.field for problem in problems.items}
    blanks = {field.name: "0" if field.kind == "checkbox" else "" for field in api_fields(form)
              if field.name not in refused}
    for name, checkbox in checkbox_codes(form).items():  # a checkbox's code not sent is cleared
        if name not in refused:
            blanks.update(dict.fromkeys(checkbox.code_columns.values(), "0"))
    return {**blanks, **cells}


def record_row(record: str, cells: dict[str, str]) -> dict[str, str]:
    return {RECORD_ID: record, **cells}


def instance_number(value, problems: Problems, *, record: str, form: str) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _LARGEST_INSTANCE:
        return value
    if value is None:
        problems.add(record, form, None, REPEAT_INSTANCE, "", "is required: each instance names its number (from 1)")
    else:
        problems.add(record, form, None, REPEAT_INSTANCE, value, "must be a whole number from 1")
    return None


@dataclass
class NestedRecord:
    """One patient of a nested bulk upsert, as flat rows and what the upsert checks before them."""

    record_id: str
    site_code: str | None
    version: str | None
    rows: list[dict[str, str]]


RECORD_KEYS = (RECORD_ID, "site", "version", VITAL_STATUS_FORM, *REPEATING_FORMS)


def nested_record(item, position: int, problems: Problems) -> NestedRecord | None:
    """One element of a nested bulk upsert → its flat rows; None when it cannot be read at all."""
    if not isinstance(item, dict):
        problems.add("", "", None, "", item, f"record {position} is not an object of field names and values")
        return None
    record = item.get(RECORD_ID)
    if not isinstance(record, str) or not record.strip() or text_problem(record):
        problems.add("" if not isinstance(record, str) else record, PATIENT_FORM, None, RECORD_ID,
                     "" if record is None else record, f"record {position} needs its record_id, a non-blank string")
        return None
    record = record.strip()
    site_code = item.get("site")
    if site_code is not None and (not isinstance(site_code, str) or text_problem(site_code)):
        problems.add(record, PATIENT_FORM, None, "site", site_code, "must be a site code (a string)")
        site_code = None
    version = item.get("version")
    if version is not None and not isinstance(version, str):
        problems.add(record, PATIENT_FORM, None, "version", version,
                     "must be the version text the API sent for this record (its ETag)")
        version = None
    enrollment = {key: value for key, value in item.items() if key not in RECORD_KEYS}
    cells = form_cells(PATIENT_FORM, enrollment, problems, record=record)
    vital = item.get(VITAL_STATUS_FORM)
    if vital is not None:
        if isinstance(vital, dict):
            cells.update(form_cells(VITAL_STATUS_FORM, vital, problems, record=record))
        else:
            problems.add(record, VITAL_STATUS_FORM, None, VITAL_STATUS_FORM, vital, "must be an object of fields")
    rows = [record_row(record, cells)]
    for form in REPEATING_FORMS:
        instances = item.get(form)
        if instances is None:
            continue
        if not isinstance(instances, list):
            problems.add(record, form, None, form, instances, "must be a list of instances")
            continue
        for values in instances:
            if not isinstance(values, dict):
                problems.add(record, form, None, "", values, "is not an object of field names and values")
                continue
            number = instance_number(values.get(REPEAT_INSTANCE), problems, record=record, form=form)
            cells = form_cells(form, values, problems, record=record, instance=number,
                               ignore=(*READ_ONLY_FIELDS, REPEAT_INSTANCE))
            if number is not None:
                rows.append(instance_row(record, form, number, cells))
    return NestedRecord(record_id=record, site_code=site_code, version=version, rows=rows)


def instrument_label(form: str) -> str:
    return INSTRUMENTS[form].model._meta.verbose_name
