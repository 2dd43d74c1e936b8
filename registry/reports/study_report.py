"""The study report: the reference study's tables and survival analyses computed from the registry,
each figure beside the published one, as JSON (for machines) or HTML (for people).

    report = study_report(user=None)        # a dict; its keys are documented in docs/study-report.md
    study_report_html(report)               # one self-contained HTML page (curves as inline PNGs)
    study_figure("swimmer", image_format="svg")   # one figure of the report as a PNG or SVG file

It reads only stored derivations (registry/selectors/study_cohort.py: three queries) and the
analysis settings they were derived with; it never derives. The statistics are lifelines' and
scipy's (registry/reports/statistics.py); which estimator gives each number is in `methods`.
"""
from __future__ import annotations

import base64
import json
import math
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone

from registry.derive import RULES_VERSION
from registry.selectors.data_cuts import cut_study_cohort, cut_visible_patient_count, data_cut_description
from registry.selectors.study_cohort import StudyCohort, study_cohort, visible_patient_count

from . import published, study_figures, tables
from .plots import figure_bytes, kaplan_meier_figure
from .statistics import ESTIMATORS, MEDIAN_CI_METHOD, SurvivalGroup, cox_hazard_ratio, kaplan_meier, log_rank
from .treatment_plots import swimmer_figure, waterfall_figure

REPORT_VERSION = 1
REFERENCE = ("Wu L, Zou Z, Li Y, et al. Progression patterns, resistant mechanisms and subsequent therapy for "
             "ALK-positive NSCLC in the era of second-generation ALK-TKIs. J Transl Med. 2024;22:582.")
# Numbers at risk every 6 months up to 3 years of follow-up, every 12 up to 6 years, else every 24.
AT_RISK_INTERVALS_MONTHS = ((36, 6), (72, 12), (math.inf, 24))
P_VALUE_DIGITS = 3  # as the paper prints them


def study_report(*, user=None, figures: bool = False, cut=None) -> dict:
    """The report over the patients `user` may see (None: every site). `figures` adds each figure's
    PNG (base64) under `figure_png`: each survival comparison's Kaplan-Meier curves, the swimmer and
    the waterfall; the HTML page asks for them.
    `cut` (a DataCut): the report of the frozen data cut's records and results as they were stored
    (registry/selectors/data_cuts.py), named under `data_cut`; the same each time but for `generated_at`."""
    cohort, visible = _cohort(user=user, cut=cut)
    derived_with = _provenance(cohort, visible)
    report = {
        "report_version": REPORT_VERSION,
        "reference": REFERENCE,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        **({"data_cut": data_cut_description(cut)} if cut is not None else {}),
        "derived_with": derived_with,
        "cohorts": {"cohort_1": sum(p.cohort == 1 for p in cohort.patients),
                    "cohort_2": sum(p.cohort == 2 for p in cohort.patients),
                    "published": {"cohort_1": 20, "cohort_2": 53}},
        "table_1": tables.table_1(cohort),
        "table_2": _with_p_value_checks(tables.table_2(cohort)),
        "progression_patterns": tables.progression_patterns(cohort),
        "resistance_mechanisms": tables.resistance_mechanisms(cohort),
        "table_3": tables.table_3(cohort),
        "survival": [_comparison(cohort, *definition, figures=figures) for definition in tables.SURVIVAL_COMPARISONS],
        "swimmer": _swimmer(cohort, derived_with, figures=figures),
        "waterfall": _waterfall(cohort, derived_with, figures=figures),
        "methods": {
            **ESTIMATORS,
            "median_ci_method": MEDIAN_CI_METHOD,
            "table_2_test": "Fisher's exact test, two-sided (the study's p-values are Fisher's; its Methods name "
                            "Pearson's chi-square, whose p-values differ from the printed ones).",
            "months": "Days divided by 30.4375 (derivation rules §0), unrounded; shown with one decimal.",
            "definitions": tables.__doc__.split("How the study's groups are read from the derivations (rules §6-§7):",
                                                1)[-1].strip(),
            "swimmer_and_waterfall": study_figures.__doc__.split("\n\n", 1)[1].strip(),
        },
    }
    return report


# The figures a report draws, by key: each survival comparison's (fig5a ... fig6d), the swimmer and
# the waterfall.
FIGURE_KEYS = (*(definition[0] for definition in tables.SURVIVAL_COMPARISONS), "swimmer", "waterfall")


class UnknownFigure(ValueError):
    """No figure of the report has that key; the message names it and the keys there are."""


def study_figure(key: str, *, user=None, cut=None, image_format: str = "png") -> bytes:
    """One figure of the report over the patients `user` may see (as study_report), as a PNG or SVG
    file: the same figure as the HTML page's, drawn from the same rows. Raises UnknownFigure, and
    ValueError for a format other than png or svg (before reading anything)."""
    if key not in FIGURE_KEYS:
        raise UnknownFigure(f"The study report has no figure {key!r}; its figures are {', '.join(FIGURE_KEYS)}")
    if image_format not in ("png", "svg"):
        raise ValueError(f"A figure is drawn as png or svg, not {image_format!r}")
    cohort, visible = _cohort(user=user, cut=cut)
    if key == "swimmer":
        figure = _swimmer_figure(_swimmer(cohort, _provenance(cohort, visible), figures=False))
    elif key == "waterfall":
        figure = _waterfall_figure(_waterfall(cohort, _provenance(cohort, visible), figures=False))
    else:
        definition = next(definition for definition in tables.SURVIVAL_COMPARISONS if definition[0] == key)
        groups, _, at_risk_times = _survival_groups(cohort, definition)
        figure = _kaplan_meier_figure(key, definition[2], groups, at_risk_times)
    return figure_bytes(figure, image_format)


def _cohort(*, user, cut) -> tuple[StudyCohort, int]:
    if cut is None:
        return study_cohort(user=user), visible_patient_count(user=user)
    return cut_study_cohort(cut, user=user), cut_visible_patient_count(cut, user=user)


def _cutoff_and_days_per_month(derived_with: dict) -> tuple[date | None, Decimal]:
    cutoff = derived_with["data_cutoff"]
    days_per_month = derived_with["settings"].get("days_per_month") or tables.DAYS_PER_MONTH
    return (date.fromisoformat(cutoff) if cutoff else None), Decimal(str(days_per_month))


def _swimmer(cohort: StudyCohort, derived_with: dict, *, figures: bool) -> dict:
    cutoff, days_per_month = _cutoff_and_days_per_month(derived_with)
    swimmer = study_figures.swimmer(cohort, cutoff=cutoff, days_per_month=days_per_month)
    if figures:
        swimmer["figure_png"] = _png(_swimmer_figure(swimmer))
    return swimmer


def _waterfall(cohort: StudyCohort, derived_with: dict, *, figures: bool) -> dict:
    cutoff, _ = _cutoff_and_days_per_month(derived_with)
    waterfall = study_figures.waterfall(cohort, cutoff=cutoff)
    if figures:
        waterfall["figure_png"] = _png(_waterfall_figure(waterfall))
    return waterfall


def _swimmer_figure(swimmer: dict):
    patients = len(swimmer["rows"])
    return swimmer_figure(swimmer, title=f"Swimmer plot: {patients} patient{'s' * (patients != 1)} of cohorts 1 "
                                         "and 2, from the index line on")


def _waterfall_figure(waterfall: dict):
    return waterfall_figure(waterfall, title="Waterfall plot: best change of the target sum from baseline, "
                                             "per line from the index line on")


def _kaplan_meier_figure(key: str, endpoint: str, groups, at_risk_times):
    # The page's heading carries the long title; the image names the figure and endpoint.
    return kaplan_meier_figure(groups, title=f"{_figure_name(key)}: {endpoint}", at_risk_times=at_risk_times,
                               x_label="Months from the start of the line")


def _figure_name(key: str) -> str:
    return f"Fig. {key[3]}{key[4].upper()}"


def _png(figure) -> str:
    return base64.b64encode(figure_bytes(figure, "png")).decode("ascii")


def _provenance(cohort: StudyCohort, visible: int) -> dict:
    groups = Counter((version, cutoff, snapshot) for version, cutoff, snapshot, _ in cohort.derivations)
    stale = sum(is_stale for *_, is_stale in cohort.derivations)
    ((version, cutoff, snapshot), _), = groups.most_common(1) or [((RULES_VERSION, "", "{}"), 0)]
    return {
        "rules_version": version,
        "data_cutoff": cutoff or None,
        "settings": json.loads(snapshot),
        "consistent": len(groups) <= 1 and not stale,
        "patients_visible": visible,
        "patients_in_cohorts": len(cohort.patients),
        "stale_patients": stale,
        "settings_groups": len(groups),
    }


def _with_p_value_checks(table: dict) -> dict:
    for row in table["rows"]:
        for key in ("p1", "p2"):
            cell = row[key]
            value = cell["value"]
            cell["rounded"] = None if value is None else f"{value:.{P_VALUE_DIGITS}f}"
            # The paper drops trailing zeros ("0.05", "1"): compare the numbers at its precision.
            cell["matches_published"] = value is not None and round(value, P_VALUE_DIGITS) == float(cell["published"])
    return table


def _rounded(value: float | None, digits: int = 1) -> str | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return f"{value:.{digits}f}"


def _matches(shown: str | None, printed: str | None) -> bool | None:
    """Whether the number the report shows is the one the paper prints (None: the paper gives none).
    Compared as numbers, since the paper drops trailing zeros: its "0.6" is 0.60, its "0.05" 0.050."""
    if printed is None:
        return None
    return shown is not None and float(shown) == float(printed)


def _median_matches(n: int, shown: str | None, printed: str | None) -> bool | None:
    """As _matches; a median printed "NR" (not reached) matches a curve of some patients that never
    falls to one half."""
    if printed == "NR":
        return n > 0 and shown is None
    return _matches(shown, printed)


def _survival_groups(cohort: StudyCohort, definition) -> tuple[list[SurvivalGroup], list[int], tuple[int, ...]]:
    """A comparison's two groups, how many of each group's lines lack the endpoint, and the times
    of the numbers at risk."""
    _, _, endpoint, first, second = definition
    groups, missing = [], []
    for label, patient_filter, line_test in (first, second):
        durations, events, not_derived = tables.survival_groups(cohort, patient_filter, line_test, endpoint)
        groups.append(SurvivalGroup(label, durations, events))
        missing.append(not_derived)
    longest = max((max(group.durations) for group in groups if group.n), default=0.0)
    step = next(every for up_to, every in AT_RISK_INTERVALS_MONTHS if longest <= up_to)
    return groups, missing, tuple(range(0, int(longest // step + 1) * step + 1, step))


def _comparison(cohort: StudyCohort, key: str, title: str, endpoint: str, first, second, *, figures: bool) -> dict:
    groups, missing, at_risk_times = _survival_groups(cohort, (key, title, endpoint, first, second))
    reference = published.SURVIVAL[key]
    summaries = [kaplan_meier(group, at_risk_times=at_risk_times) for group in groups]
    test = log_rank(*groups)
    cox = cox_hazard_ratio(*groups)
    result = {
        "key": key,
        "figure": _figure_name(key),
        "title": title,
        "endpoint": endpoint,
        "groups": [
            {
                "label": summary.label, "n": summary.n, "events": summary.events,
                "not_derived": not_derived,
                "median_months": _rounded(summary.median),
                "median_ci_months": [_rounded(summary.median_ci_lower), _rounded(summary.median_ci_upper)],
                # Unrounded, for checks such as the R parity test (fixtures/reference/README.md).
                "unrounded": {"median_months": summary.median,
                              "median_ci_months": [summary.median_ci_lower, summary.median_ci_upper]},
                "published_n": reference["groups"][index],
                "published_median_months": reference["medians"][index],
                "median_matches_published": _median_matches(summary.n, _rounded(summary.median),
                                                            reference["medians"][index]),
                "at_risk": dict(zip((str(time) for time in summary.at_risk_times), summary.numbers_at_risk)),
                "curve": {"months": [round(time, 4) for time in summary.times],
                          "survival": [round(value, 6) for value in summary.survival]},
            }
            for index, (summary, not_derived) in enumerate(zip(summaries, missing))
        ],
        "log_rank": {"chi_square": _rounded(test.statistic, 3), "p": test.p_value,
                     "p_rounded": _rounded(test.p_value, P_VALUE_DIGITS), "not_estimable": test.not_estimable_reason,
                     "published_p": reference["p"],
                     "matches_published": _matches(_rounded(test.p_value, P_VALUE_DIGITS), reference["p"]),
                     "unrounded": {"chi_square": test.statistic}},
        "cox": {"hazard_ratio": _rounded(cox.hazard_ratio, 2), "ci": [_rounded(cox.ci_lower, 2), _rounded(cox.ci_upper, 2)],
                "p": cox.p_value, "ties": cox.ties, "group": cox.group_label, "reference": cox.reference_label,
                "not_estimable": cox.not_estimable_reason,
                "unrounded": {"hazard_ratio": cox.hazard_ratio, "ci": [cox.ci_lower, cox.ci_upper]},
                "published": None if reference["hr"] is None else
                {"hazard_ratio": reference["hr"][0], "ci": list(reference["hr"][1:])},
                "matches_published": None if reference["hr"] is None else all(
                    _matches(shown, printed) for shown, printed in zip(
                        (_rounded(cox.hazard_ratio, 2), _rounded(cox.ci_lower, 2), _rounded(cox.ci_upper, 2)),
                        reference["hr"]))},
    }
    if figures:
        result["figure_png"] = _png(_kaplan_meier_figure(key, endpoint, groups, at_risk_times))
    return result


# The report's styles: a static file that the admin's page links, embedded in the downloadable page.
STUDY_REPORT_CSS = Path(__file__).resolve().parent.parent / "static" / "registry" / "study_report.css"


def study_report_html(report: dict) -> str:
    """One self-contained page (styles inline, curves as data: URIs), a file to keep and open offline."""
    return render_to_string("registry/study_report.html", {
        "report": report, "views": report_views(report), "styles": STUDY_REPORT_CSS.read_text(encoding="utf-8"),
    })


def report_views(report: dict) -> dict:
    """Rows for the template, so that it only prints."""
    table_1 = report["table_1"]
    columns = [column["key"] for column in table_1["columns"]]
    table_1_rows = []
    for row in table_1["rows"]:
        cells = []
        for column in columns:
            value = row["values"][column]
            shown = _count_percent(value["count"], value["percent"])
            reference = value.get("published", {})
            cells.append({"value": shown, "published": _count_percent(reference.get("count"), reference.get("percent")),
                          "matches": value["count"] == reference.get("count")})
        first_of_group = not table_1_rows or table_1_rows[-1]["group_key"] != row["group"]
        table_1_rows.append({"group": row["group"] if first_of_group else "", "group_key": row["group"],
                             "label": row["label"], "cells": cells})
    ages = []
    for column in columns:
        age = table_1["age"][column]
        ages.append({
            "value": f"{age['median']} ({age['min']}–{age['max']})",
            "published": f"{age['published']['median']} ({age['published']['min']}–{age['published']['max']})",
            "matches": (age["median"], age["min"], age["max"]) == (
                age["published"]["median"], age["published"]["min"], age["published"]["max"]),
        })
    table_2_rows = []
    for row in report["table_2"]["rows"]:
        cells = []
        for column in ("alectinib", "crizotinib", "p1", "ceritinib", "other_2g", "p2"):
            value = row["values"].get(column) or row[column]
            if column.startswith("p"):
                cells.append({"value": value["rounded"] or "—", "published": value["published"],
                              "matches": value["matches_published"], "p": True})
            else:
                reference = value["published"]
                cells.append({
                    "value": f"{value['percent'] or '—'} % ({value['events']}/{value['n']})",
                    "published": f"{reference['percent']} % ({reference['events']}/{reference['n']})",
                    "matches": (value["events"], value["n"]) == (reference["events"], reference["n"]),
                })
        table_2_rows.append({"label": row["label"], "cells": cells})
    table_3_rows = []
    for row in report["table_3"]["rows"]:
        for answer in ("yes", "no"):
            cells = []
            for column in report["table_3"]["columns"]:
                value = row["values"][column["key"]][answer]
                cells.append({"value": _count_percent(value["count"], value["percent"]),
                              "published": _count_percent(value["published"]["count"], value["published"]["percent"]),
                              "matches": value["count"] == value["published"]["count"]})
            table_3_rows.append({"label": row["label"] if answer == "yes" else "", "answer": answer.capitalize(),
                                 "cells": cells})
    stage_labels = {column["key"]: column["label"] for column in table_1["columns"]}
    stages = [{"label": stage_labels[key], **stage} for key, stage in report["progression_patterns"]["stages"].items()]
    return {"table_1_rows": table_1_rows, "ages": ages, "table_2_rows": table_2_rows, "table_3_rows": table_3_rows,
            "stages": stages}


def _count_percent(count, percent) -> str:
    if count is None:
        return "—"
    return f"{count} ({percent} %)" if percent is not None else str(count)
