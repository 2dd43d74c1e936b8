"""What an exported column is: its name, meaning, type, unit and codes (one row of the codebook).

A column of a raw record is described by the data dictionary (`dictionary_column`); a derived
column by the one description declared for it in registry/exports/analysis_columns.py. Every
file format writes its values from this description: CSV as text (cells.py), Excel, Parquet, SPSS
and Stata with the type given here and, for coded columns, their value labels.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from registry.records.dictionary import DictionaryField, data_dictionary
from registry.records.missing_codes import is_codable, missing_codes_text

RECORD_ID = "record_id"


class Kind(StrEnum):
    """The type of a column, as the codebook names it."""

    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"  # exact decimals in the registry; a double in typed formats
    BOOLEAN = "boolean"  # 1 yes, 0 no, blank unknown
    CODE = "integer code"  # one of `codes`, written as its integer code
    TEXT_CODE = "text code"  # one of `codes`, written as that text
    TEXT = "text"


# Columns whose values are free or coded text: what a spreadsheet program could take for a formula.
TEXT_KINDS = frozenset({Kind.TEXT, Kind.TEXT_CODE})


# Value labels of every boolean column: rules §8 writes booleans 1/0.
BOOLEAN_CODES = (("1", "Yes"), ("0", "No"))
# REDCap's labels of a checkbox option column `field___code`.
CHECKBOX_CODES = (("1", "Checked"), ("0", "Unchecked"))

# Units of raw fields: the dictionary names them in the label only ("Diameter in mm ..."), so they
# are declared here; tests/exports/test_codebook.py checks that every name is a dictionary field.
RAW_FIELD_UNITS = {
    "lm_mm": "mm",
    "var_vaf": "%",
    "var_cn": "copies",
    "ta_new_count": "lesions",
}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: Kind
    unit: str = ""
    codes: tuple[tuple[str, str], ...] = ()  # (value as CSV writes it, its label), in the codebook's order
    source: str = ""  # "data dictionary, form enrollment" or "derived, rules §3"
    identifier: bool = False  # the dictionary's "Identifier? = y": de-identification drops the column
    # A raw field that takes a missing-data code (issue 12 §4): a coded cell is blank (SPSS: user-missing).
    takes_missing_code: bool = False
    # A text column's declared width in bytes: the longest value it can hold (a raw field's model
    # max_length). SPSS and SAS transport variables take this width whatever the values present, so
    # that every export of a dataset has one layout. None for other kinds (a text code's width is
    # its longest code).
    width: int | None = None

    @property
    def is_record_id(self) -> bool:
        return self.name == RECORD_ID

    @property
    def value_labels(self) -> dict[int, str]:
        """Integer value → label, for SPSS and Stata; empty unless the column holds (or, a text code,
        is written there as) integer codes."""
        if self.kind in (Kind.CODE, Kind.BOOLEAN):
            return {int(code): label for code, label in self.codes}
        if self.kind is Kind.TEXT_CODE:
            return {number: dict(self.codes)[text] for text, number in self.integer_codes.items()}
        return {}

    @property
    def integer_codes(self) -> dict[str, int]:
        """A text code's integer in SPSS and Stata files: its place in the codebook's list, from 1
        (Stata labels numbers only). Empty for other kinds."""
        if self.kind is not Kind.TEXT_CODE:
            return {}
        return {text: number for number, (text, _) in enumerate(self.codes, start=1)}

    @property
    def text_width(self) -> int | None:
        """Bytes a text value of this column takes at most: the declared width, or a text code's
        longest code; None for other kinds, and for a text column declaring no width."""
        if self.kind is Kind.TEXT_CODE:
            return max((len(text.encode()) for text, _ in self.codes), default=1)
        return self.width if self.kind is Kind.TEXT else None

    def storage_note(self) -> str:
        """How SPSS, Stata and SAS transport files store the column when not as CSV does."""
        if self.kind is Kind.TEXT_CODE:
            numbers = ", ".join(f"{number} = {text}" for text, number in self.integer_codes.items())
            return f"stored as integer codes in .sav/.dta: {numbers}"
        if self.kind is Kind.TEXT and self.width is not None:
            return f"text of at most {self.width} bytes (.sav A{self.width})"
        return ""

    def codes_text(self) -> str:
        """The codes as the data dictionary writes choices: `1, Male | 2, Female`."""
        return " | ".join(f"{code}, {label}" for code, label in self.codes)

    def codebook_codes(self) -> str:
        """The codebook's codes: codes_text(), and for a column that takes missing-data codes what a
        coded cell is."""
        text = self.codes_text()
        if not self.takes_missing_code:
            return text
        missing = ("Missing-data codes, written blank (SPSS: user-missing values" +
                   (", a date or text blank" if self.kind in (Kind.DATE, Kind.TEXT, Kind.TEXT_CODE) else "") +
                   f"): {missing_codes_text()}")
        return f"{text} || {missing}" if text else missing


def _kind_of(field: DictionaryField) -> Kind:
    if field.field_type in ("radio", "dropdown", "yesno"):
        return Kind.CODE
    if field.validation == "date_ymd":
        return Kind.DATE
    if field.validation == "integer":
        return Kind.INTEGER
    if field.validation == "number":
        return Kind.NUMBER
    return Kind.TEXT


def dictionary_column(field_name: str, *, name: str | None = None, label: str | None = None) -> Column:
    """The column holding the dictionary field `field_name` as it is recorded (raw codes).

    `name` when the dataset calls it otherwise (rules §8: `cns_mets_at_start` is `line_cns_mets`).
    """
    field = data_dictionary().field(field_name)
    kind = _kind_of(field)
    renamed = f" (the field {field.name})" if name and name != field.name else ""
    return Column(
        name=name or field.name,
        label=label or field.label,
        kind=kind,
        unit=RAW_FIELD_UNITS.get(field.name, ""),
        codes=tuple(field.choice_labels.items()) if kind is Kind.CODE else (),
        source=f"data dictionary, form {field.form}{renamed}",
        identifier=field.identifier,
        takes_missing_code=_takes_missing_code(field),
        width=_declared_width(field) if kind is Kind.TEXT else None,
    )


def _declared_width(field: DictionaryField) -> int | None:
    """The longest text the field's model field holds (its max_length); for a column naming another
    instance (`lm_lesion`), the field it names. None when no model field bounds it."""
    from registry.models import Patient
    from registry.records.flat_layout import form_columns

    if field.name == RECORD_ID:
        return Patient._meta.get_field(RECORD_ID).max_length
    flat = next((column for column in form_columns(field.form) if column.name == field.name), None)
    if flat is None:
        return None
    if flat.reference is not None:
        return flat.reference.target._meta.get_field(flat.reference.target_field).max_length
    return flat.max_length


def _takes_missing_code(field: DictionaryField) -> bool:
    from registry.records.instruments import INSTRUMENTS  # the models, loaded once the app is ready

    return is_codable(INSTRUMENTS[field.form].model, field.name)


def checkbox_option_column(field_name: str, code: str) -> Column:
    """REDCap's column `field___code` of one option of a checkbox field: 1 ticked, 0 not."""
    field = data_dictionary().field(field_name)
    return Column(
        name=f"{field.name}___{code}",
        label=f"{field.label} (choice={dict(field.choices)[code]})",
        kind=Kind.CODE,
        codes=CHECKBOX_CODES,
        source=f"data dictionary, form {field.form}",
        identifier=field.identifier,
    )


def dictionary_codes(field_name: str) -> tuple[tuple[str, str], ...]:
    """The codes and labels of a coded dictionary field, for a derived column that shares them."""
    return tuple(data_dictionary().field(field_name).choice_labels.items())
