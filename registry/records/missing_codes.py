"""Missing-data codes: why a value is missing, entered instead of the value (issue 12 §4).

REDCap's default list (`NI` no information, `UNK` unknown, `NASK` not asked, `ASKU` asked but unknown,
`NA` not applicable, `NAVU` not available, `ND` not done) unless the setting MISSING_DATA_CODES
(environment: REGISTRY_MISSING_DATA_CODES, read and checked at start-up by config/settings) names
another. A codable field `f` keeps its typed column and gets a companion `f_missing` (a short code,
blank by default); the database keeps `f` empty while `f_missing` is set (registry/models/fields.py).

Every field of the data dictionary takes a code except the fields that identify or date a record
(derivation rules §0, v2), the `<form>_complete` statuses and the columns that are not in the
dictionary. A field the dictionary requires holds a value or a code: its column is nullable, and a blank
without a code is refused by every door as before (the database keeps "a value or a code").
"""
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_MISSING_DATA_CODES: dict[str, str] = {
    "NI": "No information",
    "UNK": "Unknown",
    "NASK": "Not asked",
    "ASKU": "Asked but unknown",
    "NA": "Not applicable",
    "NAVU": "Not available",
    "ND": "Not done",
}

# Derivation rules §0 (v2): the fields that identify or date a record never take a code.
NEVER_CODED = frozenset({
    "record_id", "line_no", "line_start", "ta_date", "les_id", "les_line", "lm_date", "lm_lesion", "bx_date",
    "var_bx_date", "lt_date",
})

MISSING_SUFFIX = "_missing"
CODE_MAX_LENGTH = 8
# Letters first, so that a code is never read as a number or a date in a flat file's cell.
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,%d}$" % (CODE_MAX_LENGTH - 1))


def check_missing_data_codes(codes, *, name: str = "MISSING_DATA_CODES") -> dict[str, str]:
    """The codes as {code: label}; raises ImproperlyConfigured naming `name` when one is malformed."""
    checked: dict[str, str] = {}
    for code, label in dict(codes).items():
        if not isinstance(code, str) or not _CODE.match(code):
            raise ImproperlyConfigured(
                f"{name}: missing-data code {code!r} must be 1 to {CODE_MAX_LENGTH} capital letters, digits or "
                "underscores, starting with a letter (so that it is never read as a value)"
            )
        if not isinstance(label, str) or not label.strip():
            raise ImproperlyConfigured(f"{name}: missing-data code {code!r} needs a label")
        checked[code] = label.strip()
    if not checked:
        raise ImproperlyConfigured(f"{name} must name at least one missing-data code")
    return checked


def parse_missing_data_codes(text: str, *, name: str) -> dict[str, str]:
    """`NI=No information,UNK=Unknown` → {"NI": "No information", "UNK": "Unknown"} (checked)."""
    pairs = {}
    for item in text.split(","):
        if not item.strip():
            continue
        code, separator, label = item.partition("=")
        if not separator:
            raise ImproperlyConfigured(f"{name} must list CODE=label pairs separated by commas; got {item.strip()!r}")
        if code.strip() in pairs:
            raise ImproperlyConfigured(f"{name} names the missing-data code {code.strip()!r} twice")
        pairs[code.strip()] = label
    return check_missing_data_codes(pairs, name=name)


def missing_data_codes() -> dict[str, str]:
    """The project's codes, {code: label}, in the order they are offered."""
    return getattr(settings, "MISSING_DATA_CODES", DEFAULT_MISSING_DATA_CODES)


def missing_code_choices() -> list[tuple[str, str]]:
    """Choices of every `<field>_missing` column (a callable, so migrations do not copy the list)."""
    return [(code, f"{code} {label}") for code, label in missing_data_codes().items()]


def is_missing_code(text: str) -> bool:
    return text in missing_data_codes()


def missing_column(field_name: str) -> str:
    """The companion column holding the code of `field_name` (`line_end` → `line_end_missing`)."""
    return f"{field_name}{MISSING_SUFFIX}"


def is_codable(model, field_name: str) -> bool:
    """Whether `field_name` of `model` takes a missing-data code (it has a companion column)."""
    return field_name in codable_fields(model)


def codable_fields(model_or_form) -> tuple[str, ...]:
    """The codable fields of a model or of a dictionary form name, in the model's field order."""
    if isinstance(model_or_form, str):
        from .instruments import INSTRUMENTS
        instrument = INSTRUMENTS[model_or_form]
        names = {field.name for field in instrument.fields}
        return tuple(name for name in codable_fields(instrument.model) if name in names)
    return tuple(
        field.name for field in model_or_form._meta.concrete_fields if getattr(field, "takes_missing_code", False)
    )


@dataclass(frozen=True)
class Coded:
    """A missing-data code standing where a value would be (flat files, REDCap API, analysis readers)."""

    code: str

    def __str__(self) -> str:
        return self.code


# SPSS user-missing values of numeric variables: the codes in the list's order from -991 down (REDCap's
# list gives NI -991, UNK -992, NASK -993, ASKU -994, NA -995, NAVU -996, ND -997), declared missing as one range.
SPSS_MISSING_START = -991


def spss_missing_values() -> dict[str, int]:
    """Each code → the number a numeric SPSS variable holds for it (a user-missing value)."""
    return {code: SPSS_MISSING_START - position for position, code in enumerate(missing_data_codes())}


def missing_codes_text() -> str:
    """The codes for a codebook: `NI -991 No information | UNK -992 Unknown | ...`."""
    numbers = spss_missing_values()
    return " | ".join(f"{code} {numbers[code]} {label}" for code, label in missing_data_codes().items())


def clear_codes_of_values(instance, values, shown: set[str] | frozenset[str]) -> None:
    """A form that shows a field but not its code (a row of a table) and is given a value for it:
    the value replaces the stored code, as a value typed in a flat file does."""
    for field_name in codable_fields(type(instance)):
        if field_name in values and missing_column(field_name) not in shown and values[field_name] not in (None, ""):
            setattr(instance, missing_column(field_name), "")
    for field_name, options in coded_checkboxes(type(instance)).items():  # an option ticked replaces the code
        if missing_column(field_name) not in shown and any(values.get(option) for option in options):
            setattr(instance, missing_column(field_name), "")


def cell_value(instance, field_name: str):
    """The value of `field_name`, or Coded(code) when a missing-data code is entered instead."""
    code = getattr(instance, missing_column(field_name), "")
    return Coded(code) if code else getattr(instance, field_name)


def refuse_blanks_without_code(form) -> None:
    """In a form's clean(): each required field that takes a code (its form field says `required_or_coded`,
    registry/models/fields.py) left blank without a code gets the form's own "This field is required.".
    The code is the form's select beside the field when it shows one, else the one stored (a form that
    shows the field alone, as a table row, keeps a stored code while the field stays blank)."""
    for name, field in form.fields.items():
        if not getattr(field, "required_or_coded", False) or name in form.errors:
            continue
        if form.cleaned_data.get(name) not in (None, "", [], ()):
            continue
        companion = missing_column(name)
        if companion in form.fields:
            code = form.cleaned_data.get(companion, "")
        else:
            code = getattr(form.instance, companion, "")
        if not code:
            form.add_error(name, field.error_messages["required"])


# ---------------------------------------------------------------- checkbox fields
# REDCap offers each missing-data code as one more option of a checkbox field. Its flat files carry the
# code as a column of its own after the real options, named as REDCap names a checkbox column
# (`alk_method___unk`: the code lowercased, `-` and `.` as `_`, anything else dropped), and it writes
# those columns only when some record of the export holds a code in the field. Here the field's code is
# stored in one companion `<field>_missing` (registry/models/fields.py CheckboxMissingCode), and a coded
# field has no real option ticked. A code starts with a letter, so its column never meets a real option's
# (the dictionary's checkbox codes are numbers).


def coded_checkboxes(model) -> dict[str, tuple[str, ...]]:
    """Each checkbox field of `model` that takes a missing-data code → the model attributes of its options."""
    return {
        field.checkbox_field: field.option_attributes
        for field in model._meta.concrete_fields if getattr(field, "codes_checkbox", False)
    }


def checkbox_code_suffix(code: str) -> str:
    """REDCap's column suffix of a checkbox choice: `UNK` → `unk`, `-1` → `_1`."""
    return re.sub(r"[^a-z_0-9]", "", code.replace("-", "_").replace(".", "_").lower())


def checkbox_code_columns(field_name: str) -> dict[str, str]:
    """The flat columns of a checkbox field's missing-data codes → the code (`alk_method___unk` → `UNK`)."""
    return {f"{field_name}___{checkbox_code_suffix(code)}": code for code in missing_data_codes()}


def code_companion(model, attribute: str) -> str | None:
    """The column holding the code that stands for `attribute` of `model`: its own companion for a codable
    field, its field's for an option of a checkbox field that takes a code (`alk_method_2` →
    `alk_method_missing`); None for any other attribute (a lookup across a relation included)."""
    if is_codable(model, attribute):
        return missing_column(attribute)
    for field_name, options in coded_checkboxes(model).items():
        if attribute in options:
            return missing_column(field_name)
    return None
