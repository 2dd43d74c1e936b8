"""Field constructors for the data dictionary's field types, so every model spells them alike.

Dictionary field names are kept as model field names: they are the contract for imports,
exports and APIs. A checkbox field `f` with code `c` (REDCap column `f___c`) is the boolean
model field `f_c`, because Django field names cannot contain a double underscore.
"""
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalChanges

from registry.records.missing_codes import CODE_MAX_LENGTH, MISSING_SUFFIX, missing_code_choices, missing_column

from .choices import RecordStatus, YesNo


class MissingCodable:
    """A field that takes a missing-data code instead of a value (issue 12 §4; registry/records/missing_codes.py).

    Added to its model, it adds the companion `<name>_missing` (a short code, blank by default) and a
    constraint that the field is empty (null; "" for a text) while a code is set. The field keeps
    its own type and constraints. In migrations it is the plain Django field it extends: the
    companion and the constraint are written there as fields and constraints of their own.
    """

    takes_missing_code = True

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        # An audit-trail model copies the companion like any other field, and keeps no constraint.
        if cls._meta.abstract or issubclass(cls, HistoricalChanges):
            return
        companion = missing_column(name)
        cls.add_to_class(companion, models.CharField(
            f"{self.verbose_name or name}: missing-data code", max_length=CODE_MAX_LENGTH, blank=True, default="",
            choices=missing_code_choices,
        ))
        empty = Q(**{name: ""}) if isinstance(self, models.CharField) else Q(**{f"{name}__isnull": True})
        constraints = [EmptyWhenCodedConstraint(
            condition=Q(**{companion: ""}) | empty,
            name=f"{cls._meta.model_name}_{name}_empty_when_coded",
            violation_error_message=f"{name} holds a value and a missing-data code; it can hold only one of them.",
        )]
        if not self.blank:
            # A required field (issue 12 §4 follow-up): a value or a code, never neither.
            constraints.append(ValueOrCodeConstraint(
                condition=~Q(**{companion: ""}) | ~empty,
                name=f"{cls._meta.model_name}_{name}_value_or_code",
                violation_error_message=f"{name} is required: it holds neither a value nor a missing-data code.",
            ))
        cls._meta.constraints = [*cls._meta.constraints, *constraints]

    def validate(self, value, model_instance):
        """A required field's blank is refused as Django refuses it, unless a missing-data code stands
        in its place (the blank is then what the code keeps empty)."""
        if (value in self.empty_values and model_instance is not None
                and getattr(model_instance, missing_column(self.name), "")):
            return
        if value is None and not self.blank:
            # The message it had while its column was NOT NULL, so that every door still says the same.
            raise ValidationError(self.error_messages["null"], code="null")
        super().validate(value, model_instance)

    def formfield(self, **kwargs):
        """A required field's form field is not required by itself: a value or a code is
        (`required_or_coded`, checked by the form's clean(): registry/records/missing_codes.py
        `refuse_blanks_without_code`, with the form's own "This field is required.")."""
        field = super().formfield(**kwargs)
        if field is not None and field.required:
            field.required, field.required_or_coded = False, True
        return field

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        plain = next(base for base in type(self).__mro__ if base.__module__.startswith("django.db.models"))
        return name, f"django.db.models.{plain.__name__}", args, kwargs


class EmptyWhenCodedConstraint(models.CheckConstraint):
    """`f` is empty while `f_missing` holds a code. The database checks it; full_clean() checks it in
    Python, because Django's own validation of a check constraint costs a query each (a patient has 12)."""

    def validate(self, model, instance, exclude=None, using=None):
        field_name = self.name.removeprefix(f"{model._meta.model_name}_").removesuffix("_empty_when_coded")
        companion = missing_column(field_name)
        if exclude and (field_name in exclude or companion in exclude):
            return
        if getattr(instance, companion) and getattr(instance, field_name) not in (None, ""):
            raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs


class ValueOrCodeConstraint(models.CheckConstraint):
    """A required codable field `f` holds a value or `f_missing` a code. The database checks it;
    full_clean() checks it in Python (no query), and a blank is then already refused by the field itself
    with Django's own message, so that this one speaks only when the field was left out of the check."""

    def validate(self, model, instance, exclude=None, using=None):
        field_name = self.name.removeprefix(f"{model._meta.model_name}_").removesuffix("_value_or_code")
        companion = missing_column(field_name)
        if exclude and (field_name in exclude or companion in exclude):
            return
        if not getattr(instance, companion) and getattr(instance, field_name) in (None, ""):
            raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs


class CodablePositiveSmallIntegerField(MissingCodable, models.PositiveSmallIntegerField):
    pass


class CodableDateField(MissingCodable, models.DateField):
    pass


class CodableCharField(MissingCodable, models.CharField):
    pass


class CodablePositiveIntegerField(MissingCodable, models.PositiveIntegerField):
    pass


class CodableDecimalField(MissingCodable, models.DecimalField):
    pass


def _codable(plain, codable_class, codable: bool):
    return codable_class if codable else plain


# Every field of the dictionary takes a missing-data code but for those that identify or date a record
# (rules §0 v2; `identifies=True`, all required, their columns NOT NULL). A field the dictionary requires
# (`required=True`) holds a value or a code: its column is nullable (empty while coded), its blank without
# a code is refused as before (blank=False, MissingCodable.validate) and the database keeps "a value or a
# code" (ValueOrCodeConstraint).


def coded(choices: type[models.IntegerChoices], label: str, *, required: bool = False, **kwargs):
    """A radio or dropdown field storing the dictionary's code."""
    return CodablePositiveSmallIntegerField(label, choices=choices.choices, null=True, blank=not required, **kwargs)


def yes_no(label: str):
    """A REDCap yesno field: 1 yes, 0 no, blank unknown (unknown is not no)."""
    return CodablePositiveSmallIntegerField(label, choices=YesNo.choices, null=True, blank=True)


def date(label: str, *, required: bool = False, identifies: bool = False, **kwargs):
    """A date_ymd text field: an ISO date, stored as a date. `identifies`: it dates a record (required, no code)."""
    return _codable(models.DateField, CodableDateField, not identifies)(
        label, null=not identifies, blank=not (required or identifies), **kwargs)


def text(label: str, *, max_length: int = 200, required: bool = False, identifies: bool = False, **kwargs):
    return _codable(models.CharField, CodableCharField, not identifies)(
        label, max_length=max_length, blank=not (required or identifies), default="", **kwargs)


# The dictionary's Text Validation Min/Max are not validators here: as in REDCap, a value outside them
# is saved once confirmed, so they are a soft check (registry/records/soft_checks.py OUTSIDE_RANGE,
# read from the dictionary). What the column itself can hold stays a refusal: a positive integer's
# sign and range, a decimal's digits and places.


def integer(label: str, *, required: bool = False, identifies: bool = False):
    return _codable(models.PositiveIntegerField, CodablePositiveIntegerField, not identifies)(
        label, null=not identifies, blank=not (required or identifies))


def number(label: str, *, decimal_places: int = 2):
    """A `number` text field, kept exact (RECIST thresholds are compared with exact arithmetic)."""
    return CodableDecimalField(
        label, max_digits=7 + decimal_places - 2, decimal_places=decimal_places, null=True, blank=True,
    )


def checkbox_option(label: str):
    """One option of a checkbox field; REDCap exports 1 ticked, 0 not ticked (blank while the field
    holds a missing-data code: CheckboxMissingCode)."""
    return models.BooleanField(label, default=False)


class CheckboxMissingCode(models.CharField):
    """The missing-data code of a whole checkbox field `f`, in `f_missing` (issue 12 §4): REDCap offers
    each code as one more option of the field, and a coded field has no real option ticked. Declared
    after the options, with their codes; adds the constraint that every option is unticked while a code
    is set. In migrations it is the plain CharField it extends, the constraint written on its own."""

    codes_checkbox = True

    def __init__(self, *args, option_codes: tuple = (), **kwargs):
        self.option_codes = tuple(str(code) for code in option_codes)
        super().__init__(*args, **kwargs)

    @property
    def checkbox_field(self) -> str:
        return self.name.removesuffix(MISSING_SUFFIX)

    @property
    def option_attributes(self) -> tuple[str, ...]:
        return tuple(f"{self.checkbox_field}_{code}" for code in self.option_codes)

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        if cls._meta.abstract or issubclass(cls, HistoricalChanges):
            return
        unticked = Q(**{attribute: False for attribute in self.option_attributes})
        field_name = self.checkbox_field
        cls._meta.constraints = [*cls._meta.constraints, UntickedWhenCodedConstraint(
            condition=Q(**{name: ""}) | unticked,
            name=f"{cls._meta.model_name}_{field_name}_unticked_when_coded",
            violation_error_message=(
                f"{field_name} has a ticked option and a missing-data code; a checkbox field holds ticked "
                "options or a code, never both."),
        )]

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class UntickedWhenCodedConstraint(models.CheckConstraint):
    """Every option of a checkbox field `f` is unticked while `f_missing` holds a code. The database
    checks it; full_clean() checks it in Python (no query), as EmptyWhenCodedConstraint does."""

    def validate(self, model, instance, exclude=None, using=None):
        field_name = self.name.removeprefix(f"{model._meta.model_name}_").removesuffix("_unticked_when_coded")
        companion = model._meta.get_field(missing_column(field_name))
        if exclude and (companion.name in exclude or set(companion.option_attributes) & set(exclude)):
            return
        if getattr(instance, companion.name) and any(getattr(instance, a) for a in companion.option_attributes):
            raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs


def checkbox_missing_code(label: str, *, option_codes: tuple):
    """`<checkbox field>_missing`: the field's missing-data code, blank by default (see CheckboxMissingCode)."""
    return CheckboxMissingCode(
        f"{label}: missing-data code", max_length=CODE_MAX_LENGTH, blank=True, default="",
        choices=missing_code_choices, option_codes=option_codes,
    )


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
