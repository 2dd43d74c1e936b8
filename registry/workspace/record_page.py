"""The record home page's display values, put together in Python so that the template only prints them:
the header's facts, the form status grid and the derived results (stored, and live) as words.

The stored results (registry/models/derived.py, derived at the analysis cut-off) and the live view
(registry/derive run in memory with today as the cut-off) have the same attribute names, so one function
writes both; stored blanks are "" where the live ones are None.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse

from registry.admin.derived import FLAG_LABELS
from registry.derive.lines import completed_years
from registry.models.choices import RecordStatus, ReportedResponse
from registry.selectors.record_home import RecordHome

from .timeline import drug_label

NOT_RECORDED = "not recorded"
BLANK = "—"

# The REDCap status of an instance; a non-repeating form never saved has none.
STATUS_LABELS = {status.value: status.label for status in RecordStatus}
NO_STATUS_LABEL = "Not started"
# Derived response codes (§8) as the dictionary labels them.
RESPONSE_LABELS = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE",
                   "NON-CR/NON-PD": ReportedResponse.NON_CR_NON_PD.label}
RESPONSE_CSS = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "NON-CR/NON-PD": "NN"}
RESPONSE_WORDS = {"CR": "complete response", "PR": "partial response", "SD": "stable disease",
                  "PD": "progressive disease", "NE": "not evaluable", "NON-CR/NON-PD": "non-CR/non-PD"}
EXTENT_LABELS = {"oligo": "oligo-progression", "extensive": "extensive progression",
                 "unknown": "extent of progression unknown"}
PFS_EVENT_LABELS = {"progression": "event: progression", "death": "event: death"}
CENSOR_LABELS = {
    "new_therapy": "censored at the next line's start",
    "no_adequate_assessment": "censored: no adequate assessment",
    "cutoff": "censored at the cut-off",
    "death_after_missed_assessments": "censored: death after missed assessments",
    "last_known_alive": "censored when last known alive",
}
ALK_STATUS_LABELS = {"mutation": "ALK mutation", "no_mutation": "no ALK mutation", "not_assessed": "not assessed"}
COHORT_LABELS = {1: "Cohort 1", 2: "Cohort 2"}
# The instruments of the grid, in case report form order, as coordinators name them.
FORM_LABELS = {
    "enrollment": "Enrollment", "vital_status": "Vital status", "treatment_line": "Treatment line",
    "local_therapy": "Local therapy", "tumor_assessment": "Tumour assessment (scan)", "lesion": "Lesion",
    "biopsy": "Biopsy", "ngs_variant": "NGS variant",
}


# ---------------------------------------------------------------- header


@dataclass(frozen=True)
class Header:
    record_id: str
    site: str
    age: str  # "57" or "57 at death"; blank without a birth date
    cohort: str
    current_line: str
    current_line_dates: str  # "since 2022-01-06", kept on one line by the page
    vital_status: str
    vital_status_date: str
    last_scan: str


def header(home: RecordHome) -> Header:
    patient = home.patient
    age = ""
    if patient.birth_date is not None:
        at = patient.death_date or home.today
        years = completed_years(patient.birth_date, at)
        age = f"{years} at death" if patient.death_date else str(years)
    if home.stored is not None:
        cohort = COHORT_LABELS.get(home.stored.cohort, "no cohort")
        if home.live.cohort != home.stored.cohort:
            cohort += f" (live view: {COHORT_LABELS.get(home.live.cohort, 'no cohort')})"
    else:
        cohort = f"{COHORT_LABELS.get(home.live.cohort, 'no cohort')} (live view; not derived yet)"
    ongoing = [line for line in home.lines if line.line_end is None]
    if ongoing:
        line = max(ongoing, key=lambda line: (line.line_start, line.line_no))
        current, current_dates = f"Line {line.line_no}: {drug_label(line)}", f"since {line.line_start:%Y-%m-%d}"
    elif home.lines:
        line = max(home.lines, key=lambda line: (line.line_start, line.line_no))
        current = f"none ongoing (last: line {line.line_no}, {drug_label(line)})"
        current_dates = f"ended {line.line_end:%Y-%m-%d}"
    else:
        current, current_dates = "no line recorded", ""
    vital = patient.get_vital_display() if patient.vital is not None else NOT_RECORDED
    vital_date = ""
    if patient.death_date is not None:
        vital_date = f"died {patient.death_date:%Y-%m-%d}"
    elif patient.last_alive_date is not None:
        vital_date = f"last known alive {patient.last_alive_date:%Y-%m-%d}"
    last_scan = max((a.ta_date for a in home.assessments), default=None)
    return Header(
        record_id=patient.record_id, site=f"{patient.site.code} — {patient.site.name}", age=age, cohort=cohort,
        current_line=current, current_line_dates=current_dates, vital_status=vital, vital_status_date=vital_date,
        last_scan=f"{last_scan:%Y-%m-%d}" if last_scan else "none yet",
    )


# ---------------------------------------------------------------- the form status grid


@dataclass(frozen=True)
class GridRow:
    form: str
    form_label: str
    group: str  # the heading of the group of rows this one starts ("Treatment lines (4)"); "" inside a group
    instance: int | None  # None: a non-repeating form
    description: str
    detail: str  # what goes with it (measurements of a scan, variants of a biopsy)
    status: int | None
    status_label: str
    url: str
    delete_url: str  # "" for the non-repeating forms


def _row(home: RecordHome, form: str, instance, description: str, status, *, detail: str = "") -> GridRow:
    record_id = home.patient.record_id
    if instance is None:
        url = reverse("workspace:record_form", args=[record_id, form])
        delete_url = ""
    else:
        number = instance.redcap_repeat_instance
        if form == "tumor_assessment":
            url = reverse("workspace:scan", args=[record_id, number])
        else:
            url = reverse("workspace:instance", args=[record_id, form, number])
        delete_url = reverse("workspace:instance_delete", args=[record_id, form, number])
    return GridRow(
        form=form, form_label=FORM_LABELS[form], group="",
        instance=instance.redcap_repeat_instance if instance else None,
        description=description, detail=detail, status=status,
        status_label=STATUS_LABELS.get(status, NO_STATUS_LABEL), url=url, delete_url=delete_url,
    )


def _status_counts(statuses) -> str:
    counted = {}
    for status in statuses:
        label = STATUS_LABELS.get(status, NO_STATUS_LABEL)
        counted[label] = counted.get(label, 0) + 1
    return ", ".join(f"{count} {label}" for label, count in counted.items())


def status_grid(home: RecordHome) -> list[GridRow]:
    """Every instrument instance of the record with its status, in case report form order; lesion
    measurements are summarised on their scan's row, NGS variants listed after their biopsy."""
    patient = home.patient
    rows = [
        _row(home, "enrollment", None, f"Enrollment: advanced disease diagnosed {_iso(patient.adv_dx_date)}",
             patient.enrollment_complete),
        _row(home, "vital_status", None, f"Vital status: {_vital_description(patient)}", patient.vital_status_complete),
    ]
    for line in home.lines:
        end = f"to {line.line_end:%Y-%m-%d}" if line.line_end else "ongoing"
        rows.append(_row(home, "treatment_line", line,
                         f"Line {line.line_no}: {drug_label(line)}, {line.line_start:%Y-%m-%d} {end}",
                         line.treatment_line_complete))
    for therapy in home.local_therapies:
        site = f", {therapy.get_lt_site_display()}" if therapy.lt_site is not None else ""
        rows.append(_row(home, "local_therapy", therapy,
                         f"{therapy.lt_date:%Y-%m-%d}: {therapy.get_lt_type_display()}{site}",
                         therapy.local_therapy_complete))
    for assessment in home.assessments:
        measurements = home.measurements_by_assessment.get(assessment.pk, [])
        detail = ""
        if measurements:
            noun = "lesion measurement" if len(measurements) == 1 else "lesion measurements"
            statuses = _status_counts(m.lesion_measurement_complete for m in measurements)
            detail = f"{len(measurements)} {noun} ({statuses})"
        rows.append(_row(home, "tumor_assessment", assessment, f"Scan {assessment.ta_date:%Y-%m-%d}",
                         assessment.tumor_assessment_complete, detail=detail))
    for lesion in home.lesions:
        rows.append(_row(home, "lesion", lesion,
                         f"{lesion.les_id}: {lesion.get_les_class_display()}, {lesion.get_les_site_display()}, "
                         f"baseline of line {lesion.les_line}", lesion.lesion_complete))
    for biopsy in home.biopsies:
        rows.append(_row(home, "biopsy", biopsy,
                         f"Biopsy {biopsy.bx_date:%Y-%m-%d}: {biopsy.get_bx_specimen_display()}",
                         biopsy.biopsy_complete))
        for variant in home.variants_by_biopsy.get(biopsy.pk, []):
            rows.append(_row(home, "ngs_variant", variant,
                             f"{_variant_name(variant)} (biopsy {biopsy.bx_date:%Y-%m-%d})",
                             variant.ngs_variant_complete))
    return _grouped(rows)


# Group headings of the grid; NGS variants are listed in the biopsies' group, after their biopsy.
GROUP_OF_FORM = {"enrollment": "record", "vital_status": "record", "ngs_variant": "biopsy"}
GROUP_LABELS = {
    "record": "Enrollment and vital status", "treatment_line": "Treatment lines", "local_therapy": "Local therapy",
    "tumor_assessment": "Tumour assessments (scans)", "lesion": "Lesions", "biopsy": "Biopsies and NGS variants",
}


def _grouped(rows: list[GridRow]) -> list[GridRow]:
    counts: dict[str, int] = {}
    for row in rows:
        group = GROUP_OF_FORM.get(row.form, row.form)
        counts[group] = counts.get(group, 0) + 1
    grouped, seen = [], set()
    for row in rows:
        group = GROUP_OF_FORM.get(row.form, row.form)
        if group not in seen:
            seen.add(group)
            label = GROUP_LABELS[group] if group == "record" else f"{GROUP_LABELS[group]} ({counts[group]})"
            row = replace(row, group=label)
        grouped.append(row)
    return grouped


def _variant_name(variant) -> str:
    details = variant.var_protein or variant.var_partner
    return f"{variant.var_gene} {variant.get_var_kind_display().lower()}" + (f" {details}" if details else "")


def _vital_description(patient) -> str:
    text = patient.get_vital_display() if patient.vital is not None else NOT_RECORDED
    if patient.death_date is not None:
        return f"{text}, died {patient.death_date:%Y-%m-%d}"
    if patient.last_alive_date is not None:
        return f"{text}, last known alive {patient.last_alive_date:%Y-%m-%d}"
    return text


# ---------------------------------------------------------------- derived results


@dataclass(frozen=True)
class LineRow:
    line_no: int
    drug: str
    start: str
    best_response: str
    best_response_css: str
    best_response_words: str
    pd_date: str
    labels: tuple[str, ...]  # the progression's labels that hold, in words
    unknown: tuple[str, ...]  # labels blank for want of data (§0: unknown is not no)
    pfs: str  # "7.7 months (234 days)"
    pfs_outcome: str  # "event: progression", "censored at the cut-off"
    os: str
    os_outcome: str


@dataclass(frozen=True)
class FlagItem:
    label: str
    message: str
    where: str


@dataclass(frozen=True)
class Results:
    state: str  # "current", "stale", "not derived"
    facts: tuple[tuple[str, str], ...]
    lines: tuple[LineRow, ...]
    flags: tuple[FlagItem, ...]


def _iso(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day is not None else BLANK


def _months(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def time_and_outcome(days, months, event, event_type, censor_reason, *, event_label: str = "") -> tuple[str, str]:
    """("13.5 months (412 days)", "event: progression") or (…, "censored at the cut-off"); (BLANK, "")."""
    if days is None:
        return BLANK, ""
    if event:
        outcome = event_label or PFS_EVENT_LABELS.get(event_type or "", f"event: {event_type or 'yes'}")
    else:
        outcome = CENSOR_LABELS.get(censor_reason or "", "censored")
    return f"{_months(months)} months ({days} days)", outcome


def time_to_event(days, months, event, event_type, censor_reason, *, event_label: str = "") -> str:
    """"13.5 months (412 days), event: progression" or "… censored at the cut-off"."""
    time, outcome = time_and_outcome(days, months, event, event_type, censor_reason, event_label=event_label)
    return f"{time}, {outcome}" if outcome else time


def progression_words(result) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The progression's labels that hold, and those unknown, in words (nothing without a progression)."""
    if result.pd_date is None:
        return (), ()
    held = [EXTENT_LABELS.get(result.extent or "unknown", EXTENT_LABELS["unknown"])]
    unknown = []
    if result.n_progressing_lesions is not None:
        noun = "lesion" if result.n_progressing_lesions == 1 else "lesions"
        held.append(f"{result.n_progressing_lesions} progressing {noun}")
    cns = "CNS-only progression" if result.cns_only_progression else "CNS progression"
    symptomatic = "symptomatic CNS progression" if result.symptomatic_cns_progression else "symptomatic progression"
    beyond = "continued beyond progression" + (f" ({result.beyond_pd_days} days)" if result.beyond_pd_days else "")
    for value, words, unknown_words in (
        (result.cns_progression, cns, "CNS involvement"),
        (result.symptomatic_progression, symptomatic, "symptoms"),
        (result.local_therapy_for_pd, "local therapy for the progression", "local therapy for it"),
        (result.continued_beyond_pd, beyond, "continuation beyond it"),
    ):
        if value is None:
            unknown.append(unknown_words)
        elif value:
            held.append(words)
    return tuple(held), tuple(unknown)


def _line_row(result, drug: str, start: date | None) -> LineRow:
    best = result.best_response.value if hasattr(result.best_response, "value") else (result.best_response or "")
    labels, unknown = progression_words(result)
    pfs, pfs_outcome = time_and_outcome(result.pfs_days, result.pfs_months, result.pfs_event, result.pfs_event_type,
                                        result.pfs_censor_reason)
    os, os_outcome = time_and_outcome(result.os_days, result.os_months, result.os_event, "death",
                                      result.os_censor_reason, event_label="event: death")
    return LineRow(
        line_no=result.line_no, drug=drug, start=_iso(start),
        best_response=RESPONSE_LABELS.get(best, best or BLANK), best_response_css=RESPONSE_CSS.get(best, ""),
        best_response_words=RESPONSE_WORDS.get(best, "no response derived"),
        pd_date=_iso(result.pd_date) if result.pd_date else "no progression", labels=labels, unknown=unknown,
        pfs=pfs, pfs_outcome=pfs_outcome, os=os, os_outcome=os_outcome,
    )


def _facts(derivation) -> tuple[tuple[str, str], ...]:
    alk = derivation.alk_mut_status_at_index or ""
    index = BLANK
    if derivation.index_line_no is not None:
        index = f"line {derivation.index_line_no}, progression {_iso(derivation.index_pd_date)}"
    return (
        ("Cohort", COHORT_LABELS.get(derivation.cohort, "no cohort")),
        ("ALK TKI sequence", (derivation.tki_sequence or "").replace(">", " → ") or BLANK),
        ("Index line", index),
        ("ALK mutation at index", ALK_STATUS_LABELS.get(alk, alk or BLANK)),
        ("OS from diagnosis", time_to_event(
            derivation.os_dx_days, derivation.os_dx_months, derivation.os_dx_event, "death",
            derivation.os_dx_censor_reason, event_label="event: death")),
    )


def _flag_items(flags) -> tuple[FlagItem, ...]:
    items = []
    for flag in flags:
        values = flag if isinstance(flag, dict) else vars(flag)
        code = values.get("code", "")
        where = f"{FORM_LABELS.get(values.get('form', ''), values.get('form', ''))} {values.get('instance', '')}"
        items.append(FlagItem(label=FLAG_LABELS.get(code, code.replace("_", " ")), message=values.get("message", ""),
                              where=where.strip()))
    return tuple(items)


def stored_results(home: RecordHome) -> Results:
    if home.stored is None:
        return Results(state="not derived", facts=(), lines=(), flags=())
    lines_by_id = {line.pk: line for line in home.lines}
    rows = []
    for result in home.stored_lines:
        line = lines_by_id.get(result.line_id)
        rows.append(_line_row(result, drug_label(line) if line else BLANK, line.line_start if line else None))
    return Results(state="stale" if home.stored.is_stale else "current", facts=_facts(home.stored),
                   lines=tuple(rows), flags=_flag_items(home.stored.flags or []))


def live_results(home: RecordHome) -> Results:
    lines_by_number = {line.line_no: line for line in home.lines}
    rows = [
        _line_row(result, drug_label(lines_by_number[result.line_no]) if result.line_no in lines_by_number else BLANK,
                  result.line_start)
        for result in home.live.lines
    ]
    return Results(state="current", facts=_facts(home.live), lines=tuple(rows), flags=_flag_items(home.live.flags))
