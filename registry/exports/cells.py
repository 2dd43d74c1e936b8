"""How one value is written in a dataset cell (derivation rules §8).

Dates ISO `YYYY-MM-DD`; booleans `1`/`0`; unknown and not applicable (None, or a stored blank
text) blank; codes as their integer codes; decimals plain, as stored but without trailing zeros.
"""
from datetime import date
from decimal import Decimal

from registry.records.missing_codes import Coded


def cell(value) -> str:
    if value is None or isinstance(value, Coded):  # a missing-data code: missing (the codebook says which)
        return ""
    # bool before int: True is an int too.
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise TypeError(f"No dataset format for {type(value).__name__} value {value!r}")


def plain_decimal(value: Decimal) -> str:
    """`12.484600` → `12.4846`, `16.000000` → `16`, never an exponent (`normalize()` gives `1E+2`)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# OWASP "CSV Injection": a spreadsheet program reads a cell starting with one of these as a formula
# (a tab or carriage return lets Excel skip to a formula behind it).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A text cell that a spreadsheet program shows as text: a leading `'` before a formula trigger.

    Only for values of text columns of files meant for people: a number (-35) or a date is never
    passed here, and files for programs (the REDCap flat format) keep every value byte for byte.
    """
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text
