"""Soft checks: values that are allowed but unusual enough to ask about before they are kept.

A soft check asks, it does not refuse (types, codes and required fields stay refusals, in the models
and the import codecs). The workspace shows each check beside its field and saves once the
coordinator confirms the value or corrects it; a confirmation is stored with who and when
(`SoftCheckConfirmation`, registry/services/soft_checks.py) and holds while the value stays the same.
Imports and both APIs accept such values and answer the same checks as `warnings`
(`soft_check_warnings`, one shape for every door). docs/soft-checks.md lists them for readers.

The checks, each with its code:

    future_date          a date after today
    outside_range        a value outside the data dictionary's min/max (REDCap's range check: REDCap
                         too saves such a value once the user confirms it)
    scan_after_death     a tumor assessment dated after the patient's date of death
    after_death          a treatment line, local therapy or biopsy date after the date of death
    target_change        a target lesion whose diameter changed by more than the workspace setting's
                         percentage since the lesion's previous measurement (the latest earlier
                         assessment with a diameter). A lesion measured 0 mm (disappeared: a
                         complete response is an outcome, not a slip), or measured again after 0 mm
                         (no percentage of 0), is not asked about.
    scan_after_line_end  a scan more than the workspace setting's days after the end of the lines
                         started on or before it, when none of those lines is ongoing (the latest
                         end counts, so overlapping lines do not ask)

Queries: `instance_soft_checks` reads what its instance's checks need (a patient's death date, its
lines, a lesion's earlier measurements, the settings), at most four queries whatever the patient
holds; `instances_soft_checks` does the same for many instances of many patients (an import) with
the same fixed number of queries.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from registry.records.dictionary import data_dictionary

FUTURE_DATE = "future_date"
OUTSIDE_RANGE = "outside_range"
SCAN_AFTER_DEATH = "scan_after_death"
AFTER_DEATH = "after_death"
TARGET_CHANGE = "target_change"
SCAN_AFTER_LINE_END = "scan_after_line_end"

CHECK_LABELS = {
    FUTURE_DATE: "date in the future",
    OUTSIDE_RANGE: "outside the expected range",
    SCAN_AFTER_DEATH: "scan after death",
    AFTER_DEATH: "dated after death",
    TARGET_CHANGE: "large change of a target lesion",
    SCAN_AFTER_LINE_END: "scan long after the line ended",
}


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


@dataclass(frozen=True)
class SoftCheckWarning:
    """A soft check as the imports and the APIs answer it: the value was accepted and written."""

    record: str
    form: str
    instance: int | None
    field: str
    value: str
    check: str  # the check's code
    message: str

    def as_json(self) -> dict:
        return {"record": self.record, "form": self.form, "instance": self.instance, "field": self.field,
                "value": self.value, "check": self.check, "message": self.message}


def soft_check_warnings(checks: Iterable[SoftCheck], *, record: str) -> list[SoftCheckWarning]:
    """The one conversion of soft checks into the warnings every door answers."""
    return [SoftCheckWarning(record, check.form, check.instance, check.field, check.value, check.code, check.message)
            for check in checks]


@dataclass(frozen=True)
class Thresholds:
    """The workspace settings the checks read (registry/models/workspace.py WorkspaceSettings)."""

    target_change_percent: int = 50
    scan_after_line_end_days: int = 180

    @classmethod
    def of(cls, settings) -> "Thresholds":
        return cls(settings.target_change_percent, settings.scan_after_line_end_days)


@dataclass
class CheckContext:
    """What the checks read beyond the instance itself, for a set of patients and lesions.

    `lines`: (line_start, line_end) of each patient's lines; `earlier`: each lesion's stored
    measurements as (measurement id, assessment date, diameter in mm); `lesion_class`: each lesion's
    classification (1 target)."""

    thresholds: Thresholds
    death_dates: dict[int, date | None] = field(default_factory=dict)
    lines: dict[int, list[tuple[date, date | None]]] = field(default_factory=dict)
    earlier: dict[int, list[tuple[int, date, Decimal]]] = field(default_factory=dict)
    lesion_class: dict[int, int | None] = field(default_factory=dict)
    lesion_ids: dict[int, str] = field(default_factory=dict)  # les_id of each lesion


@cache
def _models():
    """Imported on first use, not at the top (registry.models imports this package); cached, as the
    checks of an import call this for every instance."""
    from registry.models import Biopsy, LesionMeasurement, LocalTherapy, TreatmentLine, TumorAssessment

    return Biopsy, LesionMeasurement, LocalTherapy, TreatmentLine, TumorAssessment


def check_context(instances: Iterable, *, settings=None, lesion_ids: Iterable[int] = ()) -> CheckContext:
    """Loads what the checks of `instances` need, with one query per kind of need whatever their
    number: the settings (unless given), the patients' death dates (lines, local therapies, biopsies,
    assessments), the patients' lines (assessments), the lesions with their measurements
    (measurements, and the lesions of `lesion_ids`: measurements read as MeasurementValues). A need
    no instance has costs no query."""
    from registry.models import Lesion, Patient, WorkspaceSettings

    Biopsy, LesionMeasurement, LocalTherapy, TreatmentLine, TumorAssessment = _models()
    instances = list(instances)
    dated = (Biopsy, LocalTherapy, TreatmentLine, TumorAssessment)
    death_patients = {i.patient_id for i in instances if isinstance(i, dated) and i.patient_id is not None}
    line_patients = {i.patient_id for i in instances if isinstance(i, TumorAssessment) and i.patient_id is not None}
    lesions = ({_lesion_pk(i) for i in instances if isinstance(i, LesionMeasurement)} | set(lesion_ids)) - {None}
    needs_settings = bool(line_patients or lesion_ids or any(isinstance(i, LesionMeasurement) for i in instances))
    if settings is None and needs_settings:
        settings = WorkspaceSettings.current()
    context = CheckContext(Thresholds.of(settings) if settings is not None else Thresholds())
    if death_patients:
        context.death_dates = dict(
            Patient.objects.filter(pk__in=death_patients).order_by().values_list("pk", "death_date"))
    if line_patients:
        for patient_id, start, end in TreatmentLine.objects.filter(patient_id__in=line_patients).order_by().values_list(
                "patient_id", "line_start", "line_end"):
            context.lines.setdefault(patient_id, []).append((start, end))
    if lesions:
        # One query: each lesion (its class) left-joined to its measurements and their assessment dates.
        for lesion_id, les_id, les_class, measurement_id, ta_date, mm in Lesion.objects.filter(
                pk__in=lesions).order_by().values_list("pk", "les_id", "les_class", "measurements__pk",
                                                       "measurements__assessment__ta_date", "measurements__lm_mm"):
            context.lesion_class[lesion_id] = les_class
            context.lesion_ids[lesion_id] = les_id
            if measurement_id is not None and mm is not None:
                context.earlier.setdefault(lesion_id, []).append((measurement_id, ta_date, mm))
    return context


def _lesion_pk(measurement) -> int | None:
    LesionMeasurement = _models()[1]
    if LesionMeasurement.lesion.is_cached(measurement):
        return measurement.lesion.pk
    return measurement.lesion_id


def _form_of(instance) -> str:
    from registry.records.instruments import INSTRUMENTS

    model = type(instance)
    forms = [name for name, instrument in INSTRUMENTS.items() if instrument.model is model]
    return forms[0] if forms else model._meta.model_name


def instance_soft_checks(instance, *, today: date, forms: Iterable[str] | None = None, settings=None,
                         context: CheckContext | None = None) -> list[SoftCheck]:
    """The soft checks one (validated, possibly unsaved) instance raises, on the fields of `forms`
    (a patient holds two: enrollment and vital status; default: every form of its model).

    `settings`: the WorkspaceSettings (default: WorkspaceSettings.current(), read only when a check
    needs it); `context`: what check_context loaded (default: loaded for this instance alone). A
    lesion measurement's assessment and lesion may be unsaved instances (the workspace's scan page):
    its date is its assessment's, its lesion's earlier measurements are those stored."""
    names = list(forms) if forms is not None else _forms_of_model(type(instance))
    if context is None:
        context = check_context([instance], settings=settings)
    checks: list[SoftCheck] = []
    for form in names:
        checks.extend(_field_checks(instance, form, today))
        checks.extend(_record_checks(instance, form, context))
    return checks


def instances_soft_checks(instances: Iterable, *, today: date, settings=None) -> list[tuple[object, list[SoftCheck]]]:
    """The batch form, for imports: each instance with its checks, with the same fixed number of
    queries as one instance (check_context). Lesion measurements must have their assessment cached
    (select_related) or be unsaved with it set, else each costs a query; many stored ones are
    cheaper as values (measurements_soft_checks)."""
    instances = list(instances)
    context = check_context(instances, settings=settings)
    return [(instance, instance_soft_checks(instance, today=today, context=context)) for instance in instances]


class MeasurementValues(NamedTuple):
    """A lesion measurement as its checks read it, without a model instance (an import writes
    hundreds of thousands; written_warnings reads them back as these). The names are the
    instance's (and written_warnings' annotations'), so that the checks read both alike."""

    pk: int
    patient_id: int
    lesion_id: int | None
    redcap_repeat_instance: int
    lm_mm: Decimal | None
    soft_check_ta_date: date | None  # the assessment's date
    soft_check_record_id: str


def measurements_soft_checks(measurements: Iterable[MeasurementValues], *, today: date,
                             settings=None) -> list[tuple[MeasurementValues, list[SoftCheck]]]:
    """instances_soft_checks of lesion measurements given as values: the same checks (a diameter
    outside the dictionary's range, a large change of a target lesion), with the same queries (the
    settings unless given, the lesions with their measurements)."""
    LesionMeasurement = _models()[1]
    measurements = list(measurements)
    context = check_context((), settings=settings, lesion_ids={m.lesion_id for m in measurements})
    found = []
    for measurement in measurements:
        checks = []
        for form in _forms_of_model(LesionMeasurement):  # as instance_soft_checks: field, then record checks
            checks.extend(_field_checks(measurement, form, today, model=LesionMeasurement))
            checks.extend(_target_change_of(
                form, context, lesion_pk=measurement.lesion_id, lesion=None, new=measurement.lm_mm,
                scan=measurement.soft_check_ta_date, own_pk=measurement.pk,
                instance=measurement.redcap_repeat_instance))
        found.append((measurement, checks))
    return found


@cache
def _forms_of_model(model) -> tuple[str, ...]:
    from registry.records.instruments import INSTRUMENTS

    return tuple(name for name, instrument in INSTRUMENTS.items() if instrument.model is model)


@cache
def _field_check_plan(model, form: str) -> tuple:
    """The dictionary fields of `form` whose values `_field_checks` can ask about on instances of
    `model`, in the dictionary's order: those the model holds as a date (a future date) and the
    integers and numbers with a minimum or maximum. No other value can raise a field check, so the
    others are not read at all (an import checks hundreds of thousands of instances). A dictionary
    name the model has as something other than a field (a property) is kept, and checked as any
    value is."""
    plan = []
    for dictionary_field in data_dictionary().form_fields(form):
        if dictionary_field.name == "record_id" or not hasattr(model, dictionary_field.name):
            continue
        try:
            may_be_date = isinstance(model._meta.get_field(dictionary_field.name), models.DateField)
        except FieldDoesNotExist:
            may_be_date = True
        ranged = dictionary_field.validation in ("integer", "number") and bool(
            dictionary_field.minimum or dictionary_field.maximum)
        if may_be_date or ranged:
            plan.append((dictionary_field, ranged))
    return tuple(plan)


@cache
def checked_attributes(model) -> tuple[str, ...] | None:
    """The fields the checks of an instance of `model` read (instance_soft_checks over every form of
    the model): its key, patient and instance number, and the values `_field_checks` and
    `_after_death` look at. A reader of many instances for their checks (written_warnings) loads
    only these. None, so that everything must be loaded: for a lesion measurement, whose checks also
    read its lesion and assessment (many are read as MeasurementValues instead), and when a checked
    name is not a field of the model."""
    if model is _models()[1]:
        return None
    names = {"id", "record_id", "patient", "redcap_repeat_instance"}
    for form in _forms_of_model(model):
        names.update(dictionary_field.name for dictionary_field, _ in _field_check_plan(model, form))
        names.update(dictionary_field.name for dictionary_field in _date_fields(form))
    fields = []
    for name in sorted(names):
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            if name in ("id", "record_id", "patient", "redcap_repeat_instance") or not hasattr(model, name):
                continue  # a key this model does not have, or a date of the form it does not hold
            return None
        fields.append(name)
    return tuple(fields)


@cache
def _date_fields(form: str) -> tuple:
    """The dictionary's date fields of `form` (what `_after_death` compares with the death date)."""
    return tuple(field for field in data_dictionary().form_fields(form) if field.validation == "date_ymd")


def _field_checks(instance, form: str, today: date, *, model=None) -> list[SoftCheck]:
    """Checks of one value alone: a date in the future, a number outside the dictionary's range.
    `model`: the instance's, when it is given as values (MeasurementValues)."""
    from registry.records.instruments import format_value

    repeat = getattr(instance, "redcap_repeat_instance", None)
    checks = []
    for dictionary_field, ranged in _field_check_plan(model or type(instance), form):
        value = getattr(instance, dictionary_field.name)
        if value is None or value == "":
            continue
        label = dictionary_field.label
        if isinstance(value, date) and value > today:
            checks.append(SoftCheck(
                FUTURE_DATE, form, dictionary_field.name, format_value(value),
                f"{label}: {value:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d}).", repeat))
        if ranged:
            number, text = Decimal(value), format_value(value)
            if dictionary_field.minimum and number < Decimal(dictionary_field.minimum):
                checks.append(SoftCheck(
                    OUTSIDE_RANGE, form, dictionary_field.name, text,
                    f"{label}: {text} is below the expected minimum of {dictionary_field.minimum}.", repeat))
            if dictionary_field.maximum and number > Decimal(dictionary_field.maximum):
                checks.append(SoftCheck(
                    OUTSIDE_RANGE, form, dictionary_field.name, text,
                    f"{label}: {text} is above the expected maximum of {dictionary_field.maximum}.", repeat))
    return checks


def _record_checks(instance, form: str, context: CheckContext) -> list[SoftCheck]:
    """Checks of a value against the rest of the record (death, lines, earlier measurements)."""
    Biopsy, LesionMeasurement, LocalTherapy, TreatmentLine, TumorAssessment = _models()
    checks = []
    if isinstance(instance, (Biopsy, LocalTherapy, TreatmentLine, TumorAssessment)):
        checks.extend(_after_death(instance, form, context))
    if isinstance(instance, TumorAssessment):
        checks.extend(_scan_after_line_end(instance, form, context))
    if isinstance(instance, LesionMeasurement):
        checks.extend(_target_change(instance, form, context))
    return checks


def _after_death(instance, form: str, context: CheckContext) -> list[SoftCheck]:
    TumorAssessment = _models()[4]
    death = context.death_dates.get(instance.patient_id)
    if death is None:
        return []
    checks = []
    repeat = getattr(instance, "redcap_repeat_instance", None)
    for dictionary_field in _date_fields(form):
        value = getattr(instance, dictionary_field.name, None)
        if not isinstance(value, date) or value <= death:
            continue
        days = (value - death).days
        if isinstance(instance, TumorAssessment):
            checks.append(SoftCheck(
                SCAN_AFTER_DEATH, form, dictionary_field.name, value.isoformat(),
                f"{dictionary_field.label}: the scan of {value:%Y-%m-%d} is {days} days after the patient's date "
                f"of death ({death:%Y-%m-%d}).", repeat))
        else:
            checks.append(SoftCheck(
                AFTER_DEATH, form, dictionary_field.name, value.isoformat(),
                f"{dictionary_field.label}: {value:%Y-%m-%d} is {days} days after the patient's date of death "
                f"({death:%Y-%m-%d}).", repeat))
    return checks


def _scan_after_line_end(assessment, form: str, context: CheckContext) -> list[SoftCheck]:
    scan = assessment.ta_date
    if scan is None:
        return []
    started = [(start, end) for start, end in context.lines.get(assessment.patient_id, ()) if start <= scan]
    if not started or any(end is None for _, end in started):
        return []  # a scan before any line (a baseline), or during an ongoing line
    last_end = max(end for _, end in started)
    days = (scan - last_end).days
    limit = context.thresholds.scan_after_line_end_days
    if days <= limit:
        return []
    return [SoftCheck(
        SCAN_AFTER_LINE_END, form, "ta_date", scan.isoformat(),
        f"Date of this imaging time point: the scan of {scan:%Y-%m-%d} is {days} days after the last line ended "
        f"({last_end:%Y-%m-%d}), with no line started since; scans more than {limit} days after a line's end are "
        "asked about.", assessment.redcap_repeat_instance)]


def _target_change(measurement, form: str, context: CheckContext) -> list[SoftCheck]:
    from registry.models.choices import LesionClass

    LesionMeasurement = _models()[1]
    lesion_pk = _lesion_pk(measurement)
    lesion = measurement.lesion if LesionMeasurement.lesion.is_cached(measurement) else None
    new = measurement.lm_mm
    les_class = lesion.les_class if lesion is not None else context.lesion_class.get(lesion_pk)
    if les_class != LesionClass.TARGET or new is None or lesion_pk is None:
        return []  # and its assessment not read
    assessment = measurement.assessment if (LesionMeasurement.assessment.is_cached(measurement)
                                            or measurement.assessment_id is not None) else None
    scan = assessment.ta_date if assessment is not None else None
    return _target_change_of(form, context, lesion_pk=lesion_pk, lesion=lesion, new=new, scan=scan,
                             own_pk=measurement.pk, instance=measurement.redcap_repeat_instance)


def _target_change_of(form: str, context: CheckContext, *, lesion_pk: int | None, lesion, new: Decimal | None,
                      scan: date | None, own_pk: int | None, instance: int | None) -> list[SoftCheck]:
    """The target-change check of one measurement, from its values: its lesion (the instance when
    cached, else its class and identifier from the context), diameter and scan date, and its own id
    (its row among the lesion's measurements is not an earlier one)."""
    from registry.models.choices import LesionClass
    from registry.records.instruments import format_decimal

    les_class = lesion.les_class if lesion is not None else context.lesion_class.get(lesion_pk)
    if les_class != LesionClass.TARGET or new is None or lesion_pk is None or scan is None:
        return []
    earlier = [(ta_date, mm) for pk, ta_date, mm in context.earlier.get(lesion_pk, ())
               if pk != own_pk and ta_date < scan]
    if not earlier:
        return []
    previous_date, previous = max(earlier)
    if previous == 0 or new == 0:
        return []  # a disappearance or a reappearance: no percentage of 0, and not a typing slip
    limit = context.thresholds.target_change_percent
    # More than `limit` percent: |new - previous| / previous * 100 > limit, in exact arithmetic.
    if abs(new - previous) * 100 <= limit * previous:
        return []
    percent = (abs(new - previous) * 100 / previous).quantize(Decimal(1))
    direction = "larger" if new > previous else "smaller"
    les_id = lesion.les_id if lesion is not None else context.lesion_ids.get(lesion_pk, "")
    return [SoftCheck(
        TARGET_CHANGE, form, "lm_mm", format_decimal(new),
        f"Target lesion {les_id}: {format_decimal(new)} mm on {scan:%Y-%m-%d} is {percent}% {direction} than "
        f"{format_decimal(previous)} mm on {previous_date:%Y-%m-%d}; changes of more than {limit}% are asked about "
        "(a typing slip?).",
        instance, subject=les_id)]
