"""A patient's course as an SVG drawn on the server: lines of therapy as bars, scans as marks coloured by
their response, progression, biopsies, local therapy and death or last known alive, on a time axis.

The layout is computed here, in Python (`timeline_layout`), into plain dataclasses of coordinates; the
template workspace/includes/timeline.svg.html only prints them. Colours are CSS classes (workspace.css,
"record home" section): the Content-Security-Policy refuses inline style attributes. Each mark has a
<title> (hover text); the whole drawing is one image with a text summary (role="img", aria-label), and
the tables of the page hold the same facts.

The drawing is 1,180 units wide and scales to its box (viewBox), so it fits the page at 1,280 px.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.derive.results import PatientDerivation as LiveDerivation
from registry.derive.results import Response
from registry.models import Biopsy, LocalTherapy, Patient, TreatmentLine, TumorAssessment

WIDTH = 1180
LABEL_WIDTH = 96  # the row names at the left
RIGHT_MARGIN = 24
TOP = 30  # room for the year labels
LANE_HEIGHT = 30
BAR_HEIGHT = 20
CHARACTER_WIDTH = 7.2  # of the 12-unit label font, to decide whether a label fits in its bar

# Response → (CSS class suffix, words for the hover text).
RESPONSE_CLASSES = {
    Response.CR: ("cr", "complete response"),
    Response.PR: ("pr", "partial response"),
    Response.SD: ("sd", "stable disease"),
    Response.NON_CR_NON_PD: ("sd", "non-CR/non-PD"),
    Response.PD: ("pd", "progressive disease"),
    Response.NE: ("ne", "not evaluable"),
}


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    label: str
    label_x: float
    label_y: float
    label_inside: bool  # the label is written inside the bar (light on dark) or beside it
    label_anchor: str  # "start" or "end"
    title: str
    ongoing: bool


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    kind: str  # scan, progression, biopsy, local-therapy, death, alive
    css_class: str
    title: str


@dataclass(frozen=True)
class Lane:
    y: float  # its middle
    label: str


@dataclass(frozen=True)
class TimelineLayout:
    width: int
    height: int
    plot_left: float
    plot_right: float
    lane_label_x: float
    axis_y: float
    ticks: tuple[Tick, ...]
    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]
    cutoff_x: float | None
    cutoff_label: str
    today_x: float
    summary: str  # the text alternative (aria-label)
    start: date
    end: date


def drug_label(line: TreatmentLine) -> str:
    """The regimen as people read it ("Alectinib"; an 'Other' regimen by the name typed)."""
    if line.line_drug_other and line.line_drug_other.strip():
        return line.line_drug_other.strip()
    return line.get_line_drug_display() if line.line_drug is not None else "regimen not recorded"


def scan_responses(live: LiveDerivation) -> dict[date, Response]:
    """Each scan's overall response in the live derivation. A scan in two line windows (on the next
    line's start day) takes the later line's; a line's baseline scan has no response of that line."""
    responses: dict[date, Response] = {}
    for line in live.lines:  # in line order: a later line's response replaces an earlier one's
        for assessment in line.assessments:
            responses[assessment.ta_date] = assessment.overall_response
    return responses


def timeline_layout(
    *, patient: Patient, lines: list[TreatmentLine], assessments: list[TumorAssessment], biopsies: list[Biopsy],
    local_therapies: list[LocalTherapy], live: LiveDerivation, today: date, analysis_cutoff: date | None,
) -> TimelineLayout:
    dates = [
        day for day in (
            patient.adv_dx_date, patient.death_date, patient.last_alive_date,
            *(line.line_start for line in lines), *(line.line_end for line in lines),
            *(a.ta_date for a in assessments), *(b.bx_date for b in biopsies), *(t.lt_date for t in local_therapies),
        ) if day is not None
    ]
    start = patient.adv_dx_date or min(dates, default=today)
    start = min([start, *dates])
    end = patient.death_date or today
    end = max([end, *dates])
    if (end - start).days < 60:  # a new record: show some room
        end = date.fromordinal(start.toordinal() + 60)
    plot_left, plot_right = float(LABEL_WIDTH), float(WIDTH - RIGHT_MARGIN)
    span = (end - start).days or 1

    def x_of(day: date) -> float:
        return round(plot_left + (day - start).days / span * (plot_right - plot_left), 1)

    # Lanes: one per line, then scans, then events (biopsies, local therapy, death or last known alive).
    lanes: list[Lane] = []
    y = TOP + LANE_HEIGHT / 2
    line_y: dict[int, float] = {}
    for line in lines:
        line_y[line.pk] = y
        lanes.append(Lane(y=y, label=f"Line {line.line_no}"))
        y += LANE_HEIGHT
    scan_y = y
    lanes.append(Lane(y=scan_y, label="Scans"))
    y += LANE_HEIGHT
    event_y = y
    lanes.append(Lane(y=event_y, label="Events"))
    axis_y = y + LANE_HEIGHT / 2 + 4
    height = int(axis_y + 8)

    live_lines = {result.line_no: result for result in live.lines}
    bars, marks = [], []
    for line in lines:
        bar_start = x_of(line.line_start)
        bar_end = x_of(line.line_end or end)
        width = max(bar_end - bar_start, 3.0)
        label = f"{drug_label(line)}"
        text_width = len(label) * CHARACTER_WIDTH + 12
        ended = f"ended {line.line_end:%Y-%m-%d}" if line.line_end else "ongoing"
        title = f"Line {line.line_no}: {label}, started {line.line_start:%Y-%m-%d}, {ended}"
        if width >= text_width:
            label_x, inside, anchor = bar_start + 6, True, "start"
        elif bar_start + width + text_width + 8 <= plot_right:
            # Beside the bar, clear of a progression mark at its end.
            label_x, inside, anchor = bar_start + width + 14, False, "start"
        else:
            label_x, inside, anchor = bar_start - 14, False, "end"
        top = line_y[line.pk] - BAR_HEIGHT / 2
        bars.append(Bar(x=bar_start, y=top, width=round(width, 1), label=label, label_x=round(label_x, 1),
                        label_y=top + 14, label_inside=inside, label_anchor=anchor, title=title,
                        ongoing=line.line_end is None))
        result = live_lines.get(line.line_no)
        if result is not None and result.pd_date is not None:
            marks.append(Mark(x=x_of(result.pd_date), y=line_y[line.pk], kind="progression", css_class="tl-progression",
                              title=f"Progression on line {line.line_no} ({label}): {result.pd_date:%Y-%m-%d}"))

    responses = scan_responses(live)
    # Close scans overlap: the later-drawn mark is on top, so progressions are drawn last, then
    # responses, and scans without a response first.
    drawing_order = {None: 0, Response.NE: 1, Response.SD: 2, Response.NON_CR_NON_PD: 2, Response.PR: 3,
                     Response.CR: 3, Response.PD: 4}
    for assessment in sorted(assessments, key=lambda a: (drawing_order[responses.get(a.ta_date)], a.ta_date)):
        response = responses.get(assessment.ta_date)
        if response is not None:
            suffix, words = RESPONSE_CLASSES[response]
            title = f"Scan {assessment.ta_date:%Y-%m-%d}: {response.value} ({words})"
        else:
            suffix = "none"
            title = f"Scan {assessment.ta_date:%Y-%m-%d}: baseline or outside every line's window (no response)"
        marks.append(Mark(x=x_of(assessment.ta_date), y=scan_y, kind="scan", css_class=f"tl-scan tl-resp-{suffix}",
                          title=title))
    for biopsy in biopsies:
        marks.append(Mark(x=x_of(biopsy.bx_date), y=event_y, kind="biopsy", css_class="tl-biopsy",
                          title=f"Biopsy {biopsy.bx_date:%Y-%m-%d}: {biopsy.get_bx_specimen_display()}"))
    for therapy in local_therapies:
        site = f" of the {therapy.get_lt_site_display().lower()}" if therapy.lt_site is not None else ""
        marks.append(Mark(x=x_of(therapy.lt_date), y=event_y, kind="local-therapy", css_class="tl-local-therapy",
                          title=f"Local therapy {therapy.lt_date:%Y-%m-%d}: {therapy.get_lt_type_display()}{site}"))
    if patient.death_date is not None:
        marks.append(Mark(x=x_of(patient.death_date), y=event_y, kind="death", css_class="tl-death",
                          title=f"Death {patient.death_date:%Y-%m-%d}"))
    elif patient.last_alive_date is not None:
        marks.append(Mark(x=x_of(patient.last_alive_date), y=event_y, kind="alive", css_class="tl-alive",
                          title=f"Last known alive {patient.last_alive_date:%Y-%m-%d}"))

    cutoff_x = x_of(analysis_cutoff) if analysis_cutoff is not None and start <= analysis_cutoff <= end else None
    return TimelineLayout(
        width=WIDTH, height=height, plot_left=plot_left, plot_right=plot_right, lane_label_x=plot_left - 10,
        axis_y=axis_y,
        ticks=_ticks(start, end, x_of), lanes=tuple(lanes), bars=tuple(bars), marks=tuple(marks),
        cutoff_x=cutoff_x, cutoff_label=f"analysis cut-off {analysis_cutoff:%Y-%m-%d}" if analysis_cutoff else "",
        today_x=x_of(min(today, end)), start=start, end=end,
        summary=_summary(patient, lines, assessments, biopsies, local_therapies, live, start, end),
    )


def _ticks(start: date, end: date, x_of) -> tuple[Tick, ...]:
    """1 January of every year in the span; in a span of less than two years, every quarter too."""
    years = end.year - start.year
    months = (1,) if years >= 2 else (1, 4, 7, 10)
    ticks = []
    for year in range(start.year, end.year + 1):
        for month in months:
            day = date(year, month, 1)
            if start <= day <= end:
                ticks.append(Tick(x=x_of(day), label=str(year) if month == 1 else f"{year}-{month:02d}"))
    return tuple(ticks)


def _summary(patient, lines, assessments, biopsies, local_therapies, live, start, end) -> str:
    progressions = sum(1 for line in live.lines if line.pd_date is not None)
    parts = [
        f"Timeline of {patient.record_id} from {start:%Y-%m-%d} to {end:%Y-%m-%d}",
        _count(len(lines), "line of therapy", "lines of therapy"),
        _count(len(assessments), "scan", "scans"),
        _count(progressions, "progression", "progressions"),
        _count(len(biopsies), "biopsy", "biopsies"),
        _count(len(local_therapies), "local therapy", "local therapies"),
    ]
    if patient.death_date is not None:
        parts.append(f"died {patient.death_date:%Y-%m-%d}")
    elif patient.last_alive_date is not None:
        parts.append(f"last known alive {patient.last_alive_date:%Y-%m-%d}")
    return ", ".join(parts) + ". The tables below list the same facts."


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
