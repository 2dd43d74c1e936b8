"""Each flat column bound to the model attribute that stores it, for import and export alike.

`instruments.column_owner()` says which form and dictionary field a column belongs to; this
module adds where its value lives on the model (a checkbox option, a `<form>_complete` status,
or, for `lm_date`, `lm_lesion` and `var_bx_date`, the instance it names) and how to read it back
as flat-format text.
"""
from dataclasses import dataclass
from functools import cache, cached_property

from django.db import models

from .dictionary import DictionaryField
from .instruments import (
    INSTRUMENTS, Instrument, InvalidValue, Reference, all_flat_columns, checkbox_attribute, coded_values, column_owner,
    format_value, missing_code_columns, parse_value,
)
from .missing_codes import (
    NEVER_CODED, Coded, cell_value, checkbox_code_suffix, coded_checkboxes, is_missing_code, missing_column,
    missing_data_codes,
)

_NOT_CODED = object()


@dataclass(frozen=True)
class FlatColumn:
    name: str  # the flat column, e.g. "alk_method___2"
    form: str
    field: DictionaryField | None  # None for `<form>_complete`
    checkbox_code: str | None
    attribute: str  # the model attribute; for a reference, the foreign key ("assessment")
    reference: Reference | None
    model_field: models.Field
    # The companion column of a field that takes a missing-data code (`line_end_missing`), else None.
    missing_attribute: str | None = None
    # A checkbox field that takes a missing-data code (registry/records/missing_codes.py): on its options'
    # columns and on its code columns, the field's companion (`alk_method_missing`); on a code column
    # (`alk_method___unk`, whose attribute is the companion) the code it ticks and the options it unticks.
    checkbox_missing_attribute: str | None = None
    missing_code: str | None = None
    option_attributes: tuple[str, ...] = ()

    @cached_property  # read for every cell of an import; the column never changes
    def plain(self) -> bool:
        """Whether the column's value is its attribute's, as stored."""
        return self.reference is None and self.missing_attribute is None and self.checkbox_missing_attribute is None

    @cached_property  # read for every cell of an import; the column never changes
    def attributes(self) -> tuple[str, ...]:
        """The model attributes a value of this column is written to (the field, and its code's)."""
        if self.missing_code is not None:
            return (self.attribute, *self.option_attributes)
        if self.checkbox_missing_attribute is not None:
            return (self.attribute, self.checkbox_missing_attribute)
        return (self.attribute,) if self.missing_attribute is None else (self.attribute, self.missing_attribute)

    def set_value(self, instance: models.Model, value) -> None:
        """Puts a parsed value (not a reference) on the instance: a Coded value stores the field's
        blank value and the code; any other value clears the code. A checkbox's code column ticked
        stores its code and unticks every option, unticked (or blank) clears its code if stored; an
        option ticked clears the field's code."""
        if self.missing_code is not None:
            if value:
                setattr(instance, self.attribute, self.missing_code)
                for attribute in self.option_attributes:
                    setattr(instance, attribute, False)
            elif getattr(instance, self.attribute) == self.missing_code:
                setattr(instance, self.attribute, "")
            return
        if self.checkbox_missing_attribute is not None:
            setattr(instance, self.attribute, bool(value))
            if value:
                setattr(instance, self.checkbox_missing_attribute, "")
            return
        if self.missing_attribute is None:
            setattr(instance, self.attribute, self.blank_value if value is None else value)
        elif isinstance(value, Coded):
            setattr(instance, self.attribute, self.blank_value)
            setattr(instance, self.missing_attribute, value.code)
        else:
            setattr(instance, self.attribute, self.blank_value if value is None else value)
            setattr(instance, self.missing_attribute, "")

    @cached_property  # read for every cell of an import; the column never changes
    def max_length(self) -> int | None:
        return self.model_field.max_length if isinstance(self.model_field, models.CharField) else None

    @cached_property  # read for every cell of an import; the column never changes
    def required(self) -> bool:
        """Required by the dictionary and by the model: a new instance cannot be saved without it."""
        return self.field is not None and self.field.required and not self.model_field.blank

    @property
    def blank_value(self):
        """What a blank cell stores when it erases (REDCap's overwrite) or fills a new instance."""
        if self.reference is not None or self.model_field.null:
            return None
        return self.model_field.get_default()

    def parse(self, text: str):
        """The stored value of a non-blank cell; raises InvalidValue. A reference parses to its key."""
        value = self.codes.get(text, _NOT_CODED)
        if value is _NOT_CODED:
            if is_missing_code(text):
                raise InvalidValue(self._no_code_reason(text))
            if self.missing_code is not None:
                raise InvalidValue(f"is not a checkbox value (1: the field holds the missing-data code "
                                   f"{self.missing_code}, 0: it does not)")
            return parse_value(self.field, text, checkbox_code=self.checkbox_code)
        return value

    @cached_property
    def codes(self) -> dict[str, object]:
        """The texts of a coded column and their values (instruments.coded_values), and of a column
        that takes missing-data codes each code as Coded(code); {} for any other."""
        if self.missing_code is not None:
            return {"0": False, "1": True}
        codes = dict(coded_values(self.field, checkbox_code=self.checkbox_code) or {})
        if self.missing_attribute is not None:
            codes.update((code, Coded(code)) for code in missing_data_codes())
        return codes

    def _no_code_reason(self, code: str) -> str:
        meaning = f"a missing-data code ({code} {missing_data_codes()[code].lower()})"
        if self.field is None:
            return f"is {meaning}, but a record status takes none (0 Incomplete, 1 Unverified, 2 Complete)"
        if self.checkbox_missing_attribute is not None:
            return (f"is {meaning}, but a checkbox option takes none (1 ticked, 0 not ticked): tick the code's own "
                    f"column {self.field.name}___{checkbox_code_suffix(code)} (1) instead")
        if self.checkbox_code is not None or self.missing_code is not None:
            return f"is {meaning}, but a checkbox option takes none (1 ticked, 0 not ticked)"
        if self.field.name in NEVER_CODED:
            return f"is {meaning}, but {self.field.name} identifies or dates a record and takes none"
        return f"is {meaning}, but {self.field.name} takes none"

    def text_of(self, instance: models.Model) -> str:
        """The cell text of this column for a stored (or about to be stored) instance."""
        return self.text_of_value(self.value_of(instance))

    def value_of(self, instance: models.Model):
        """What the column's text is made of: the attribute's value, or the instance named."""
        if self.reference is None:
            if self.missing_attribute is not None:
                return cell_value(instance, self.attribute)
            if self.missing_code is not None:  # blank unless the field holds a code: then 1 for its own
                code = getattr(instance, self.attribute)
                return None if not code else code == self.missing_code
            if self.checkbox_missing_attribute is not None and getattr(instance, self.checkbox_missing_attribute):
                return None  # a coded checkbox: its options are blank, as REDCap writes them
            return getattr(instance, self.attribute)
        if getattr(instance, f"{self.attribute}_id") is None:
            return None
        return getattr(instance, self.attribute)

    def text_of_value(self, value) -> str:
        if self.reference is None:
            return format_value(value)
        return "" if value is None else format_value(getattr(value, self.reference.target_field))

    def same_value(self, old, new) -> bool:
        """Whether two values of value_of() certainly have the same text, without writing them: equal
        values do (1 and True are both "1", Decimal("1.50") and Decimal("1.5") both "1.5"), and so
        do two references to the same instance. Values that differ may still (None and "")."""
        if self.reference is None:
            return old == new
        return (None if old is None else old.pk) == (None if new is None else new.pk)


def _column(name: str, instrument: Instrument) -> FlatColumn:
    form, field, code = column_owner()[name]
    reference = instrument.references.get(name)
    coded_checkbox = None if field is None else coded_checkboxes(instrument.model).get(field.name)
    if name in missing_code_columns():
        companion = missing_column(field.name)
        return FlatColumn(
            name=name, form=form, field=field, checkbox_code=None, attribute=companion, reference=None,
            model_field=instrument.model._meta.get_field(companion), checkbox_missing_attribute=companion,
            missing_code=missing_code_columns()[name][1], option_attributes=coded_checkbox,
        )
    if reference is not None:
        attribute = reference.attribute
    elif field is None:
        attribute = instrument.complete_field
    elif code is not None:
        attribute = checkbox_attribute(field.name, code)
    else:
        attribute = field.name
    model_field = instrument.model._meta.get_field(attribute)
    codable = reference is None and code is None and getattr(model_field, "takes_missing_code", False)
    return FlatColumn(
        name=name, form=form, field=field, checkbox_code=code, attribute=attribute, reference=reference,
        model_field=model_field, missing_attribute=missing_column(attribute) if codable else None,
        checkbox_missing_attribute=missing_column(field.name) if code is not None and coded_checkbox else None,
    )


@cache
def form_columns(form: str) -> tuple[FlatColumn, ...]:
    """The flat columns of one form, in `all_flat_columns()` order (a checkbox's code columns included)."""
    instrument = INSTRUMENTS[form]
    owners = column_owner()
    return tuple(_column(name, instrument) for name in all_flat_columns()[3:] if owners[name][0] == form)


@cache
def column_index() -> dict[str, int]:
    """Each flat column's position in `all_flat_columns()`, the layout of every row flat_rows() builds."""
    return {name: position for position, name in enumerate(all_flat_columns())}
