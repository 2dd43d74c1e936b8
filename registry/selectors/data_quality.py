"""Reads for the data-quality rules: every record's values in one pass (a fixed number of queries
whatever the number of records), and the stored runs and hits for the pages."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q, QuerySet

from registry.models import Patient, PatientDerivation, QualityRule, QualityRuleHit, QualityRuleRun
from registry.records.data_quality import (
    BUILT_IN_RULES, FLAG_PREFIX, InstanceValues, RecordValues, rule_label,
)
from registry.records.flat_layout import form_columns
from registry.records.dictionary import data_dictionary
from registry.records.missing_codes import checkbox_code_columns
from registry.records.instruments import (
    INSTRUMENTS, REPEATING_INSTRUMENTS, format_decimal, format_value, missing_code_columns,
)
from registry.selectors.access import access_for

RECORD_FORMS = ("enrollment", "vital_status")
CHUNK = 2000  # rows fetched at a time from each query's cursor


@cache
def _reads(forms: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(export columns, their lookups, (field, lookup) of each missing-data code column) of `forms`.

    A field `f` holds a missing-data code in a companion column `f_missing` when the model has one
    (the missing-data codes add them); without it, no field holds a code."""
    columns, lookups, missing = [], [], []
    for form in forms:
        model = INSTRUMENTS[form].model
        seen = set()
        for column in form_columns(form):
            if column.missing_code is not None:
                continue  # a checkbox's code columns: its code is read once, as `<field>_missing`, below
            columns.append(column.name)
            lookups.append(column.attribute if column.reference is None
                           else f"{column.attribute}__{column.reference.target_field}")
            if column.field is not None and column.field.name not in seen:
                seen.add(column.field.name)
                try:
                    model._meta.get_field(f"{column.field.name}_missing")
                except FieldDoesNotExist:
                    continue
                missing.append((column.field.name, f"{column.field.name}_missing"))
    return tuple(columns), tuple(lookups), tuple(missing)


# format_value by the stored value's type, looked up once per value (the run formats millions).
_FORMAT = {str: str, int: str, bool: lambda value: "1" if value else "0", date: date.isoformat,
           Decimal: format_decimal}


def _texts(columns, values) -> dict[str, str]:
    """The non-blank values as REDCap raw text (format_value), by export column."""
    return {column: value if value.__class__ is str else (_FORMAT.get(value.__class__) or format_value)(value)
            for column, value in zip(columns, values) if value is not None and value.__class__ is not str or value}


def _missing(fields, values) -> dict[str, str]:
    return {name: code for (name, _), code in zip(fields, values) if code}


@cache
def _checkbox_options() -> dict[str, tuple[str, ...]]:
    """Each checkbox field that takes a missing-data code → its option columns."""
    fields = {field_name for field_name, _ in missing_code_columns().values()}
    return {name: tuple(data_dictionary().field(name).checkbox_columns()) for name in fields}


def _blank_coded_checkboxes(texts: dict[str, str], missing: dict[str, str]) -> dict[str, str]:
    """A checkbox field holding a code reads as its flat export writes it: blank options, so that a custom
    rule reads it as blank, as any coded field; its code's column 1 and the other codes' 0
    (`[alk_method(UNK)] = '1'`). A field without a code has blank code columns."""
    if missing:
        for name, options in _checkbox_options().items():
            if name in missing:
                for option in options:
                    texts.pop(option, None)
                texts.update((column, "1" if code == missing[name] else "0")
                             for column, code in checkbox_code_columns(name).items())
    return texts


def record_values(patients: QuerySet[Patient]) -> Iterator[RecordValues]:
    """Each patient's values (registry/records/data_quality.py RecordValues), in patient id order.

    Queries: one for the patients (with their enrollment and vital-status values), one per repeating
    instrument (seven, joined to the instance a measurement or a variant names); each is read from
    its cursor in chunks and merged by patient id, so memory holds one record at a time."""
    columns, lookups, missing = _reads(RECORD_FORMS)
    patient_rows = patients.order_by("id").values_list(
        "id", "site_id", "record_id", *lookups, *(lookup for _, lookup in missing)).iterator(chunk_size=CHUNK)
    streams = {}
    for form in REPEATING_INSTRUMENTS:
        form_reads = _reads((form,))
        rows = (INSTRUMENTS[form].model.objects.filter(patient__in=patients.values("id"))
                .order_by("patient_id", "redcap_repeat_instance")
                .values_list("patient_id", "redcap_repeat_instance", *form_reads[1],
                             *(lookup for _, lookup in form_reads[2])).iterator(chunk_size=CHUNK))
        streams[form] = (form_reads, rows, [next(rows, None)])
    width = len(columns)
    for patient_id, site_id, record_id, *values in patient_rows:
        coded = _missing(missing, values[width:])
        record = RecordValues(patient_id, site_id, record_id,
                              _blank_coded_checkboxes(_texts(columns, values[:width]), coded), coded)
        for form, ((form_columns_, _, form_missing), rows, head) in streams.items():
            count = len(form_columns_)
            while head[0] is not None and head[0][0] <= patient_id:
                row = head[0]
                if row[0] == patient_id:
                    coded = _missing(form_missing, row[2 + count:])
                    record.instances.append(InstanceValues(
                        form, row[1], _blank_coded_checkboxes(_texts(form_columns_, row[2:2 + count]), coded), coded))
                head[0] = next(rows, None)
        yield record


def derivation_flags(patients: QuerySet[Patient]) -> Iterator[tuple[int, int, str, list[dict]]]:
    """(patient id, site id, record ID, flags) of the patients whose derivation raised flags; one query."""
    return PatientDerivation.objects.filter(patient__in=patients.values("id"), flag_count__gt=0).order_by(
        "patient_id").values_list("patient_id", "patient__site_id", "patient__record_id", "flags").iterator(
        chunk_size=CHUNK)


def latest_run() -> QualityRuleRun | None:
    """The latest finished run (one query)."""
    return QualityRuleRun.objects.filter(status=QualityRuleRun.Status.DONE).order_by("-started_at", "-pk").first()


@dataclass(frozen=True)
class RuleSummary:
    code: str
    label: str
    description: str
    entry_refuses: bool
    hits: int  # not verified, in the sites the user sees
    verified: int


def _visible_hits(user, run: QualityRuleRun) -> QuerySet[QualityRuleHit]:
    access = access_for(user)
    hits = QualityRuleHit.objects.filter(run=run)
    if access.role is None:
        return hits.none()
    return hits if access.site_ids is None else hits.filter(site_id__in=access.site_ids)


def rule_summaries(user, run: QualityRuleRun | None) -> list[RuleSummary]:
    """Every rule (built-in, derivation flags found, custom) with its hits in `run` in the sites
    `user` sees. Queries: the custom rules, and one grouped count of the run's hits."""
    from registry.derive.quality import FLAG_LABELS

    custom = list(QualityRule.objects.order_by("name").values_list("pk", "name", "logic", "active"))
    counts: dict[str, tuple[int, int]] = {}
    if run is not None:
        for rule, open_hits, verified in _visible_hits(user, run).values("rule").order_by("rule").annotate(
                open_hits=Count("pk", filter=Q(verified=False)), verified_hits=Count("pk", filter=Q(verified=True))
        ).values_list("rule", "open_hits", "verified_hits"):
            counts[rule] = (open_hits, verified)
    summaries = [RuleSummary(rule.code, f"{rule.code}. {rule.label}", rule.description, rule.entry_refuses,
                             *counts.get(rule.code, (0, 0))) for rule in BUILT_IN_RULES]
    summaries += [RuleSummary(f"{FLAG_PREFIX}{code}", f"Derivation flag: {label}",
                              "Raised by the derivation (rules §0) and stored with the derived results.", False,
                              *counts.get(f"{FLAG_PREFIX}{code}", (0, 0))) for code, label in FLAG_LABELS.items()]
    summaries += [RuleSummary(f"custom-{pk}", name, logic + ("" if active else " (inactive)"), False,
                              *counts.get(f"custom-{pk}", (0, 0))) for pk, name, logic, active in custom]
    return summaries


@dataclass(frozen=True)
class SiteCount:
    site_id: int
    site_code: str
    site_name: str
    hits: int  # not verified
    verified: int


def rule_site_counts(user, run: QualityRuleRun, rule: str) -> list[SiteCount]:
    """The rule's hits in `run` counted per site the user sees, in site code order (one query)."""
    rows = (_visible_hits(user, run).filter(rule=rule).values("site_id", "site__code", "site__name")
            .order_by("site__code").annotate(open_hits=Count("pk", filter=Q(verified=False)),
                                             verified_hits=Count("pk", filter=Q(verified=True))))
    return [SiteCount(row["site_id"], row["site__code"], row["site__name"], row["open_hits"], row["verified_hits"])
            for row in rows]


def rule_site_hits(user, run: QualityRuleRun, rule: str, site_id: int, *, limit: int = 500) -> list[QualityRuleHit]:
    """The rule's hits in `run` at one site (none if the user does not see it): open ones first, then
    by record, form, instance and field; at most `limit` (one query)."""
    return list(_visible_hits(user, run).filter(rule=rule, site_id=site_id).order_by(
        "verified", "record_id", "form", "instance", "field", "pk")[:limit])


def rule_label_of(code: str) -> str:
    custom = dict(QualityRule.objects.values_list("pk", "name")) if code.startswith("custom-") else {}
    return rule_label(code, {f"custom-{pk}": name for pk, name in custom.items()})
