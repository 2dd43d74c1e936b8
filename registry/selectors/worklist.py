"""The coordinator's worklist (issue 11): what needs doing in the records of the user's sites.

    worklist(user, category=..., site=..., sort=..., page=..., today=..., now=...) -> Worklist

Categories, each counted in full and listed one page (50 rows) at a time:

- overdue_scan: a living patient on an ongoing line whose follow-up scan is late;
- vital_status: a living patient whose vital status was not confirmed for too long;
- data_quality_flags: the §0 flags of the patient's stored derivation, one row per flag;
- open_queries: the queries still open or responded (issue 12 §2), one row per query;
- incomplete_forms: every form instance left Incomplete or Unverified;
- recent: records changed within the last days.

The intervals are the workspace settings (WorkspaceSettings, changed by administrators in the
admin). Everything is computed in SQL: whatever the number of patients, one worklist costs the same
number of queries (see `worklist`), and no Python loop runs over all the patients.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Case, CharField, DateField, DateTimeField, DurationField, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q,
    QuerySet, Subquery, Sum, Value, When, Window,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import timezone

from registry.derive import quality
from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, PatientDerivation, QueryMessage, QueryState,
    Site, TreatmentLine, TumorAssessment, WorkspaceSettings,
)
from registry.models.choices import LineType, RecordStatus, Regimen, VitalStatus
from registry.selectors.access import Capability, access_for, visible_patients, visible_sites
from registry.selectors.queries import unresolved_queries

PAGE_SIZE = 50

OVERDUE_SCAN = "overdue_scan"
VITAL_STATUS = "vital_status"
DATA_QUALITY_FLAGS = "data_quality_flags"
INCOMPLETE_FORMS = "incomplete_forms"
RECENT = "recent"
# The data queries still open or responded (issue 12 §2), between the flags and the incomplete forms.
OPEN_QUERIES = "open_queries"

CATEGORY_LABELS = {
    OVERDUE_SCAN: "Scan overdue",
    VITAL_STATUS: "Vital status due",
    DATA_QUALITY_FLAGS: "Data-quality flags",
    OPEN_QUERIES: "Open queries",
    INCOMPLETE_FORMS: "Incomplete or unverified forms",
    RECENT: "Changed recently",
}
CATEGORIES = tuple(CATEGORY_LABELS)

# Sort keys of the page's "sort" parameter; "-" in front sorts the other way.
SORT_RECORD = "record_id"
SORT_OVERDUE = "days_overdue"
SORT_CHANGED = "changed"
SORT_LABELS = {SORT_RECORD: "Record ID", SORT_OVERDUE: "Days overdue", SORT_CHANGED: "Last change"}
SORTS_BY_CATEGORY = {
    OVERDUE_SCAN: (SORT_RECORD, SORT_OVERDUE, SORT_CHANGED),
    VITAL_STATUS: (SORT_RECORD, SORT_OVERDUE, SORT_CHANGED),
    DATA_QUALITY_FLAGS: (SORT_RECORD, SORT_CHANGED),
    OPEN_QUERIES: (SORT_RECORD, SORT_CHANGED),
    INCOMPLETE_FORMS: (SORT_RECORD, SORT_CHANGED),
    RECENT: (SORT_RECORD, SORT_CHANGED),
}
DEFAULT_SORT = {
    OVERDUE_SCAN: f"-{SORT_OVERDUE}",  # the longest overdue first
    VITAL_STATUS: f"-{SORT_OVERDUE}",
    DATA_QUALITY_FLAGS: SORT_RECORD,
    OPEN_QUERIES: SORT_RECORD,
    INCOMPLETE_FORMS: SORT_RECORD,
    RECENT: f"-{SORT_CHANGED}",  # the latest change first
}

# Line types and the setting holding their expected scan interval.
CHEMOTHERAPY_LINE_TYPES = (LineType.CHEMOTHERAPY, LineType.CHEMOTHERAPY_ANTIANGIOGENIC)

# The instruments whose instances carry a record status, in the order of the case report form, with
# what names one instance to a person (a text expression on the instrument's table).
FORM_LABELS = {
    "enrollment": "Enrollment",
    "treatment_line": "Treatment line",
    "local_therapy": "Local therapy",
    "tumor_assessment": "Tumor assessment",
    "lesion": "Lesion",
    "lesion_measurement": "Lesion measurement",
    "biopsy": "Biopsy",
    "ngs_variant": "NGS variant",
    "vital_status": "Vital status",
}
FORM_ORDER = {form: number for number, form in enumerate(FORM_LABELS)}
PATIENT_FORMS = ("enrollment", "vital_status")  # non-repeating: stored on the patient row
UNFINISHED = (RecordStatus.INCOMPLETE, RecordStatus.UNVERIFIED)


class WorklistParameterError(ValueError):
    """A filter or sort value the page does not offer; the message says which values it does."""


@dataclass(frozen=True)
class CategoryCount:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class WorklistRow:
    """One thing to do. Every category fills the fields its columns show; `url` is where it is done."""

    record_id: str
    site_code: str
    url: str
    action: str  # the link's text: "Enter the scan", "Open the form" ...
    what: str = ""  # the line, the form instance, the flag ...
    detail: str = ""  # a second line of text: the flag's message, the line type ...
    status: str = ""  # a label: "Incomplete", "Alive" ...
    day: date | None = None  # the last scan, the last known alive date ...
    due: date | None = None  # when the scan or the vital status was due
    days_overdue: int | None = None
    changed_at: datetime | None = None
    stale: bool = False  # a flag of a derivation being re-derived


@dataclass(frozen=True)
class SortChoice:
    key: str  # "record_id"
    label: str
    direction: str  # "asc" / "desc" while the list is sorted by it, else ""
    next_value: str  # the sort parameter a click on the column asks for


@dataclass(frozen=True)
class Worklist:
    categories: tuple[CategoryCount, ...]
    category: str
    sort: str
    sort_choices: tuple[SortChoice, ...]
    sites: tuple[Site, ...]  # the sites the user sees, for the filter
    site: Site | None  # the site filtered on; None: all of them
    rows: tuple[WorklistRow, ...]
    total: int  # rows of the current category (all pages)
    page: int
    page_count: int
    today: date
    settings: WorkspaceSettings
    has_access: bool  # False: no role, or a role without sites; the page explains

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def first_row_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last_row_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.rows)


# ---------------------------------------------------------------- parameters


def _parse_category(value: str | None) -> str | None:
    if not value:
        return None
    if value not in CATEGORY_LABELS:
        raise WorklistParameterError(
            f"Unknown worklist category {value!r}; the categories are: {', '.join(CATEGORIES)}.")
    return value


def _parse_sort(value: str | None, category: str) -> str:
    """The sort asked for, when it applies to the category; else the category's default.

    An unknown key is an error; a known key that the category does not sort by (days overdue among
    the recent changes) falls back to the default, so that a sort kept across tabs never fails."""
    if not value:
        return DEFAULT_SORT[category]
    key = value.removeprefix("-")
    if key not in SORT_LABELS:
        allowed = ", ".join(f"{name} or -{name}" for name in SORT_LABELS)
        raise WorklistParameterError(f"Unknown sort {value!r}; sort by {allowed}.")
    return value if key in SORTS_BY_CATEGORY[category] else DEFAULT_SORT[category]


def _parse_site(value: str | None, sites: list[Site]) -> Site | None:
    if not value:
        return None
    for site in sites:
        if site.code == value:
            return site
    # The same answer for a site that does not exist and one the user may not see: no oracle.
    raise WorklistParameterError(f"No site {value!r} among the sites you see.")


def parse_page(value) -> int:
    try:
        page = int(value or 1)
    except (TypeError, ValueError):
        raise WorklistParameterError(f"The page must be a whole number, not {value!r}.") from None
    if page < 1:
        raise WorklistParameterError(f"The page must be 1 or more, not {page}.")
    return page


# ---------------------------------------------------------------- shared expressions


def _alive(prefix: str = "") -> Q:
    """Alive as far as the record says: not recorded Dead and no date of death (lost to follow-up and
    a blank vital status count as alive: their follow-up is exactly what is missing)."""
    return ~Q(**{f"{prefix}vital": VitalStatus.DEAD}) & Q(**{f"{prefix}death_date__isnull": True})


def _last_change(prefix: str = ""):
    """When a door last wrote the record; a record never written through a door: its row's own time."""
    return Coalesce(F(f"{prefix}record_version__changed_at"), F(f"{prefix}updated_at"),
                    output_field=DateTimeField())


def _ordering(sort: str, fields: dict[str, list]) -> list:
    """`fields` maps a sort key to its expressions in ascending order; the record ID breaks ties."""
    descending = sort.startswith("-")
    expressions = []
    for expression in fields[sort.removeprefix("-")]:
        if isinstance(expression, str):
            expression = F(expression)
        expressions.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_first=True))
    return expressions


def scan_interval_days(line_type: int | None, settings: WorkspaceSettings) -> int:
    if line_type == LineType.ALK_TKI:
        return settings.scan_interval_alk_tki_days
    if line_type in CHEMOTHERAPY_LINE_TYPES:
        return settings.scan_interval_chemotherapy_days
    return settings.scan_interval_other_days


# ---------------------------------------------------------------- the categories' querysets


def _visible(queryset: QuerySet, site_ids: list[int] | None, site_path: str) -> QuerySet:
    return queryset if site_ids is None else queryset.filter(**{f"{site_path}__in": site_ids})


def overdue_scans(site_ids: list[int] | None, settings: WorkspaceSettings, today: date) -> QuerySet[TreatmentLine]:
    """The ongoing line of each living patient whose follow-up scan is overdue (one row per patient).

    Issue 11: "A patient is overdue when alive with an ongoing line and today − the latest ta_date
    (else line_start) exceeds interval + grace." Read literally: the reference is the patient's latest
    assessment whatever its line (a scan of the previous line counts until the new line's first scan),
    and the line's start only when the patient has no assessment at all. Ongoing: no end date and
    started on or before today. With several ongoing lines, the latest-starting one (then the highest
    line number) decides the interval. "Exceeds" is strict: at exactly interval + grace days the scan
    is not yet listed.
    """
    ongoing = Q(line_end__isnull=True, line_start__lte=today)
    later_ongoing = TreatmentLine.objects.filter(ongoing, patient=OuterRef("patient_id")).filter(
        Q(line_start__gt=OuterRef("line_start")) | Q(line_start=OuterRef("line_start"), line_no__gt=OuterRef("line_no"))
    )
    last_scan = (TumorAssessment.objects.filter(patient=OuterRef("patient_id"))
                 .order_by("-ta_date").values("ta_date")[:1])
    grace = settings.scan_grace_days
    # today − reference > interval + grace  ⇔  reference < today − (interval + grace): dates computed
    # here, compared there, so the same SQL runs on PostgreSQL and SQLite.
    overdue = (
        Q(line_type=LineType.ALK_TKI, reference__lt=today - timedelta(days=settings.scan_interval_alk_tki_days + grace))
        | Q(line_type__in=CHEMOTHERAPY_LINE_TYPES,
            reference__lt=today - timedelta(days=settings.scan_interval_chemotherapy_days + grace))
        | (~Q(line_type__in=(LineType.ALK_TKI, *CHEMOTHERAPY_LINE_TYPES))
           & Q(reference__lt=today - timedelta(days=settings.scan_interval_other_days + grace)))
    )
    lines = _visible(TreatmentLine.objects.filter(ongoing), site_ids, "patient__site_id")
    return (
        lines.filter(_alive("patient__"))
        .exclude(Exists(later_ongoing))
        .annotate(last_scan=Subquery(last_scan, output_field=DateField()))
        .annotate(reference=Coalesce(F("last_scan"), F("line_start"), output_field=DateField()))
        .filter(overdue)
    )


def vital_status_due(site_ids: list[int] | None, settings: WorkspaceSettings, today: date) -> QuerySet[Patient]:
    """Living patients whose last known alive date is blank or more than vital_status_days old
    (strictly: at exactly that many days they are not listed yet)."""
    limit = today - timedelta(days=settings.vital_status_days)
    patients = _visible(Patient.objects.filter(_alive()), site_ids, "site_id")
    return patients.filter(Q(last_alive_date__isnull=True) | Q(last_alive_date__lt=limit))


def flagged_derivations(site_ids: list[int] | None) -> QuerySet[PatientDerivation]:
    return _visible(PatientDerivation.objects.filter(flag_count__gt=0), site_ids, "patient__site_id")


def recent_changes(site_ids: list[int] | None, settings: WorkspaceSettings, now: datetime) -> QuerySet[Patient]:
    since = now - timedelta(days=settings.recent_days)
    patients = _visible(Patient.objects.all(), site_ids, "site_id")
    # Spelled as an OR rather than a filter on the Coalesce, so PostgreSQL can use the two indexes.
    return patients.filter(
        Q(record_version__changed_at__gte=since) | Q(record_version__isnull=True, updated_at__gte=since)
    )


def _text(expression) -> Cast:
    return Cast(expression, output_field=CharField())


# For each repeating instrument: its model and what names an instance to a person.
_UNFINISHED_INSTANCES = (
    ("treatment_line", TreatmentLine, lambda: Concat(Value("Line "), _text("line_no"), output_field=CharField())),
    ("local_therapy", LocalTherapy, lambda: _text("lt_date")),
    ("tumor_assessment", TumorAssessment, lambda: _text("ta_date")),
    ("lesion", Lesion, lambda: F("les_id")),
    ("lesion_measurement", LesionMeasurement, lambda: Concat(
        F("lesion__les_id"), Value(" at "), _text("assessment__ta_date"), output_field=CharField())),
    ("biopsy", Biopsy, lambda: _text("bx_date")),
    ("ngs_variant", NgsVariant, lambda: Concat(F("var_gene"), Value(" "), F("var_protein"), output_field=CharField())),
)
# Every column an annotation (record_id_, not the patient's record_id), so that each part of the UNION
# selects its columns in this order.
_UNFINISHED_COLUMNS = ("form_order", "form_name", "instance", "status", "what", "record_id_", "site_id_", "changed")


def _unfinished_parts(site_ids: list[int] | None) -> list[tuple[str, QuerySet]]:
    """(form, the instances of the form left Incomplete or Unverified), for every form."""
    parts = []
    for form in PATIENT_FORMS:
        parts.append((form, _visible(Patient.objects.filter(**{f"{form}_complete__in": UNFINISHED}), site_ids,
                                     "site_id")))
    for form, model, _what in _UNFINISHED_INSTANCES:
        parts.append((form, _visible(model.objects.filter(**{f"{form}_complete__in": UNFINISHED}), site_ids,
                                     "patient__site_id")))
    return parts


def unfinished_forms(site_ids: list[int] | None) -> QuerySet:
    """Every form instance whose record status is Incomplete or Unverified, of every instrument, as one
    UNION ALL query (values: form_order, form_name, instance, status, what, record_id_, site_id_, changed).
    A non-repeating form whose status is blank (never saved) is not listed."""
    what_by_form = {form: what for form, _model, what in _UNFINISHED_INSTANCES}
    parts = []
    for form, instances in _unfinished_parts(site_ids):
        if form in PATIENT_FORMS:
            columns = {"instance": Cast(Value(None), IntegerField()), "what": Value("", CharField()),
                       "record_id_": F("record_id"), "site_id_": F("site_id"), "changed": _last_change()}
        else:
            columns = {"instance": F("redcap_repeat_instance"), "what": what_by_form[form](),
                       "record_id_": F("patient__record_id"), "site_id_": F("patient__site_id"),
                       "changed": F("updated_at")}
        parts.append(instances.annotate(
            form_order=Value(FORM_ORDER[form]), form_name=Value(form), status=F(f"{form}_complete"), **columns,
        ).values(*_UNFINISHED_COLUMNS).order_by())
    first, *others = parts
    return first.union(*others, all=True)


def unfinished_forms_count(site_ids: list[int] | None) -> int:
    """How many rows `unfinished_forms` has, in one query that selects nothing but the rows' ids (the
    labels of the list need joins that counting does not)."""
    first, *others = [instances.values("pk").order_by() for _form, instances in _unfinished_parts(site_ids)]
    return first.union(*others, all=True).count()


# ---------------------------------------------------------------- rows


def _line_label(line: TreatmentLine) -> str:
    named_other = line.line_drug == Regimen.OTHER and line.line_drug_other
    drug = line.line_drug_other if named_other else line.get_line_drug_display()
    return f"Line {line.line_no} · {drug}"


def _overdue_rows(site_ids, settings, today, sort, offset, site_codes, can_change) -> list[WorklistRow]:
    lines = overdue_scans(site_ids, settings, today).annotate(
        record_id=F("patient__record_id"), site_id=F("patient__site_id"), changed=_last_change("patient__"),
        # The due date is reference + interval: sorting by it is sorting by days overdue (reversed).
        waited=ExpressionWrapper(Value(today, DateField()) - F("reference"), output_field=DurationField()),
    ).only("id", "patient_id", "line_no", "line_type", "line_drug", "line_drug_other", "line_start")
    overdue_key = ExpressionWrapper(
        F("waited") - Case(
            *[When(line_type__in=types, then=Value(timedelta(days=days))) for types, days in (
                ((LineType.ALK_TKI,), settings.scan_interval_alk_tki_days),
                (CHEMOTHERAPY_LINE_TYPES, settings.scan_interval_chemotherapy_days),
            )], default=Value(timedelta(days=settings.scan_interval_other_days)), output_field=DurationField()),
        output_field=DurationField())
    ordering = _ordering(sort, {SORT_RECORD: ["record_id"], SORT_OVERDUE: [overdue_key], SORT_CHANGED: ["changed"]})
    rows = []
    for line in lines.order_by(*ordering, "record_id")[offset:offset + PAGE_SIZE]:
        due = line.reference + timedelta(days=scan_interval_days(line.line_type, settings))
        # A reader (viewer, investigator) cannot enter a scan: their link opens the read-only record.
        writer = can_change(line.site_id)
        rows.append(WorklistRow(
            record_id=line.record_id, site_code=site_codes[line.site_id],
            url=reverse("workspace:scan_new" if writer else "workspace:record", args=[line.record_id]),
            action="Enter the scan" if writer else "Open the record",
            what=_line_label(line), detail=line.get_line_type_display(), day=line.last_scan, due=due,
            days_overdue=(today - due).days, changed_at=line.changed,
        ))
    return rows


def _vital_rows(site_ids, settings, today, sort, offset, site_codes, can_change) -> list[WorklistRow]:
    patients = vital_status_due(site_ids, settings, today).annotate(changed=_last_change()).only(
        "id", "record_id", "site_id", "vital", "last_alive_date")
    # Days overdue grow as the last known alive date gets older; never confirmed is the most overdue.
    ordering = {
        SORT_RECORD: [F("record_id").asc()], f"-{SORT_RECORD}": [F("record_id").desc()],
        SORT_OVERDUE: [F("last_alive_date").desc(nulls_last=True)],
        f"-{SORT_OVERDUE}": [F("last_alive_date").asc(nulls_first=True)],
        SORT_CHANGED: [F("changed").asc()], f"-{SORT_CHANGED}": [F("changed").desc()],
    }[sort]
    rows = []
    for patient in patients.order_by(*ordering, "record_id")[offset:offset + PAGE_SIZE]:
        due = patient.last_alive_date + timedelta(days=settings.vital_status_days) if patient.last_alive_date else None
        rows.append(WorklistRow(
            record_id=patient.record_id, site_code=site_codes[patient.site_id],
            url=reverse("workspace:record_form", args=[patient.record_id, "vital_status"]),
            action="Update the vital status" if can_change(patient.site_id) else "See the vital status",
            what="Vital status",
            status=patient.get_vital_display() if patient.vital is not None else "Not recorded",
            day=patient.last_alive_date, due=due, days_overdue=(today - due).days if due else None,
            changed_at=patient.changed,
        ))
    return rows


def _flag_rows(site_ids, sort, offset, site_codes) -> list[WorklistRow]:
    """The flags of rows offset … offset+50. Each derivation holds several flags: a running total of
    flag_count (a window function) finds the derivations holding those rows, in one query; one more
    finds the instances the page's flags name (`_flagged_instances`), when any does."""
    ordering = _ordering(sort, {SORT_RECORD: ["patient__record_id"], SORT_CHANGED: ["changed"]})
    ordering += [F("patient__record_id").asc()]
    derivations = flagged_derivations(site_ids).annotate(
        changed=_last_change("patient__"),
        flags_through=Window(Sum("flag_count"), order_by=ordering),
    ).filter(flags_through__gt=offset).filter(
        flags_through__lte=offset + PAGE_SIZE + F("flag_count") - 1,
    ).select_related("patient").only(
        "flags", "flag_count", "is_stale", "patient__record_id", "patient__site_id").order_by(*ordering)
    page = []  # (derivation, flag)
    for derivation in derivations:
        skip = max(0, offset - (derivation.flags_through - derivation.flag_count))
        page += [(derivation, flag) for flag in derivation.flags[skip:]]
    page = page[:PAGE_SIZE]
    instances = _flagged_instances([(derivation.patient_id, flag) for derivation, flag in page])
    rows = []
    for derivation, flag in page:
        patient, form = derivation.patient, flag.get("form", "")
        instance = instances.get((derivation.patient_id, form, _flag_key(form, flag.get("instance", ""))))
        if form in PATIENT_FORMS or instance is not None:
            url, action = _instance_url(patient.record_id, form, instance), "Open the form"
        else:
            url, action = reverse("workspace:record", args=[patient.record_id]), "Open the record"
        rows.append(WorklistRow(
            record_id=patient.record_id, site_code=site_codes[patient.site_id], url=url, action=action,
            what=quality.FLAG_LABELS.get(flag.get("code"), flag.get("code", "")), detail=flag.get("message", ""),
            status=" ".join(part for part in (FORM_LABELS.get(form, form.replace("_", " ")),
                                               flag.get("instance", "")) if part and part != form),
            changed_at=derivation.changed, stale=derivation.is_stale,
        ))
    return rows


# How a flag names the instance it is about (registry/derive/quality.py): by a date at the end ("2024-01-08",
# "assessment 2024-01-08"), a line number ("line 2", "line 2 start") or a lesion identifier; the model
# field holding that key. A flag naming several instances ("all lines") or a key two instances share
# (two assessments on one date) is fixed from the record's home page, which lists them all.
_ISO_DATE_AT_END = re.compile(r"(\d{4}-\d{2}-\d{2})$")
_LINE_NUMBER = re.compile(r"^line (\d+)\b")
_FLAG_INSTANCE_KEYS = {
    "treatment_line": (TreatmentLine, "line_no", _LINE_NUMBER),
    "local_therapy": (LocalTherapy, "lt_date", _ISO_DATE_AT_END),
    "tumor_assessment": (TumorAssessment, "ta_date", _ISO_DATE_AT_END),
    "lesion": (Lesion, "les_id", re.compile(r"^(\S+)$")),
    "biopsy": (Biopsy, "bx_date", _ISO_DATE_AT_END),
}


def _flag_key(form: str, instance_text: str) -> str | None:
    """The key a flag names its instance by, as text ("2024-01-08", "2", "L1-T1"); None when it names none."""
    if form not in _FLAG_INSTANCE_KEYS:
        return None
    match = _FLAG_INSTANCE_KEYS[form][2].search(instance_text)
    return match.group(1) if match else None


def _flagged_instances(flags: list[tuple[int, dict]]) -> dict[tuple[int, str, str], int]:
    """(patient id, form, key) → the instance number, for the instances `flags` name that one instance
    alone has; one UNION ALL query (none when no flag names an instance)."""
    wanted: dict[str, set[tuple[int, str]]] = {}
    for patient_id, flag in flags:
        form = flag.get("form", "")
        key = _flag_key(form, flag.get("instance", ""))
        if key is not None:
            wanted.setdefault(form, set()).add((patient_id, key))
    parts = []
    for form, keys in wanted.items():
        model, field, _pattern = _FLAG_INSTANCE_KEYS[form]
        condition = Q()
        for patient_id, key in keys:
            condition |= Q(patient_id=patient_id, **{field: int(key) if field == "line_no" else key})
        parts.append(model.objects.filter(condition).annotate(
            form_name=Value(form), key=_text(field),
        ).values("form_name", "patient_id", "key", "redcap_repeat_instance").order_by())
    if not parts:
        return {}
    first, *others = parts
    found: dict[tuple[int, str, str], list[int]] = {}
    for row in first.union(*others, all=True):
        found.setdefault((row["patient_id"], row["form_name"], row["key"]), []).append(row["redcap_repeat_instance"])
    return {key: numbers[0] for key, numbers in found.items() if len(numbers) == 1}


def _instance_url(record_id: str, form: str, instance: int | None) -> str:
    if form in PATIENT_FORMS:
        return reverse("workspace:record_form", args=[record_id, form])
    if form == "tumor_assessment":
        return reverse("workspace:scan", args=[record_id, instance])
    return reverse("workspace:instance", args=[record_id, form, instance])


def _unfinished_rows(site_ids, sort, offset, site_codes) -> list[WorklistRow]:
    ordering = {
        SORT_RECORD: ["record_id_", "form_order", "instance"],
        f"-{SORT_RECORD}": ["-record_id_", "form_order", "instance"],
        SORT_CHANGED: ["changed", "record_id_", "form_order", "instance"],
        f"-{SORT_CHANGED}": ["-changed", "record_id_", "form_order", "instance"],
    }[sort]
    rows = []
    for row in unfinished_forms(site_ids).order_by(*ordering)[offset:offset + PAGE_SIZE]:
        form = row["form_name"]
        rows.append(WorklistRow(
            record_id=row["record_id_"], site_code=site_codes[row["site_id_"]],
            url=_instance_url(row["record_id_"], form, row["instance"]), action="Open the form",
            what=FORM_LABELS[form], detail=row["what"] or "", status=RecordStatus(row["status"]).label,
            changed_at=_aware(row["changed"]),
        ))
    return rows


def _query_rows(site_ids, sort, offset, site_codes, access) -> list[WorklistRow]:
    """One page of the open and responded queries, each with its first message (a subquery: one query)."""
    first_message = QueryMessage.objects.filter(query=OuterRef("pk")).order_by("created_at", "id").values("text")[:1]
    ordering = _ordering(sort, {SORT_RECORD: ["patient__record_id"], SORT_CHANGED: ["updated_at"]})
    queries = unresolved_queries(site_ids).select_related("patient").annotate(
        first_text=Subquery(first_message, output_field=CharField())).order_by(*ordering, "opened_at", "id")
    rows = []
    for query in queries[offset:offset + PAGE_SIZE]:
        answers = query.state == QueryState.OPEN and access.can(Capability.RESPOND_QUERY, query.patient.site_id)
        target = " ".join(part for part in (
            FORM_LABELS.get(query.form, ""), f"#{query.instance_number}" if query.instance_number else "",
            query.field) if part) or "The record"
        rows.append(WorklistRow(
            record_id=query.patient.record_id, site_code=site_codes[query.patient.site_id],
            url=reverse("workspace:query", args=[query.pk]),
            action="Answer the query" if answers else "Open the query",
            what=target, detail=query.first_text or "", status=query.get_state_display(),
            day=query.opened_at.date(), changed_at=query.updated_at,
        ))
    return rows


def _aware(moment):
    """A timestamp read through a UNION comes back as text on SQLite; make it a datetime again."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
    return moment


def _recent_rows(site_ids, settings, now, sort, offset, site_codes) -> list[WorklistRow]:
    patients = recent_changes(site_ids, settings, now).annotate(changed=_last_change()).only(
        "id", "record_id", "site_id")
    ordering = _ordering(sort, {SORT_RECORD: ["record_id"], SORT_CHANGED: ["changed"]})
    return [
        WorklistRow(record_id=patient.record_id, site_code=site_codes[patient.site_id],
                    url=reverse("workspace:record", args=[patient.record_id]), action="Open the record",
                    changed_at=patient.changed)
        for patient in patients.order_by(*ordering, "record_id")[offset:offset + PAGE_SIZE]
    ]


# ---------------------------------------------------------------- the worklist


def _sort_choices(category: str, sort: str) -> tuple[SortChoice, ...]:
    choices = []
    for key in SORTS_BY_CATEGORY[category]:
        current = sort.removeprefix("-") == key
        direction = ("desc" if sort.startswith("-") else "asc") if current else ""
        # A click on the current column turns it around; on another column, its natural first direction.
        if current:
            next_value = key if sort.startswith("-") else f"-{key}"
        else:
            next_value = f"-{key}" if key in (SORT_OVERDUE, SORT_CHANGED) else key
        choices.append(SortChoice(key=key, label=SORT_LABELS[key], direction=direction, next_value=next_value))
    return tuple(choices)


def worklist(user, *, category: str | None = None, site: str | None = None, sort: str | None = None,
             page=None, today: date | None = None, now: datetime | None = None) -> Worklist:
    """The user's worklist: every category's count, and one page of the chosen category's rows.

    `category`, `site` (a site code), `sort` and `page` are the page's GET parameters as typed; a
    value the page does not offer raises WorklistParameterError (nothing is read). Without a category,
    the first category with rows is shown. `today`/`now` default to the clock.

    Queries, whatever the number of patients: the user's access (up to 2, once per user object),
    the visible sites (1), the workspace settings (1), one COUNT per category (6), the chosen
    category's page (1) and, on the flags' page, the instances they name (1) — at most 12.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    access = access_for(user)
    sites = list(visible_sites(user).order_by("code"))
    selected_site = _parse_site(site, sites)
    category = _parse_category(category)
    page_number = parse_page(page)
    settings = WorkspaceSettings.current()
    if not sites:
        chosen = category or OVERDUE_SCAN
        return Worklist(
            categories=tuple(CategoryCount(key, label, 0) for key, label in CATEGORY_LABELS.items()),
            category=chosen, sort=_parse_sort(sort, chosen), sort_choices=(), sites=(), site=None, rows=(),
            total=0, page=1, page_count=1, today=today, settings=settings, has_access=False,
        )
    if selected_site is not None:
        site_ids = [selected_site.id]
    else:
        site_ids = None if access.sees_all_sites else [site.id for site in sites]

    counts = {
        OVERDUE_SCAN: overdue_scans(site_ids, settings, today).count(),
        VITAL_STATUS: vital_status_due(site_ids, settings, today).count(),
        DATA_QUALITY_FLAGS: flagged_derivations(site_ids).aggregate(flags=Coalesce(Sum("flag_count"), 0))["flags"],
        INCOMPLETE_FORMS: unfinished_forms_count(site_ids),
        RECENT: recent_changes(site_ids, settings, now).count(),
        OPEN_QUERIES: unresolved_queries(site_ids).count(),
    }
    if category is None:
        category = next((key for key in CATEGORIES if counts[key]), OVERDUE_SCAN)
    sort = _parse_sort(sort, category)
    total = counts[category]
    page_count = max(1, -(-total // PAGE_SIZE))
    page_number = min(page_number, page_count)  # past the last page: the last page, as Django's paginator does
    offset = (page_number - 1) * PAGE_SIZE
    site_codes = {site.id: site.code for site in sites}
    if total == 0:
        rows = []
    elif category == OVERDUE_SCAN:
        rows = _overdue_rows(site_ids, settings, today, sort, offset, site_codes, access.can_change_site)
    elif category == VITAL_STATUS:
        rows = _vital_rows(site_ids, settings, today, sort, offset, site_codes, access.can_change_site)
    elif category == DATA_QUALITY_FLAGS:
        rows = _flag_rows(site_ids, sort, offset, site_codes)
    elif category == OPEN_QUERIES:
        rows = _query_rows(site_ids, sort, offset, site_codes, access)
    elif category == INCOMPLETE_FORMS:
        rows = _unfinished_rows(site_ids, sort, offset, site_codes)
    else:
        rows = _recent_rows(site_ids, settings, now, sort, offset, site_codes)
    return Worklist(
        categories=tuple(CategoryCount(key, CATEGORY_LABELS[key], counts[key]) for key in CATEGORIES),
        category=category, sort=sort, sort_choices=_sort_choices(category, sort), sites=tuple(sites),
        site=selected_site, rows=tuple(rows), total=total, page=page_number, page_count=page_count, today=today,
        settings=settings, has_access=True,
    )


# ---------------------------------------------------------------- every record


@dataclass(frozen=True)
class RecordRow:
    record_id: str
    site_code: str
    url: str
    adv_dx_date: date | None
    vital: str
    last_alive_date: date | None
    changed_at: datetime | None


def visible_records(user, *, search: str = "", site: Site | None = None) -> QuerySet[Patient]:
    """The records the user sees, by record ID; `search` keeps those whose record ID starts with it
    (ignoring letter case), `site` those of one site (one the user sees)."""
    patients = visible_patients(user)
    if search:
        patients = patients.filter(record_id__istartswith=search)
    if site is not None:
        patients = patients.filter(site_id=site.id)
    return patients.annotate(changed=_last_change()).only(
        "id", "record_id", "site_id", "adv_dx_date", "vital", "last_alive_date").order_by("record_id")


def record_rows(patients, sites: list[Site]) -> list[RecordRow]:
    site_codes = {site.id: site.code for site in sites}
    return [
        RecordRow(
            record_id=patient.record_id, site_code=site_codes.get(patient.site_id, ""),
            url=reverse("workspace:record", args=[patient.record_id]), adv_dx_date=patient.adv_dx_date,
            vital=patient.get_vital_display() if patient.vital is not None else "Not recorded",
            last_alive_date=patient.last_alive_date, changed_at=patient.changed,
        )
        for patient in patients
    ]
