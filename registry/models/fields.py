"""Field constructors for the data dictionary's field types, so every model spells them alike.

Dictionary field names are kept as model field names: they are the contract for imports,
exports and APIs. A checkbox field `f` with code `c` (REDCap column `f___c`) is the boolean
model field `f_c`, because Django field names cannot contain a double underscore.
"""
from django.core.validators import RegexValidator
from django.db import models

from .choices import RecordStatus, YesNo


def coded(choices: type[models.IntegerChoices], label: str, *, required: bool = False, **kwargs):
    """A radio or dropdown field storing the dictionary's code."""
    return models.PositiveSmallIntegerField(
        label, choices=choices.choices, null=not required, blank=not required, **kwargs
    )


def yes_no(label: str):
    """A REDCap yesno field: 1 yes, 0 no, blank unknown (unknown is not no)."""
    return models.PositiveSmallIntegerField(label, choices=YesNo.choices, null=True, blank=True)


def date(label: str, *, required: bool = False, **kwargs):
    """A date_ymd text field: an ISO date, stored as a date."""
    return models.DateField(label, null=not required, blank=not required, **kwargs)


def text(label: str, *, max_length: int = 200, required: bool = False, **kwargs):
    return models.CharField(label, max_length=max_length, blank=not required, default="", **kwargs)


# The dictionary's Text Validation Min/Max are not validators here: as in REDCap, a value outside them
# is saved once confirmed, so they are a soft check (registry/records/soft_checks.py OUTSIDE_RANGE,
# read from the dictionary). What the column itself can hold stays a refusal: a positive integer's
# sign and range, a decimal's digits and places.


def integer(label: str, *, required: bool = False):
    return models.PositiveIntegerField(label, null=not required, blank=not required)


def number(label: str, *, decimal_places: int = 2):
    """A `number` text field, kept exact (RECIST thresholds are compared with exact arithmetic)."""
    return models.DecimalField(
        label, max_digits=7 + decimal_places - 2, decimal_places=decimal_places, null=True, blank=True,
    )


def checkbox_option(label: str):
    """One option of a checkbox field; REDCap exports 1 ticked, 0 not ticked (never blank)."""
    return models.BooleanField(label, default=False)


def record_status(form_label: str, *, nullable: bool = False):
    """REDCap's `<form>_complete`: 0 Incomplete, 1 Unverified, 2 Complete.

    On a non-repeating form it is blank until the form is first saved, so that a record whose
    vital status was never entered exports as REDCap exports it (a blank status).
    """
    return models.PositiveSmallIntegerField(
        f"{form_label} record status",
        choices=RecordStatus.choices,
        null=nullable,
        blank=nullable,
        default=None if nullable else RecordStatus.INCOMPLETE,
    )


record_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "A record ID may contain only letters, digits, hyphens, underscores and dots, and starts with a letter or digit.",
)
