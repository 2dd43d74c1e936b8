"""The scan entry page's clinical reads: which line(s) a scan belongs to (rules §1), the lesions of
those lines with their history, and the response of the scan as typed (§2).

Every rule is registry/derive's own: the windows and baselines (lines.py), the line's lesions and their
readings (recist.py), and the time-point response (derive_patient with today as the cut-off). This
module only chooses what to ask derive and reads its answers; it does no RECIST arithmetic itself.
Rules cited: docs/derivation-rules.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from registry.derive import AnalysisSettings, derive_patient
from registry.derive.inputs import Lesion, LesionMeasurement, PatientRecord, TumorAssessment
from registry.derive.lines import baseline_assessment, follow_up_assessments, line_windows, lines_in_order
from registry.derive.recist import (
    LesionReading, complete_sum_mm, evaluate_line, line_lesions, measurements_by_date_and_lesion, read_lesion,
)
from registry.derive.results import AssessmentResult, Response
from registry.models.choices import AnatomicSite, LesionClass, MeasurementStatus

FOLLOW_UP = "follow-up"
BASELINE = "baseline"
CURRENT = "current"  # no date typed yet: the lesions of the line running today

RESPONSE_LABELS = {
    Response.CR: "complete response",
    Response.PR: "partial response",
    Response.SD: "stable disease",
    Response.PD: "progressive disease",
    Response.NE: "not evaluable",
    Response.NON_CR_NON_PD: "non-CR/non-PD",
}


def response_label(response: Response | None) -> str:
    """A response as a coordinator reads it, its code visible: "PD — progressive disease"."""
    if response is None:
        return ""
    return f"{response.value} — {RESPONSE_LABELS[response]}"


@dataclass(frozen=True)
class ScanLine:
    """One line a scan belongs to, and how (§1): a follow-up in its window, or its baseline."""

    line_no: int
    role: str  # FOLLOW_UP, BASELINE or CURRENT
    line_start: date

    @property
    def text(self) -> str:
        return f"line {self.line_no} ({self.role})" if self.role != CURRENT else f"line {self.line_no}"


def membership_text(lines: tuple[ScanLine, ...]) -> str:
    """"This scan belongs to line 1 (follow-up) and line 2 (baseline)"."""
    if not lines:
        return "This scan belongs to no line: it is neither in a line's window nor a line's baseline."
    if lines[0].role == CURRENT:
        return f"No date yet: the lesions of {lines[0].text}, the line running today, are shown."
    return "This scan belongs to " + " and ".join(line.text for line in lines) + "."


def record_without_scan(record: PatientRecord, scan_date: date | None) -> PatientRecord:
    """The record without the assessment of `scan_date` and its measurements (the scan being edited)."""
    if scan_date is None:
        return record
    return replace(
        record,
        assessments=tuple(a for a in record.assessments if a.ta_date != scan_date),
        measurements=tuple(m for m in record.measurements if m.lm_date != scan_date),
    )


def record_with_scan(record: PatientRecord, scan: TumorAssessment,
                     measurements: tuple[LesionMeasurement, ...]) -> PatientRecord:
    """The record as it would be with this scan and its measurements (replacing any of that date)."""
    kept = record_without_scan(record, scan.ta_date)
    return replace(
        kept,
        assessments=tuple(sorted((*kept.assessments, scan), key=lambda a: a.ta_date)),
        measurements=(*kept.measurements, *measurements),
    )


def scan_lines(record: PatientRecord, scan_date: date, settings: AnalysisSettings) -> tuple[ScanLine, ...]:
    """The lines a scan of `scan_date` belongs to (§1), in line order: each line whose window holds it
    (follow-up), and each line whose baseline it would be. A scan on the next line's start day is both:
    line L's follow-up and line L+1's baseline. Membership ignores the cut-off (a scan dated after today
    still belongs to its line; the preview says it is not derived yet)."""
    scan = TumorAssessment(ta_date=scan_date)
    assessments = (*(a for a in record.assessments if a.ta_date != scan_date), scan)
    found = []
    for window in line_windows(lines_in_order(record.lines, None), None):
        line = window.line
        if scan in follow_up_assessments((scan,), window):
            found.append(ScanLine(line.line_no, FOLLOW_UP, line.line_start))
        baseline = baseline_assessment(assessments, line.line_start, settings.baseline_window_days)
        if baseline is scan:
            found.append(ScanLine(line.line_no, BASELINE, line.line_start))
    return tuple(found)


def current_line(record: PatientRecord, today: date) -> tuple[ScanLine, ...]:
    """The line running today (the last one started by today), as the page's default."""
    ordered = lines_in_order(record.lines, today)
    if not ordered:
        return ()
    line = ordered[-1]
    return (ScanLine(line.line_no, CURRENT, line.line_start),)


@dataclass(frozen=True)
class DatedReading:
    ta_date: date
    reading: LesionReading

    @property
    def status_label(self) -> str:
        return MeasurementStatus(self.reading.status).label if self.reading.status is not None else "no row"


@dataclass(frozen=True)
class LesionHistory:
    """One lesion of a line the scan belongs to, with what was read before the scan's date."""

    lesion: Lesion
    baseline: DatedReading | None  # at the line's baseline assessment (None: no baseline before the scan)
    nadir_mm: Decimal | None  # the lesion's own smallest known value (baseline or later, before the scan)
    last: DatedReading | None  # the latest row before the scan

    @property
    def les_id(self) -> str:
        return self.lesion.les_id

    @property
    def is_target(self) -> bool:
        return self.lesion.les_class == LesionClass.TARGET

    @property
    def class_label(self) -> str:
        return LesionClass(self.lesion.les_class).label

    @property
    def site_label(self) -> str:
        return AnatomicSite(self.lesion.les_site).label


def lesion_histories(record: PatientRecord, line_no: int, scan_date: date | None,
                     settings: AnalysisSettings) -> tuple[LesionHistory, ...]:
    """The lesions of line `line_no` (§2: targets, then non-targets) with their baseline, nadir and last
    values from the line's readings before `scan_date` (all of them when None), as derive reads them."""
    ordered = lines_in_order(record.lines, None)
    window = next((w for w in line_windows(ordered, None) if w.line.line_no == line_no), None)
    targets, nontargets = line_lesions(record.lesions, line_no)
    if window is None:
        return ()
    earlier = tuple(a for a in record.assessments if scan_date is None or a.ta_date < scan_date)
    baseline = baseline_assessment(earlier, window.line.line_start, settings.baseline_window_days)
    follow_ups = follow_up_assessments(earlier, window)
    responses = evaluate_line(line_no, record.lesions, record.measurements, baseline, follow_ups)
    keyed = measurements_by_date_and_lesion(record.measurements)

    histories = []
    for lesion in (*targets, *nontargets):
        readings: list[DatedReading] = []
        if baseline is not None:
            readings.append(DatedReading(baseline.ta_date,
                                         read_lesion(lesion, keyed.get((baseline.ta_date, lesion.les_id)))))
        for timepoint in responses.timepoints:
            for reading in (*timepoint.target_readings, *timepoint.nontarget_readings):
                if reading.lesion == lesion:
                    readings.append(DatedReading(timepoint.assessment.ta_date, reading))
        known = [r.reading.value_mm for r in readings if r.reading.value_mm is not None]
        rows = [r for r in readings if r.reading.status is not None]
        histories.append(LesionHistory(
            lesion=lesion,
            baseline=readings[0] if baseline is not None else None,
            nadir_mm=min(known) if known else None,
            last=rows[-1] if rows else None,
        ))
    return tuple(histories)


def scan_lesions(record: PatientRecord, lines: tuple[ScanLine, ...], scan_date: date | None,
                 settings: AnalysisSettings) -> tuple[LesionHistory, ...]:
    """The lesions of every line the scan belongs to, line by line."""
    seen: set[int] = set()
    histories: list[LesionHistory] = []
    for line in lines:
        if line.line_no in seen:
            continue
        seen.add(line.line_no)
        histories.extend(lesion_histories(record, line.line_no, scan_date, settings))
    return tuple(histories)


@dataclass(frozen=True)
class BaselineResult:
    """The scan as a line's baseline: its target sum (complete sums only), the reference of that line."""

    line_no: int
    target_sum_mm: Decimal | None
    has_targets: bool


@dataclass(frozen=True)
class ScanPreview:
    scan_date: date
    lines: tuple[ScanLine, ...]
    results: tuple[AssessmentResult, ...]  # one per line whose follow-up the scan is
    baselines: tuple[BaselineResult, ...]
    after_today: bool

    @property
    def membership(self) -> str:
        return membership_text(self.lines)

    @property
    def overall(self) -> Response | None:
        """The response of the first line the scan is a follow-up of (the line it usually ends)."""
        return self.results[0].overall_response if self.results else None


def scan_preview(record: PatientRecord, *, scan: TumorAssessment, measurements: tuple[LesionMeasurement, ...],
                 settings: AnalysisSettings, today: date) -> ScanPreview:
    """What derive says of this scan as typed: the patient's record with the scan (and its measurements)
    in place of any of its date, derived with today as the cut-off (§0), read at the scan's date on each
    line it belongs to. `record` holds no other version of the scan (see record_without_scan)."""
    merged = record_with_scan(record, scan, measurements)
    lines = scan_lines(merged, scan.ta_date, settings)
    derivation = derive_patient(merged, replace(settings, data_cutoff=today))
    results = tuple(
        result for line in derivation.lines for result in line.assessments if result.ta_date == scan.ta_date)
    baselines = []
    for line in lines:
        if line.role != BASELINE or scan.ta_date > today:
            continue
        targets, _ = line_lesions(merged.lesions, line.line_no)
        readings = evaluate_line(line.line_no, merged.lesions, merged.measurements, scan, ()).baseline_target_readings
        baselines.append(BaselineResult(line.line_no, complete_sum_mm(readings) if targets else None, bool(targets)))
    return ScanPreview(scan_date=scan.ta_date, lines=lines, results=results, baselines=tuple(baselines),
                       after_today=scan.ta_date > today)


def preview_summary(preview: ScanPreview) -> str:
    """One sentence for the message after a save: "PD — progressive disease on line 1"."""
    if preview.after_today:
        return "none yet: the scan is dated after today"
    parts = [f"{response_label(result.overall_response)} on line {result.line_no}" for result in preview.results]
    parts += [f"baseline of line {baseline.line_no}" for baseline in preview.baselines]
    return "; ".join(parts) if parts else "none: the scan belongs to no line"


def percent_text(value: Decimal | None) -> str:
    """A percentage change as shown: signed, one decimal ("+25.0 %"); blank when derive gives none."""
    if value is None:
        return ""
    return f"{value:+.1f} %"
