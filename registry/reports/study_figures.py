"""What the swimmer and waterfall plots of the study report draw, computed from the study cohort
(registry/selectors/study_cohort.py) without the database: plain rows that the report prints as
JSON and registry/reports/treatment_plots.py draws.

Both plots show the study's subject, the course from the index line on (rules §6: the
second-generation ALK-TKI line whose progression put the patient in cohort 1 or 2) and every later
line; a cohort 2 patient's crizotinib line before it is left out. Lines starting after the data
cut-off are left out too (rules §0).

Swimmer: one row per patient, time 0 at the start of the index line, one bar per line. A line's bar
runs from its start to the first of its `line_end`, the next line's start and the end of follow-up;
a line with neither an end on or before the cut-off nor a next line, in a patient alive at the end of
follow-up, was ongoing and ends in an arrow. Follow-up ends at the date of the line's OS (rules §5:
the death, or the date last known alive capped at the cut-off); off-treatment follow-up after the last
bar is a thin line, a death a cross at its end, a progression (`pd_date`) a diamond on its line's
bar. Rows are sorted by follow-up, longest first. A patient whose OS is not derived (no cut-off, or a
data cut frozen before these plots) cannot be placed and is counted as not shown.

Waterfall: one bar per line with a measured target sum, the best (smallest) percent change of the
target sum from baseline over the follow-up assessments up to and including the progression (the
time points best response reads, rules §8), sorted from the largest increase to the largest
decrease, coloured by the line's best response.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from registry.models.choices import LineType, Regimen
from registry.selectors.study_cohort import StudyCohort, StudyLine, StudyPatient

# Okabe-Ito colours (distinguishable with colour-vision deficiency), fixed here so that the HTML
# legend, the JSON and the images agree. Treatment classes in legend order.
TREATMENT_CLASSES = (
    ("alk_tki_1g", "ALK-TKI, first generation", "#56B4E9"),
    ("alk_tki_2g", "ALK-TKI, second generation", "#0072B2"),
    ("alk_tki_3g", "ALK-TKI, third generation", "#009E73"),
    ("alk_tki_other", "ALK-TKI, generation not known", "#88CCEE"),
    ("chemotherapy", "Chemotherapy", "#E69F00"),
    ("chemotherapy_antiangiogenic", "Chemotherapy + anti-angiogenic", "#D55E00"),
    ("immunotherapy", "Immunotherapy-containing", "#CC79A7"),
    ("other", "Other systemic therapy", "#999999"),
)
TREATMENT_LABELS = {key: label for key, label, _ in TREATMENT_CLASSES}
TREATMENT_COLOURS = {key: colour for key, _, colour in TREATMENT_CLASSES}

# Best response (rules §8 values), in the legend's order, best first.
RESPONSES = (
    ("CR", "Complete response (CR)", "#009E73"),
    ("PR", "Partial response (PR)", "#56B4E9"),
    ("SD", "Stable disease (SD)", "#E69F00"),
    ("NON-CR/NON-PD", "Non-CR/Non-PD", "#CC79A7"),
    ("PD", "Progressive disease (PD)", "#D55E00"),
    ("NE", "Not evaluable (NE)", "#999999"),
)
RESPONSE_LABELS = {key: label for key, label, _ in RESPONSES}
RESPONSE_COLOURS = {key: colour for key, _, colour in RESPONSES}
# The lines drawn across the waterfall: RECIST 1.1's PR (a 30 % decrease from baseline) and PD (a 20 %
# increase, over the nadir in RECIST; over baseline as drawn here, the usual reading of the plot).
RECIST_PR_PERCENT = -30
RECIST_PD_PERCENT = 20

_TKI_CLASS_BY_GENERATION = {1: "alk_tki_1g", 2: "alk_tki_2g", 3: "alk_tki_3g"}
_CLASS_BY_LINE_TYPE = {
    LineType.CHEMOTHERAPY: "chemotherapy",
    LineType.CHEMOTHERAPY_ANTIANGIOGENIC: "chemotherapy_antiangiogenic",
    LineType.IMMUNOTHERAPY: "immunotherapy",
}


def treatment_class(line: StudyLine) -> str:
    """The swimmer's colour of a line: an ALK-TKI by its generation (rules §1), otherwise its type."""
    if line.line_type == LineType.ALK_TKI:
        return _TKI_CLASS_BY_GENERATION.get(line.tki_generation, "alk_tki_other")
    return _CLASS_BY_LINE_TYPE.get(line.line_type, "other")


def regimen_label(line: StudyLine) -> str:
    try:
        return Regimen(line.line_drug).label
    except ValueError:
        return str(line.line_drug)


@dataclass(frozen=True)
class SwimmerBar:
    line_no: int
    regimen: str
    treatment: str  # a TREATMENT_CLASSES key
    start_months: float
    end_months: float
    progression_months: float | None  # the line's pd_date
    ongoing: bool  # no end by the end of follow-up: an arrow at end_months


@dataclass(frozen=True)
class SwimmerRow:
    record_id: str
    cohort: int
    bars: tuple[SwimmerBar, ...]  # in start order
    follow_up_months: float  # from the index line's start to the end of follow-up
    died: bool  # a death at follow_up_months


@dataclass(frozen=True)
class WaterfallBar:
    record_id: str
    line_no: int
    regimen: str
    treatment: str
    index_line: bool
    best_pct_change: float
    best_response: str  # a RESPONSES key ("" when the line has no best response)


def _months(start: date, end: date, days_per_month: Decimal) -> float:
    return float(Decimal((end - start).days) / days_per_month)


def study_lines(patient: StudyPatient, cutoff: date | None) -> list[StudyLine]:
    """The index line and every later line that started by the cut-off, in start order (rules §1)."""
    index = patient.index_line
    lines = [line for line in patient.lines
             if (line.line_start, line.line_no) >= (index.line_start, index.line_no)
             and (cutoff is None or line.line_start <= cutoff)]
    return sorted(lines, key=lambda line: (line.line_start, line.line_no))


def swimmer_row(patient: StudyPatient, *, cutoff: date | None, days_per_month: Decimal) -> SwimmerRow | None:
    """The patient's row, or None when the end of follow-up is not derived (see the module's docstring)."""
    lines = study_lines(patient, cutoff)
    follow_up_end, died = lines[0].os_date, lines[0].os_event
    if follow_up_end is None or died is None:
        return None
    origin = lines[0].line_start
    bars = []
    for position, line in enumerate(lines):
        following = lines[position + 1] if position + 1 < len(lines) else None
        ended = line.line_end if line.line_end is not None and (cutoff is None or line.line_end <= cutoff) else None
        ends = [date_ for date_ in (ended, following.line_start if following else None) if date_ is not None]
        end = min([*ends, follow_up_end])
        end = max(end, line.line_start)  # a follow-up recorded before the line's start (a data error) draws 0 days
        # A progression found by a scan after the line stopped (still in its window, rules §1) is drawn
        # where it was found, past the bar's end.
        progression = line.pd_date if line.pd_date is not None and line.pd_date <= follow_up_end else None
        bars.append(SwimmerBar(
            line_no=line.line_no, regimen=regimen_label(line), treatment=treatment_class(line),
            start_months=_months(origin, line.line_start, days_per_month),
            end_months=_months(origin, end, days_per_month),
            progression_months=None if progression is None else _months(origin, progression, days_per_month),
            ongoing=not ends and not died,
        ))
    return SwimmerRow(record_id=patient.record_id, cohort=patient.cohort, bars=tuple(bars),
                      follow_up_months=_months(origin, max(follow_up_end, origin), days_per_month), died=died)


def swimmer(cohort: StudyCohort, *, cutoff: date | None, days_per_month: Decimal) -> dict:
    """The swimmer plot's rows (longest follow-up first, then by record ID) and what it leaves out."""
    rows, not_shown = [], 0
    for patient in cohort.patients:
        row = swimmer_row(patient, cutoff=cutoff, days_per_month=days_per_month)
        if row is None:
            not_shown += 1
        else:
            rows.append(row)
    rows.sort(key=lambda row: (-row.follow_up_months, row.record_id))
    present = {bar.treatment for row in rows for bar in row.bars}
    return {
        "origin": "start of the index line",
        "rows": [asdict(row) for row in rows],
        "patients_not_shown": not_shown,
        "treatments": [{"key": key, "label": label, "colour": colour}
                       for key, label, colour in TREATMENT_CLASSES if key in present],
    }


def waterfall(cohort: StudyCohort, *, cutoff: date | None) -> dict:
    """The waterfall plot's bars (largest increase first; ties by record ID and line number) and how
    many of the plotted lines have no measured change."""
    bars, not_shown = [], 0
    for patient in cohort.patients:
        for line in study_lines(patient, cutoff):
            if line.best_pct_change_baseline is None:
                not_shown += 1
                continue
            bars.append(WaterfallBar(
                record_id=patient.record_id, line_no=line.line_no, regimen=regimen_label(line),
                treatment=treatment_class(line), index_line=line.line_no == patient.index_line_no,
                best_pct_change=float(line.best_pct_change_baseline), best_response=line.best_response,
            ))
    bars.sort(key=lambda bar: (-bar.best_pct_change, bar.record_id, bar.line_no))
    return {
        "bars": [asdict(bar) for bar in bars],
        "lines_not_shown": not_shown,
        "responses": [{"key": key, "label": label, "colour": colour} for key, label, colour in RESPONSES],
        "recist_lines_percent": [RECIST_PR_PERCENT, RECIST_PD_PERCENT],
    }
