"""Soft checks: values that are allowed but unusual enough to ask about before they are kept.

A soft check asks, it does not refuse (types, codes and required fields stay refusals, in the models
and the import codecs). The workspace shows each check beside its field and saves once the
coordinator confirms the value or corrects it; a confirmation is stored with who and when
(`SoftCheckConfirmation`, registry/services/soft_checks.py) and holds while the value stays the same.
Imports and both APIs accept such values and answer the same checks as `warnings`.

The checks, each with its code:

    future_date          a date after today
    outside_range        a value outside the data dictionary's min/max (REDCap's range check)
    scan_after_death     a tumor assessment dated after the patient's date of death
    target_change        a target lesion whose diameter changed by more than the workspace setting's
                         percentage since the lesion's previous measurement
    scan_after_line_end  a scan more than the workspace setting's days after the end of the last line
                         that started before it, with no later line
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from registry.records.dictionary import data_dictionary

FUTURE_DATE = "future_date"
OUTSIDE_RANGE = "outside_range"
SCAN_AFTER_DEATH = "scan_after_death"
TARGET_CHANGE = "target_change"
SCAN_AFTER_LINE_END = "scan_after_line_end"


@dataclass(frozen=True)
class SoftCheck:
    """One question about one value of one instance.

    `instance` is the repeat instance (None on a non-repeating form, or for an instance not saved yet);
    `subject` tells instances apart that have no number yet (a lesion measurement: its lesion's les_id).
    """

    code: str
    form: str
    field: str
    value: str  # the value as REDCap raw text
    message: str
    instance: int | None = None
    subject: str = ""

    @property
    def key(self) -> str:
        """Names the check on a page (the confirmation tick box's value) and in an API's warnings."""
        where = self.subject or (str(self.instance) if self.instance is not None else "new")
        return f"{self.form}|{where}|{self.field}|{self.code}|{self.value}"


def _form_of(instance) -> str:
    from registry.records.instruments import INSTRUMENTS

    model = type(instance)
    forms = [name for name, instrument in INSTRUMENTS.items() if instrument.model is model]
    return forms[0] if forms else model._meta.model_name


def instance_soft_checks(instance, *, today: date, forms: Iterable[str] | None = None) -> list[SoftCheck]:
    """The soft checks one (validated, possibly unsaved) instance raises, on the fields of `forms`
    (a patient holds two: enrollment and vital status; default: every form of its model)."""
    from registry.records.instruments import INSTRUMENTS, format_value

    model = type(instance)
    names = list(forms) if forms is not None else [
        name for name, instrument in INSTRUMENTS.items() if instrument.model is model]
    repeat = getattr(instance, "redcap_repeat_instance", None)
    checks: list[SoftCheck] = []
    for form in names:
        for field in data_dictionary().form_fields(form):
            if field.name == "record_id" or not hasattr(instance, field.name):
                continue
            value = getattr(instance, field.name)
            if value is None or value == "":
                continue
            if isinstance(value, date) and value > today:
                checks.append(SoftCheck(
                    FUTURE_DATE, form, field.name, format_value(value),
                    f"{field.label}: {value:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d}).", repeat))
            if field.validation in ("integer", "number") and (field.minimum or field.maximum):
                number = Decimal(value)
                if field.minimum and number < Decimal(field.minimum):
                    checks.append(SoftCheck(
                        OUTSIDE_RANGE, form, field.name, format_value(value),
                        f"{field.label}: {format_value(value)} is below the expected minimum of {field.minimum}.",
                        repeat))
                if field.maximum and number > Decimal(field.maximum):
                    checks.append(SoftCheck(
                        OUTSIDE_RANGE, form, field.name, format_value(value),
                        f"{field.label}: {format_value(value)} is above the expected maximum of {field.maximum}.",
                        repeat))
    return checks
