"""§1 Lines of therapy: order, ALK TKI generation, windows and baselines; §0 cut-off; §8 line facts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter

from .codes import Histology, LineType, Regimen, YesNo
from .inputs import Biopsy, TreatmentLine, TumorAssessment

# §1: crizotinib = 1; alectinib, ceritinib, brigatinib, ensartinib, iruplinib = 2; lorlatinib = 3.
TKI_GENERATION_BY_DRUG = {
    Regimen.CRIZOTINIB: 1,
    Regimen.ALECTINIB: 2,
    Regimen.CERITINIB: 2,
    Regimen.BRIGATINIB: 2,
    Regimen.ENSARTINIB: 2,
    Regimen.IRUPLINIB: 2,
    Regimen.LORLATINIB: 3,
}
TKI_DRUG_NAMES = {
    Regimen.CRIZOTINIB: "crizotinib",
    Regimen.ALECTINIB: "alectinib",
    Regimen.CERITINIB: "ceritinib",
    Regimen.BRIGATINIB: "brigatinib",
    Regimen.ENSARTINIB: "ensartinib",
    Regimen.IRUPLINIB: "iruplinib",
    Regimen.LORLATINIB: "lorlatinib",
}


def is_alk_tki(line: TreatmentLine) -> bool:
    # §1: an ALK TKI line has line_type = 1. A coded line_type is not 1 here, but see type_unknown():
    # every label that a line of unknown type could change is blank (§0 v2: unknown is not no).
    return line.line_type == LineType.ALK_TKI


def type_unknown(line: TreatmentLine) -> bool:
    """§0 (v2): line_type holds a missing-data code: whether the line is an ALK TKI line is unknown."""
    return line.line_type is None


def drug_unknown(line: TreatmentLine) -> bool:
    """§0 (v2): line_drug holds a missing-data code: the regimen (and a TKI's generation) is unknown."""
    return line.line_drug is None


def tki_generation(line: TreatmentLine) -> int | None:
    """§1: the generation of an ALK TKI line; `line_tki_generation` for Other; None for other lines."""
    if not is_alk_tki(line):
        return None
    if line.line_drug == Regimen.OTHER:
        return line.line_tki_generation
    return TKI_GENERATION_BY_DRUG.get(line.line_drug)


def tki_drug_name(line: TreatmentLine) -> str | None:
    """§6: the lower-case drug name of an ALK TKI line (an Other inhibitor by its specified name)."""
    if not is_alk_tki(line) or drug_unknown(line):
        return None  # §0 (v2): a label derived from an unknown input is blank
    if line.line_drug == Regimen.OTHER:
        # Spec ambiguity: §6 names no spelling for an Other inhibitor; its line_drug_other, else "other".
        return line.line_drug_other.strip().lower() or "other"
    return TKI_DRUG_NAMES.get(line.line_drug, "other")


def on_or_before_cutoff(day: date, cutoff: date | None) -> bool:
    # §0: lines, assessments, biopsies and local therapy dated after data_cutoff are ignored.
    return cutoff is None or day <= cutoff


def lines_in_order(lines: tuple[TreatmentLine, ...], cutoff: date | None) -> tuple[TreatmentLine, ...]:
    """§1: ordered by line_start, ties by line_no; §0: lines starting after the cut-off are dropped."""
    kept = [line for line in lines if on_or_before_cutoff(line.line_start, cutoff)]
    return tuple(sorted(kept, key=lambda line: (line.line_start, line.line_no)))


@dataclass(frozen=True)
class LineWindow:
    """§1: the window runs from line_start (exclusive) to `window_end` (inclusive).

    `window_end` is the next line's start, or the cut-off for the last line (None: no cut-off, open).
    """

    line: TreatmentLine
    next_line_start: date | None
    window_end: date | None

    def contains(self, day: date) -> bool:
        return day > self.line.line_start and (self.window_end is None or day <= self.window_end)


def line_windows(ordered_lines: tuple[TreatmentLine, ...], cutoff: date | None) -> tuple[LineWindow, ...]:
    windows = []
    for position, line in enumerate(ordered_lines):
        next_start = ordered_lines[position + 1].line_start if position + 1 < len(ordered_lines) else None
        windows.append(LineWindow(line=line, next_line_start=next_start,
                                  window_end=next_start if next_start is not None else cutoff))
    return tuple(windows)


def follow_up_assessments(
    assessments: tuple[TumorAssessment, ...], window: LineWindow
) -> tuple[TumorAssessment, ...]:
    """§1/§2: the assessments dated in the line's window, in date order."""
    # window.contains(), inlined: it is asked of every assessment of the patient for every line.
    start, end = window.line.line_start, window.window_end
    return tuple(sorted([a for a in assessments if a.ta_date > start and (end is None or a.ta_date <= end)],
                        key=_assessment_date))


_assessment_date = attrgetter("ta_date")


def baseline_assessment(
    assessments: tuple[TumorAssessment, ...], line_start: date, baseline_window_days: int
) -> TumorAssessment | None:
    """§1: the latest assessment on or before line_start and at most baseline_window_days before it."""
    earliest = line_start - timedelta(days=baseline_window_days)
    candidates = [a for a in assessments if earliest <= a.ta_date <= line_start]
    return max(candidates, key=lambda a: a.ta_date) if candidates else None


def completed_years(born: date | None, on: date | None) -> int | None:
    """§0: ages are completed years on the date."""
    if born is None or on is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def histology_at_start(
    biopsies: tuple[Biopsy, ...], line_start: date, diagnosis_histology: int | None
) -> int | None:
    """§8: bx_histology of the latest adequate biopsy dated before the line starts with a histology
    other than Not assessed, else the diagnosis histology (a transformation shows here)."""
    candidates = [
        b for b in biopsies
        if b.bx_date < line_start and b.bx_adequate == YesNo.YES
        and b.bx_histology is not None and b.bx_histology != Histology.NOT_ASSESSED
    ]
    if not candidates:
        return diagnosis_histology
    return max(candidates, key=lambda b: b.bx_date).bx_histology
