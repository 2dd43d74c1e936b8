"""How the dictionary's forms and fields map onto models, and how each value is written as text.

REDCap's flat format is one row per record (its non-repeating forms) plus one row per repeating
instrument instance. Columns: `record_id`, `redcap_repeat_instrument`, `redcap_repeat_instance`,
then every field in dictionary order (a checkbox as one `field___code` column per choice) with
each form's `<form>_complete` after its last field.
"""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db import models

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, TreatmentLine, TumorAssessment,
)

from .dictionary import DictionaryField, data_dictionary
from .missing_codes import Coded, checkbox_code_columns, coded_checkboxes

RECORD_ID = "record_id"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"


@dataclass(frozen=True)
class Reference:
    """A flat-format field that names another instance of the same record by its key."""

    attribute: str  # the model's foreign key, e.g. "assessment"
    target: type[models.Model]  # e.g. TumorAssessment
    target_field: str  # the target's key field, e.g. "ta_date"
    description: str  # for messages: "tumor assessment dated"


@dataclass(frozen=True)
class Instrument:
    form: str
    model: type[models.Model]
    repeating: bool
    references: dict[str, Reference]

    @property
    def complete_field(self) -> str:
        return f"{self.form}_complete"

    @property
    def fields(self) -> list[DictionaryField]:
        return [f for f in data_dictionary().form_fields(self.form) if f.name != RECORD_ID]


INSTRUMENTS: dict[str, Instrument] = {
    "enrollment": Instrument("enrollment", Patient, repeating=False, references={}),
    "treatment_line": Instrument("treatment_line", TreatmentLine, repeating=True, references={}),
    "local_therapy": Instrument("local_therapy", LocalTherapy, repeating=True, references={}),
    "tumor_assessment": Instrument("tumor_assessment", TumorAssessment, repeating=True, references={}),
    "lesion": Instrument("lesion", Lesion, repeating=True, references={}),
    "lesion_measurement": Instrument(
        "lesion_measurement", LesionMeasurement, repeating=True,
        references={
            "lm_date": Reference("assessment", TumorAssessment, "ta_date", "tumor assessment dated"),
            "lm_lesion": Reference("lesion", Lesion, "les_id", "lesion with identifier"),
        },
    ),
    "biopsy": Instrument("biopsy", Biopsy, repeating=True, references={}),
    "ngs_variant": Instrument(
        "ngs_variant", NgsVariant, repeating=True,
        references={"var_bx_date": Reference("biopsy", Biopsy, "bx_date", "biopsy dated")},
    ),
    "vital_status": Instrument("vital_status", Patient, repeating=False, references={}),
}
REPEATING_INSTRUMENTS = {name: i for name, i in INSTRUMENTS.items() if i.repeating}
# Instruments whose instances name other instances (written after those they name).
DEPENDENT_INSTRUMENTS = ("lesion_measurement", "ngs_variant")


def checkbox_attribute(field_name: str, code: str) -> str:
    """The model attribute holding one checkbox option (`alk_method___1` → `alk_method_1`)."""
    return f"{field_name}_{code}"


@cache
def flat_columns() -> tuple[str, ...]:
    """The header of a REDCap flat export of this project, in REDCap's order."""
    columns = [RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    for form in data_dictionary().forms:
        for field in data_dictionary().form_fields(form):
            if field.name == RECORD_ID:
                continue
            if field.field_type == "checkbox":
                columns.extend(field.checkbox_columns())
            else:
                columns.append(field.name)
        columns.append(f"{form}_complete")
    return tuple(columns)


@cache
def all_flat_columns() -> tuple[str, ...]:
    """`flat_columns()` with, after the options of each checkbox field that takes a missing-data code,
    one column per code (`alk_method___unk`): every column a flat file of this project may have. An
    export writes a field's code columns only when one of its records holds a code in the field, as
    REDCap does (flat_export.export_columns)."""
    columns = []
    for name in flat_columns():
        columns.append(name)
        owner = _checkbox_ends().get(name)
        if owner is not None:
            columns.extend(checkbox_code_columns(owner))
    return tuple(columns)


@cache
def _checkbox_ends() -> dict[str, str]:
    """The last option column of each checkbox field that takes a code → the field."""
    ends = {}
    for form in data_dictionary().forms:
        coded = coded_checkboxes(INSTRUMENTS[form].model)
        for field in data_dictionary().form_fields(form):
            if field.field_type == "checkbox" and field.name in coded:
                ends[field.checkbox_columns()[-1]] = field.name
    return ends


@cache
def missing_code_columns() -> dict[str, tuple[str, str]]:
    """Each checkbox missing-data code column → (checkbox field, code): `alk_method___unk` → ("alk_method", "UNK")."""
    return {column: (field_name, code) for field_name in _checkbox_ends().values()
            for column, code in checkbox_code_columns(field_name).items()}


@cache
def column_owner() -> dict[str, tuple[str, DictionaryField | None, str | None]]:
    """Each flat column (except the three key columns) → (form, dictionary field, checkbox code).

    A `<form>_complete` column has no dictionary field (None). A checkbox's missing-data code column
    has its field and no checkbox code (missing_code_columns() says which code it is).
    """
    owners: dict[str, tuple[str, DictionaryField | None, str | None]] = {}
    for form in data_dictionary().forms:
        for field in data_dictionary().form_fields(form):
            if field.name == RECORD_ID:
                continue
            if field.field_type == "checkbox":
                for code, _ in field.choices:
                    owners[f"{field.name}___{code}"] = (form, field, code)
            else:
                owners[field.name] = (form, field, None)
        owners[f"{form}_complete"] = (form, None, None)
    for column, (field_name, _) in missing_code_columns().items():
        owners[column] = (data_dictionary().field(field_name).form, data_dictionary().field(field_name), None)
    return owners


# ---------------------------------------------------------------- codecs: text <-> value

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class InvalidValue(ValueError):
    """A value that its field cannot hold; the message is the reason, for the person who fixes it."""


def parse_date(raw: str) -> date:
    if not _DATE.match(raw):
        raise InvalidValue("is not a date in YYYY-MM-DD format")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue("is not a real calendar date") from None


def unstorable_text_reason(text: str) -> str | None:
    """Why a text cannot be stored in any column, or None: the databases refuse NUL characters (a
    500 from PostgreSQL otherwise), and lone surrogates are not Unicode text."""
    if "\x00" in text:
        return "contains a NUL character, which no field can hold"
    if text.isascii():  # no surrogate, and nothing to encode (most texts)
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def coded_values(field: DictionaryField | None, *, checkbox_code: str | None = None) -> dict[str, object] | None:
    """Each text a coded column accepts → what parse_value gives for it; None for a column that is
    not coded (a date, a number, a text). A lookup in it is parse_value for those texts (digits
    only: no NUL, no surrogate); parse_value still gives the reason for any other text."""
    if field is None:
        return {raw: int(raw) for raw in ("0", "1", "2")}
    if checkbox_code is not None:
        return {"0": False, "1": True}
    if field.field_type == "yesno":
        return {"0": 0, "1": 1}
    if field.field_type in ("radio", "dropdown"):
        return {code: int(code) for code in field.choice_labels}
    return None


def parse_value(field: DictionaryField | None, raw: str, *, checkbox_code: str | None = None):
    """Parse one non-blank cell into the value the model stores; raises InvalidValue with the reason.

    `field` None is a `<form>_complete` column.
    """
    reason = unstorable_text_reason(raw)
    if reason is not None:
        raise InvalidValue(reason)
    if field is None:
        if raw not in ("0", "1", "2"):
            raise InvalidValue("is not a record status (0 Incomplete, 1 Unverified, 2 Complete)")
        return int(raw)
    if checkbox_code is not None:
        if raw not in ("0", "1"):
            raise InvalidValue("is not a checkbox value (1 ticked, 0 not ticked)")
        return raw == "1"
    if field.field_type == "yesno":
        if raw not in ("0", "1"):
            raise InvalidValue("is not a yes/no code (1 Yes, 0 No)")
        return int(raw)
    if field.field_type in ("radio", "dropdown"):
        codes = field.choice_labels
        if raw not in codes:
            listed = ", ".join(f"{code} {label}" for code, label in codes.items())
            raise InvalidValue(f"is not a code of this field ({listed})")
        return int(raw)
    if field.validation == "date_ymd":
        return parse_date(raw)
    if field.validation == "integer":
        if not _INTEGER.match(raw):
            raise InvalidValue("is not a whole number")
        return int(raw)  # the dictionary's min/max: a soft check (registry/records/soft_checks.py)
    if field.validation == "number":
        if not _NUMBER.match(raw):
            raise InvalidValue("is not a number (digits with an optional decimal point)")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise InvalidValue("is not a number") from None
        return value  # the dictionary's min/max: a soft check (registry/records/soft_checks.py)
    return raw


def format_value(value) -> str:
    """Write a stored value as REDCap writes it in a raw export."""
    if value is None:
        return ""
    if isinstance(value, Coded):  # a missing-data code travels in the cell, as in REDCap
        return value.code
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


def format_decimal(value: Decimal) -> str:
    """Shortest plain notation: Decimal('28.00') → '28', Decimal('1.80') → '1.8', never '1E+1'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
