"""§2 RECIST 1.1 time-point response of every assessment in a line's window."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .codes import LesionClass, MeasurementStatus, NonTargetRead, ReportedResponse, Site, YesNo
from .inputs import Lesion, LesionMeasurement, TumorAssessment
from .results import AssessmentResult, Response, ResponseSource

PD_MIN_ABSOLUTE_INCREASE_MM = Decimal(5)
NODE_NORMAL_SHORT_AXIS_MM = Decimal(10)
TOO_SMALL_TO_MEASURE_MM = Decimal(5)

REPORTED_RESPONSES = {
    ReportedResponse.CR: Response.CR,
    ReportedResponse.PR: Response.PR,
    ReportedResponse.SD: Response.SD,
    ReportedResponse.PD: Response.PD,
    ReportedResponse.NE: Response.NE,
    ReportedResponse.NON_CR_NON_PD: Response.NON_CR_NON_PD,
}
NONTARGET_READS = {
    NonTargetRead.CR: Response.CR,
    NonTargetRead.NON_CR_NON_PD: Response.NON_CR_NON_PD,
    NonTargetRead.UNEQUIVOCAL_PROGRESSION: Response.PD,
    NonTargetRead.NOT_EVALUATED: Response.NE,
    # Spec ambiguity: §2 lists codes 1-4 only. "No non-target disease" on a line that has non-target
    # lesions contradicts the lesion list, so it is read as not evaluable (NE), like a blank.
    NonTargetRead.NO_NONTARGET_DISEASE: Response.NE,
}


def meets_pr_threshold(sum_mm: Decimal, baseline_sum_mm: Decimal) -> bool:
    # §0: PR iff 10 × sum ≤ 7 × baseline_sum, exactly (a 30 % decrease).
    return 10 * sum_mm <= 7 * baseline_sum_mm


def meets_pd_threshold(sum_mm: Decimal, nadir_mm: Decimal) -> bool:
    # §0: PD iff 10 × sum ≥ 12 × nadir and sum − nadir ≥ 5 mm, exactly (a 20 % and 5 mm increase).
    return 10 * sum_mm >= 12 * nadir_mm and sum_mm - nadir_mm >= PD_MIN_ABSOLUTE_INCREASE_MM


@dataclass(frozen=True)
class LesionReading:
    """One lesion at one assessment. `status` None: no row; `value_mm` None: unknown (never 0)."""

    lesion: Lesion
    status: int | None
    value_mm: Decimal | None

    @property
    def nodal(self) -> bool:
        # §2: a lesion is nodal when its site is lymph node.
        return self.lesion.les_site == Site.LYMPH_NODE

    @property
    def site_unknown(self) -> bool:
        """§0 (v2): les_site holds a missing-data code: nodal or not is unknown (nodal is then False,
        so each rule that tells nodes apart asks this too)."""
        return self.lesion.les_site is None

    @property
    def cr_unknown(self) -> bool:
        """§2: CR of one lesion is 0 mm, or nodal and below 10 mm. A lesion of unknown site with a value
        from above 0 to below 10 mm meets it if nodal and not otherwise: unknown."""
        return self.site_unknown and self.value_mm is not None and 0 < self.value_mm < NODE_NORMAL_SHORT_AXIS_MM


def read_lesion(lesion: Lesion, measurement: LesionMeasurement | None) -> LesionReading:
    """§2 lesion values: Measured → lm_mm; Disappeared → 0; too small → 5 mm; anything else unknown.

    Status 4 (unequivocal progression) and 6 (present, not measured) give no value: for a target
    lesion that is unknown; for a non-target lesion the status itself is what counts.
    """
    if measurement is None:
        return LesionReading(lesion=lesion, status=None, value_mm=None)
    # §0 (v2): a coded lm_status is a row whose status is unknown. §2 reads "Not evaluated" so: a row
    # (the response is derived from it) whose value is unknown, for a target and a non-target alike.
    status = MeasurementStatus.NOT_EVALUATED if measurement.lm_status is None else measurement.lm_status
    if status == MeasurementStatus.MEASURED:
        value = Decimal(measurement.lm_mm) if measurement.lm_mm is not None else None
    elif status == MeasurementStatus.DISAPPEARED:
        value = Decimal(0)
    elif status == MeasurementStatus.TOO_SMALL:
        value = TOO_SMALL_TO_MEASURE_MM
    else:
        value = None
    return LesionReading(lesion=lesion, status=status, value_mm=value)


def known_sum_mm(readings: tuple[LesionReading, ...]) -> Decimal:
    return sum((r.value_mm for r in readings if r.value_mm is not None), Decimal(0))


def complete_sum_mm(readings: tuple[LesionReading, ...]) -> Decimal | None:
    """§2: a sum is complete only if every target lesion is known."""
    if any(r.value_mm is None for r in readings):
        return None
    return known_sum_mm(readings)


def target_response(
    readings: tuple[LesionReading, ...],
    baseline_sum_mm: Decimal | None,
    nadir_mm: Decimal | None,
    previous_target_response: Response | None,
) -> Response:
    """§2 target response of one assessment of a line with target lesions.

    `previous_target_response` is the target response of the most recent earlier assessment of the
    line whose target response was not NE (None when there is none).
    """
    # §2: without a complete baseline_sum the target response is NE.
    if baseline_sum_mm is None or nadir_mm is None:
        return Response.NE
    # §2: PD is tested first, also on a partial sum: the known values alone may meet it.
    if meets_pd_threshold(known_sum_mm(readings), nadir_mm):
        return Response.PD
    # §2: reappearance after CR: a non-nodal target above 0 mm (nodal targets follow the sum rule).
    if previous_target_response is Response.CR and any(
        not r.nodal and not r.site_unknown and r.value_mm is not None and r.value_mm > 0 for r in readings
    ):
        return Response.PD
    if any(r.value_mm is None for r in readings):
        return Response.NE
    # §0 (v2): a target of unknown site above 0 mm after CR is a reappearance if it is not a node: PD
    # or not is unknown.
    if previous_target_response is Response.CR and any(r.site_unknown and r.value_mm > 0 for r in readings):
        return Response.NE
    # §2: CR: every non-nodal target 0 mm and every nodal target below 10 mm.
    if all(r.cr_unknown or ((r.value_mm < NODE_NORMAL_SHORT_AXIS_MM) if r.nodal else (r.value_mm == 0))
           for r in readings):
        # §0 (v2): CR but for a lesion of unknown site that is CR only if nodal: CR or not is unknown.
        return Response.NE if any(r.cr_unknown for r in readings) else Response.CR
    if meets_pr_threshold(known_sum_mm(readings), baseline_sum_mm):
        return Response.PR
    return Response.SD


def _nontarget_is_unknown(reading: LesionReading) -> bool:
    if reading.status is None or reading.status == MeasurementStatus.NOT_EVALUATED:
        return True
    # A node measured without a diameter cannot be told normal (< 10 mm) or not; nor can a lesion of
    # unknown site (§0 v2), which may be a node.
    return (reading.status == MeasurementStatus.MEASURED and reading.value_mm is None
            and (reading.nodal or reading.site_unknown))


def _nontarget_is_complete_response(reading: LesionReading) -> bool:
    # §2: CR is Disappeared, or nodal and below 10 mm.
    # Spec ambiguity: "nodal and measured below 10 mm" is read on the lesion value, so a node that is
    # "present, too small to measure" (5 mm by §2) counts as below 10 mm.
    if reading.value_mm is None:
        return False
    return reading.value_mm == 0 or (reading.nodal and reading.value_mm < NODE_NORMAL_SHORT_AXIS_MM)


def nontarget_response(readings: tuple[LesionReading, ...], ta_nontarget: int | None) -> Response | None:
    """§2 non-target response; `readings` are the line's non-target lesions at this assessment."""
    if not readings:
        return None  # §2: the line has no non-target lesions: none.
    if not any(r.status is not None for r in readings):
        # §2: lesions but no rows: use ta_nontarget (blank → NE).
        return nontarget_read_response(ta_nontarget)
    if any(r.status == MeasurementStatus.UNEQUIVOCAL_PROGRESSION for r in readings):
        return Response.PD
    if any(_nontarget_is_unknown(r) for r in readings):
        return Response.NE
    if all(_nontarget_is_complete_response(r) or r.cr_unknown for r in readings):
        # §0 (v2): a lesion of unknown site from above 0 to below 10 mm is CR only if nodal: unknown.
        return Response.NE if any(r.cr_unknown for r in readings) else Response.CR
    return Response.NON_CR_NON_PD


def nontarget_read_response(ta_nontarget: int | None) -> Response:
    """§2: the non-target response as read (`ta_nontarget`), used when no non-target lesion has a row."""
    if ta_nontarget is None:
        return Response.NE
    return NONTARGET_READS.get(ta_nontarget, Response.NE)


def overall_response(target: Response | None, nontarget: Response | None, new_lesions: bool) -> Response:
    """§2 overall response (RECIST 1.1 tables 1 and 2). `target` None: the line has no target lesions."""
    if target is Response.PD or nontarget is Response.PD or new_lesions:
        return Response.PD
    if target is None:
        # RECIST 1.1 table 2: non-target disease only.
        if nontarget is Response.CR:
            return Response.CR
        if nontarget is Response.NON_CR_NON_PD:
            return Response.NON_CR_NON_PD
        return Response.NE
    if target is Response.CR:
        if nontarget is None or nontarget is Response.CR:
            return Response.CR
        return Response.PR  # non-target Non-CR/Non-PD or NE
    if target is Response.PR:
        return Response.PR
    if target is Response.SD:
        return Response.SD
    return Response.NE


def reported_response(ta_reported: int | None, new_lesions: bool) -> Response:
    """§2: a reported response is ta_reported, except that an unequivocal new lesion makes it PD;
    blank ta_reported without a new lesion is NE."""
    if new_lesions:
        return Response.PD
    if ta_reported is None:
        return Response.NE
    return REPORTED_RESPONSES.get(ta_reported, Response.NE)


def is_discrepant(derived: Response, ta_reported: int | None) -> bool | None:
    """§2: a derived response that differs from a non-blank ta_reported is a discrepancy;
    Non-CR/Non-PD against reported SD is not. None when nothing was reported."""
    if ta_reported is None:
        return None
    reported = REPORTED_RESPONSES.get(ta_reported)
    if derived is Response.NON_CR_NON_PD and reported is Response.SD:
        return False
    return derived is not reported


def has_new_lesions(assessment: TumorAssessment) -> bool:
    # §2: new lesions: ta_new_lesion = yes (blank counts as no).
    return assessment.ta_new_lesion == YesNo.YES


def new_lesions_unknown(assessment: TumorAssessment) -> bool:
    """§0 (v2): a missing-data code in ta_new_lesion makes new lesions unknown, never "absent"."""
    return assessment.ta_new_lesion is None and bool(assessment.ta_new_lesion_missing)


def percent_change(value_mm: Decimal | None, reference_mm: Decimal | None) -> Decimal | None:
    if value_mm is None or reference_mm is None or reference_mm == 0:
        return None
    return (value_mm - reference_mm) * 100 / reference_mm


@dataclass(frozen=True)
class TimePoint:
    """One follow-up assessment of a line: the lesion readings behind its result (for §3)."""

    assessment: TumorAssessment
    target_readings: tuple[LesionReading, ...]
    nontarget_readings: tuple[LesionReading, ...]
    result: AssessmentResult
    # §0 (v2): the line's lesions whose les_class holds a missing-data code (target or not unknown).
    unclassified_readings: tuple[LesionReading, ...] = ()

    @property
    def has_lesion_rows(self) -> bool:
        return any(r.status is not None
                   for r in (*self.target_readings, *self.nontarget_readings, *self.unclassified_readings))

    @property
    def nontarget_from_rows(self) -> bool:
        return any(r.status is not None for r in self.nontarget_readings)


@dataclass(frozen=True)
class LineResponses:
    baseline_target_readings: tuple[LesionReading, ...] | None  # None: no baseline assessment
    timepoints: tuple[TimePoint, ...]
    # §2 baseline_sum: complete sums only; None without a baseline, target lesions or a known value of each.
    baseline_sum_mm: Decimal | None = None


def line_lesions(lesions: tuple[Lesion, ...], line_no: int) -> tuple[tuple[Lesion, ...], tuple[Lesion, ...]]:
    """§2: the line's lesions are those whose les_line is the line; (targets, non-targets)."""
    own = sorted((les for les in lesions if les.les_line == line_no), key=lambda les: les.les_id)
    return (tuple(les for les in own if les.les_class == LesionClass.TARGET),
            tuple(les for les in own if les.les_class == LesionClass.NON_TARGET))


def unclassified_lesions(lesions: tuple[Lesion, ...], line_no: int) -> tuple[Lesion, ...]:
    """§0 (v2): the line's lesions whose les_class holds a missing-data code."""
    return tuple(sorted((les for les in lesions if les.les_line == line_no and les.les_class is None),
                        key=lambda les: les.les_id))


def _readings_at(lesions, measurements_by_key, ta_date) -> tuple[LesionReading, ...]:
    return tuple(read_lesion(les, measurements_by_key.get((ta_date, les.les_id))) for les in lesions)


def measurements_by_date_and_lesion(measurements: tuple[LesionMeasurement, ...]) -> dict:
    """(lm_date, lm_lesion) → measurement; of duplicates the first row counts (flagged by §0)."""
    keyed: dict = {}
    for measurement in measurements:
        keyed.setdefault((measurement.lm_date, measurement.lm_lesion), measurement)
    return keyed


def evaluate_line(
    line_no: int,
    lesions: tuple[Lesion, ...],
    measurements: tuple[LesionMeasurement, ...],
    baseline: TumorAssessment | None,
    follow_ups: tuple[TumorAssessment, ...],
) -> LineResponses:
    """§2 for every assessment of one line's window (`follow_ups`, in date order)."""
    targets, nontargets = line_lesions(lesions, line_no)
    # §0 (v2), a lesion whose class holds a missing-data code, read literally: it may be a target lesion,
    # so "every target lesion is known" never holds: no complete sum, no baseline sum, no nadir, and the
    # target response is NE at every time point (§2: "without a complete baseline_sum ... NE"), also on a
    # line with no other target; it may be a non-target lesion of unknown status, so the non-target
    # response is PD when the known non-targets give PD and NE otherwise. The overall response is then
    # PD from non-targets or new lesions, else NE (and the reported response when ta_reported is given,
    # §2's source rule). Flagged (quality.LESION_CLASS_CODED).
    unclassified = unclassified_lesions(lesions, line_no)
    measurements_by_key = measurements_by_date_and_lesion(measurements)

    baseline_readings = _readings_at(targets, measurements_by_key, baseline.ta_date) if baseline else None
    baseline_sum_mm = complete_sum_mm(baseline_readings) if baseline_readings is not None else None
    if unclassified:
        baseline_sum_mm = None
    nadir_mm = baseline_sum_mm  # §2: smallest complete sum at the baseline or any earlier assessment
    previous_target_response: Response | None = None

    timepoints = []
    for assessment in follow_ups:
        target_readings = _readings_at(targets, measurements_by_key, assessment.ta_date)
        nontarget_readings = _readings_at(nontargets, measurements_by_key, assessment.ta_date)
        unclassified_readings = _readings_at(unclassified, measurements_by_key, assessment.ta_date)
        new_lesions = has_new_lesions(assessment)

        target = (target_response(target_readings, baseline_sum_mm, nadir_mm, previous_target_response)
                  if targets else None)
        nontarget = nontarget_response(nontarget_readings, assessment.ta_nontarget)
        if unclassified:
            target = Response.NE
            nontarget = Response.PD if nontarget is Response.PD else Response.NE
        derived = overall_response(target, nontarget, new_lesions)

        has_rows = any(r.status is not None for r in (*target_readings, *nontarget_readings, *unclassified_readings))
        # §2 source: derived when any of the line's lesions has a row; reported when none has, and
        # when the derived response is NE and ta_reported is not blank.
        if has_rows and not (derived is Response.NE and assessment.ta_reported is not None):
            source, overall = ResponseSource.DERIVED, derived
            discrepancy = is_discrepant(derived, assessment.ta_reported)
        else:
            source, overall = ResponseSource.REPORTED, reported_response(assessment.ta_reported, new_lesions)
            # Spec ambiguity: the discrepancy flag compares a *derived* response with ta_reported; a
            # reported response has nothing of its own to differ from it, so it is never a discrepancy.
            discrepancy = False if assessment.ta_reported is not None else None
        unknown_new_lesions = new_lesions_unknown(assessment)
        if unknown_new_lesions and target is not Response.PD and nontarget is not Response.PD:
            # §0 (v2)'s reading of a coded ta_new_lesion (the rules version is raised by issue 13): new
            # lesions are unknown, so the overall response is NE unless targets or non-targets give PD,
            # whichever source it came from.
            overall = Response.NE

        sum_mm = complete_sum_mm(target_readings) if targets and not unclassified else None
        timepoints.append(TimePoint(
            assessment=assessment,
            target_readings=target_readings,
            nontarget_readings=nontarget_readings,
            unclassified_readings=unclassified_readings,
            result=AssessmentResult(
                line_no=line_no,
                ta_date=assessment.ta_date,
                target_sum_mm=sum_mm,
                pct_change_baseline=percent_change(sum_mm, baseline_sum_mm),
                pct_change_nadir=percent_change(sum_mm, nadir_mm),
                nadir_mm=nadir_mm,
                target_response=target,
                nontarget_response=nontarget,
                new_lesions=None if unknown_new_lesions else new_lesions,
                overall_response=overall,
                response_source=source,
                discrepancy=discrepancy,
            ),
        ))
        if target is not None and target is not Response.NE:
            previous_target_response = target
        if sum_mm is not None and nadir_mm is not None and sum_mm < nadir_mm:
            nadir_mm = sum_mm
    return LineResponses(baseline_target_readings=baseline_readings, timepoints=tuple(timepoints),
                         baseline_sum_mm=baseline_sum_mm if targets else None)
