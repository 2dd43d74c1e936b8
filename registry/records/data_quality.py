"""Data-quality rules: REDCap's built-in rules adapted to this registry, and custom rules written in
REDCap's logic. Plain Python on the values of one record at a time (RecordValues, read by
registry/selectors/data_quality.py); registry/services/data_quality.py runs them and stores the hits.

The built-in rules, with REDCap's letters:

    A  blank values: a field left blank on an instrument that holds data, unless branching logic
       hides it or it holds a missing-data code
    B  blank required fields: the same, for the dictionary's required fields
    C  values of the wrong type: a date, integer or number field whose stored value is not one
    D  values outside the dictionary's min/max (the workspace's "outside the expected range" soft check)
    E  outliers: a number more than 2 standard deviations (sample SD) from the mean of its field's
       values in all records, for fields with at least 30 values
    F  values in fields that branching logic hides
    G  invalid codes: a radio, dropdown or yes/no value that is not one of its field's codes
    I  fields holding a missing-data code

REDCap's rule H (calculated fields whose stored value differs from the calculation) has no
counterpart: the registry has no calculated fields. Entry refuses blank required fields, wrong types
and invalid codes at every door, so B, C and G find only what older or imported-before-the-checks
data holds. The derivation's §0 flags (registry/derive/quality.py, stored with the derived results)
are rules too, one per flag code.

A custom rule's logic holds on the values in error. It may name the fields of one repeating
instrument at most: then it is read on each instance of it, together with the record's
non-repeating (enrollment, vital status) fields, and gives one hit per instance where it holds; a
rule naming only non-repeating fields gives at most one hit per record.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache

from registry.records.dictionary import DictionaryField, data_dictionary
from registry.records.filter_logic import FilterLogic, FilterLogicError, parse_filter_logic
from registry.records.instruments import (
    REPEAT_INSTANCE, REPEAT_INSTRUMENT, REPEATING_INSTRUMENTS, InvalidValue, column_owner, flat_columns, parse_value,
)

RECORD_FORMS = ("enrollment", "vital_status")
OUTLIER_MINIMUM_VALUES = 30
OUTLIER_STANDARD_DEVIATIONS = 2
VALUE_LENGTH = 200  # QualityRuleHit.value, SoftCheckConfirmation.value


@dataclass(frozen=True)
class RuleInfo:
    code: str
    label: str
    description: str
    entry_refuses: bool = False  # entry refuses such values: only older or imported data holds them


BUILT_IN_RULES = (
    RuleInfo("A", "Blank values", "A field left blank on an instrument that holds data (fields hidden by "
             "branching logic, and fields holding a missing-data code, are not counted)."),
    RuleInfo("B", "Blank required fields", "A required field left blank (hidden fields and missing-data codes "
             "are not counted).", entry_refuses=True),
    RuleInfo("C", "Values of the wrong type", "A date, integer or number field whose stored value is not one.",
             entry_refuses=True),
    RuleInfo("D", "Values outside the expected range", "A value below the data dictionary's minimum or above its "
             "maximum (asked about as a soft check at entry)."),
    RuleInfo("E", "Outliers", f"A number more than {OUTLIER_STANDARD_DEVIATIONS} standard deviations from the mean "
             f"of its field's values in all records (fields with at least {OUTLIER_MINIMUM_VALUES} values)."),
    RuleInfo("F", "Values hidden by branching logic", "A value in a field that branching logic hides."),
    RuleInfo("G", "Invalid codes", "A coded field holding a value that is not one of its codes.",
             entry_refuses=True),
    RuleInfo("I", "Missing-data codes", "A field holding a missing-data code (NI, UNK, NASK, ASKU, NA, NAVU, ND) "
             "instead of a value."),
)
BUILT_IN_CODES = tuple(rule.code for rule in BUILT_IN_RULES)
FLAG_PREFIX = "flag-"
CUSTOM_PREFIX = "custom-"
# A "verified as correct" confirmation of a hit is a SoftCheckConfirmation whose check code is this
# prefix and the rule's code; a value confirmed at entry for the range soft check counts for rule D.
CONFIRMATION_PREFIX = "rule-"
RANGE_SOFT_CHECK = "outside_range"


class CustomRuleError(ValueError):
    """A custom rule's logic that cannot be run; the message says why."""


@dataclass(frozen=True)
class Hit:
    rule: str
    patient_id: int
    site_id: int
    record_id: str
    form: str
    instance: int | None
    field: str
    value: str
    message: str


@dataclass
class InstanceValues:
    form: str
    instance: int
    values: dict[str, str]  # export column → REDCap raw text ("" blank)
    missing: dict[str, str]  # field → missing-data code, for the fields holding one


@dataclass
class RecordValues:
    """One record's values as REDCap raw text: its record row (enrollment and vital status) and the
    instances of its repeating instruments."""

    patient_id: int
    site_id: int
    record_id: str
    values: dict[str, str]
    missing: dict[str, str]
    instances: list[InstanceValues] = field(default_factory=list)


@dataclass(frozen=True)
class CustomRule:
    code: str
    name: str
    logic: FilterLogic
    text: str
    repeating_form: str | None  # the repeating instrument the rule reads per instance
    columns: tuple[str, ...]  # the columns it reads, in export order


# ---------------------------------------------------------------- custom rules


@cache
def _kinds() -> dict[str, str]:
    from registry.api.redcap.project import column_kinds

    return column_kinds()


def custom_rule_logic(text: str) -> tuple[FilterLogic, str | None, tuple[str, ...]]:
    """The parsed logic, the repeating instrument it names (or None) and its columns in export order.
    Raises CustomRuleError for logic that cannot be read or that names two repeating instruments."""
    try:
        logic = parse_filter_logic(text or "", _kinds())
    except FilterLogicError as error:  # the parser's reason, worded for a rule rather than an API filter
        raise CustomRuleError(str(error).replace("filterLogic", "The rule's logic", 1)) from None
    owners = column_owner()
    order = {name: position for position, name in enumerate(flat_columns())}
    columns = tuple(sorted(logic.columns, key=lambda name: order.get(name, -1)))
    repeating = sorted({owners[name][0] for name in columns if name in owners and owners[name][0] in REPEATING_INSTRUMENTS},
                       key=list(REPEATING_INSTRUMENTS).index)
    if len(repeating) > 1:
        raise CustomRuleError(
            f"The rule names fields of {len(repeating)} repeating instruments ({', '.join(repeating)}); a rule may "
            "name the fields of one repeating instrument at most (it is read on each instance of it, with the "
            "record's enrollment and vital-status fields). Split it into one rule per instrument.")
    if not [name for name in columns if name in owners]:
        raise CustomRuleError("The rule names no field of a form ([redcap_repeat_instrument] and "
                              "[redcap_repeat_instance] alone say nothing about the data).")
    return logic, (repeating[0] if repeating else None), columns


def custom_rule(code: str, name: str, text: str) -> CustomRule:
    logic, repeating_form, columns = custom_rule_logic(text)
    return CustomRule(code, name, logic, text, repeating_form, columns)


def _custom_hits(rule: CustomRule, record: RecordValues) -> list[Hit]:
    owners = column_owner()
    subject = next((name for name in rule.columns if name in owners and (
        rule.repeating_form is None or owners[name][0] == rule.repeating_form)), rule.columns[0])
    subject_field = owners[subject][1].name if owners[subject][1] is not None else subject
    if rule.repeating_form is None:
        rows = [(owners[subject][0], None, record.values, None)]
    else:
        rows = [(instance.form, instance.instance, instance.values, record.values)
                for instance in record.instances if instance.form == rule.repeating_form]
    hits = []
    for form, number, own, record_level in rows:
        def value_of(column: str, own=own, record_level=record_level, number=number, form=form) -> str:
            found = own.get(column)
            if found is not None:
                return found
            if column == REPEAT_INSTRUMENT:
                return form if number is not None else ""
            if column == REPEAT_INSTANCE:
                return "" if number is None else str(number)
            return record_level.get(column, "") if record_level is not None else ""

        if not rule.logic.matches(value_of):
            continue
        values = {name: value_of(name) for name in rule.columns}
        shown = "; ".join(f"{name} = {values.get(name, '') or 'blank'}" for name in rule.columns)
        hits.append(Hit(rule.code, record.patient_id, record.site_id, record.record_id, form, number, subject_field,
                        _short(shown), f"{rule.name}: {rule.text} holds ({shown})."))
    return hits


def _short(text: str) -> str:
    return text if len(text) <= VALUE_LENGTH else text[:VALUE_LENGTH - 1] + "…"


# ---------------------------------------------------------------- built-in rules


@dataclass(frozen=True)
class _FieldSpec:
    field: DictionaryField
    columns: tuple[str, ...]  # a checkbox: one per option
    codes: frozenset[str] | None  # radio, dropdown, yes/no
    typed: bool  # date, integer or number
    numeric: bool  # integer or number (rule E)
    minimum: Decimal | date | None
    maximum: Decimal | date | None
    single: bool = True  # one column (not a checkbox)
    is_date: bool = False
    pattern: re.Pattern | None = None  # what a value of the type looks like (date, integer, number)

    @property
    def bounded(self) -> bool:
        return self.minimum is not None or self.maximum is not None


def _bound(field: DictionaryField, text: str):
    if not text.strip():
        return None
    if field.validation == "date_ymd":
        return date.fromisoformat(text.strip())
    return Decimal(text.strip())


# What a stored value of each type looks like (registry/records/instruments.py's codecs); a value
# that does not is read by parse_value for rule C's reason.
_PATTERNS = {"date_ymd": re.compile(r"^\d{4}-\d{2}-\d{2}$"), "integer": re.compile(r"^[+-]?\d+$"),
             "number": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")}


@cache
def _specs(form: str) -> tuple[_FieldSpec, ...]:
    specs = []
    for dictionary_field in data_dictionary().form_fields(form):
        if dictionary_field.name == data_dictionary().record_id_field or dictionary_field.field_type in (
                "descriptive", "calc"):
            continue
        checkbox = dictionary_field.field_type == "checkbox"
        coded = dictionary_field.field_type in ("radio", "dropdown", "yesno")
        typed = dictionary_field.validation in ("date_ymd", "integer", "number") and not dictionary_field.is_coded
        specs.append(_FieldSpec(
            dictionary_field,
            tuple(dictionary_field.checkbox_columns()) if checkbox else (dictionary_field.name,),
            frozenset(dictionary_field.choice_labels) if coded else None,
            typed, typed and dictionary_field.validation in ("integer", "number"),
            _bound(dictionary_field, dictionary_field.minimum) if typed else None,
            _bound(dictionary_field, dictionary_field.maximum) if typed else None,
            single=not checkbox, is_date=dictionary_field.validation == "date_ymd",
            pattern=_PATTERNS.get(dictionary_field.validation) if typed else None,
        ))
    return tuple(specs)


@cache
def _branching(form: str) -> dict[str, FilterLogic]:
    from registry.workspace.branching import branching_logic

    return branching_logic(form)


def _text(spec: _FieldSpec, values: dict[str, str]) -> str:
    if spec.codes is not None or len(spec.columns) == 1:
        return values.get(spec.columns[0], "")
    ticked = [column.rsplit("___", 1)[1] for column in spec.columns if values.get(column) == "1"]
    return ",".join(ticked)


def _has_data(form: str, values: dict[str, str], missing: dict[str, str]) -> bool:
    """Whether a non-repeating form was started: a value, a missing-data code or a form status."""
    if values.get(f"{form}_complete", ""):
        return True
    return any(_text(spec, values) != "" or missing.get(spec.field.name) for spec in _specs(form))


@cache
def _branching_columns(form: str) -> tuple[str, ...]:
    return tuple(sorted({column for logic in _branching(form).values() for column in logic.columns}))


_HIDDEN_MEMO: dict[tuple, frozenset[str]] = {}
_HIDDEN_MEMO_SIZE = 10_000


def _hidden(form: str, context: dict[str, str]) -> frozenset[str]:
    """The fields of `form` that branching logic hides given `context`, remembered by the values the
    logic reads (a handful of combinations recur across a whole registry)."""
    columns = _branching_columns(form)
    if not columns:
        return frozenset()
    key = (form, *(context.get(column, "") for column in columns))
    hidden = _HIDDEN_MEMO.get(key)
    if hidden is None:
        hidden = frozenset(name for name, logic in _branching(form).items()
                           if not logic.matches(lambda column: context.get(column, "")))
        if len(_HIDDEN_MEMO) >= _HIDDEN_MEMO_SIZE:
            _HIDDEN_MEMO.clear()
        _HIDDEN_MEMO[key] = hidden
    return hidden


@dataclass
class _Numbers:
    """What rule E collects on the way: each numeric field's values, with where they are."""

    # (form, field) → [(value, patient id, site id, record ID, instance, text)]
    by_field: dict[tuple[str, str], list[tuple]] = field(default_factory=dict)


def _form_hits(record: RecordValues, form: str, instance: int | None, values: dict[str, str],
               missing: dict[str, str], context: dict[str, str], numbers: _Numbers | None) -> list[Hit]:
    """Rules A, B, C, D, F, G and I on one form of one row; collects rule E's values in `numbers`.
    `context`: what branching logic reads (the row's values over the record's). The common case (a
    value of its type, no code, shown) is kept to a few dictionary lookups: this runs for every field
    of every instance of the registry."""
    hidden = _hidden(form, context)
    hits = []

    def hit(rule: str, spec: _FieldSpec, value: str, message: str) -> None:
        hits.append(Hit(rule, record.patient_id, record.site_id, record.record_id, form, instance,
                        spec.field.name, _short(value), f"{spec.field.label}: {message}"))

    for spec in _specs(form):
        name = spec.field.name
        code = missing.get(name, "") if missing else ""
        text = values.get(spec.columns[0], "") if spec.single else _text(spec, values)
        is_hidden = name in hidden if hidden else False
        if code:
            hit("I", spec, code, f"holds the missing-data code {code}.")
            if is_hidden:
                hit("F", spec, code, f"holds {code}, but branching logic ({spec.field.branching_logic}) hides it.")
            continue
        if not text:
            if not is_hidden:
                hit("A", spec, "", "blank.")
                if spec.field.required:
                    hit("B", spec, "", "blank, but the field is required.")
            continue
        if is_hidden:
            hit("F", spec, text, f"holds {text}, but branching logic ({spec.field.branching_logic}) hides it.")
        if spec.codes is not None:
            if text not in spec.codes:
                listed = ", ".join(f"{c} {label}" for c, label in spec.field.choice_labels.items())
                hit("G", spec, text, f"{text} is not a code of this field ({listed}).")
            continue
        if not spec.typed:
            continue
        if spec.pattern.match(text) is None or (spec.is_date and not _real_date(text)):
            try:
                parse_value(spec.field, text)
            except InvalidValue as reason:
                hit("C", spec, text, f"{text} {reason}.")
                continue
        if not (spec.bounded or spec.numeric):
            continue
        value = parse_value(spec.field, text)
        if spec.minimum is not None and value < spec.minimum:
            hit("D", spec, text, f"{text} is below the expected minimum of {spec.field.minimum}.")
        if spec.maximum is not None and value > spec.maximum:
            hit("D", spec, text, f"{text} is above the expected maximum of {spec.field.maximum}.")
        if spec.numeric and numbers is not None:
            numbers.by_field.setdefault((form, name), []).append(
                (float(value), record.patient_id, record.site_id, record.record_id, instance, text))
    return hits


def _real_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def record_hits(record: RecordValues, custom_rules: Iterable[CustomRule] = (), *,
                numbers: _Numbers | None = None) -> list[Hit]:
    """The hits of rules A, B, C, D, F, G, I and of the custom rules on one record."""
    hits = []
    for form in RECORD_FORMS:
        if form == "enrollment" or _has_data(form, record.values, record.missing):
            hits.extend(_form_hits(record, form, None, record.values, record.missing, record.values, numbers))
    for instance in record.instances:
        context = {**record.values, **instance.values}
        hits.extend(_form_hits(record, instance.form, instance.instance, instance.values, instance.missing, context,
                               numbers))
    for rule in custom_rules:
        hits.extend(_custom_hits(rule, record))
    return hits


def outlier_hits(numbers: _Numbers) -> list[Hit]:
    """Rule E: values more than 2 sample standard deviations from their field's mean, for fields
    with at least 30 values."""
    hits = []
    labels = data_dictionary().by_name
    for (form, name), found in numbers.by_field.items():
        if len(found) < OUTLIER_MINIMUM_VALUES:
            continue
        values = [value for value, *_ in found]
        mean = statistics.fmean(values)
        deviation = statistics.stdev(values)
        if deviation == 0:
            continue
        for value, patient_id, site_id, record_id, instance, text in found:
            distance = abs(value - mean) / deviation
            if distance > OUTLIER_STANDARD_DEVIATIONS:
                hits.append(Hit("E", patient_id, site_id, record_id, form, instance, name, text,
                                f"{labels[name].label}: {text} is {distance:.1f} SD from the mean of "
                                f"{mean:.4g} (SD {deviation:.4g}, {len(found)} values)."))
    return hits


def new_numbers() -> _Numbers:
    return _Numbers()


def flag_hits(record_id: str, patient_id: int, site_id: int, flags: Iterable[dict]) -> list[Hit]:
    """The derivation's §0 flags of one patient as hits of the rules flag-<code>."""
    return [Hit(f"{FLAG_PREFIX}{flag['code']}", patient_id, site_id, record_id, flag.get("form", ""), None, "",
                _short(flag.get("message", "")), f"{flag.get('instance', '')}: {flag.get('message', '')}".lstrip(": "))
            for flag in flags]


def rule_label(code: str, custom_names: dict[str, str] | None = None) -> str:
    from registry.derive.quality import FLAG_LABELS

    for rule in BUILT_IN_RULES:
        if rule.code == code:
            return f"{rule.code}. {rule.label}"
    if code.startswith(FLAG_PREFIX):
        return f"Derivation flag: {FLAG_LABELS.get(code[len(FLAG_PREFIX):], code[len(FLAG_PREFIX):])}"
    if custom_names and code in custom_names:
        return custom_names[code]
    return code
