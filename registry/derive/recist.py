"""§2 RECIST 1.1 time-point response of every assessment in a line's window."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

from .codes import LesionClass, MeasurementStatus, NonTargetRead, ReportedResponse, Site, YesNo
from .inputs import Lesion, LesionMeasurement, TumorAssessment
from .results import AssessmentResult, Response, ResponseSource

PD_MIN_ABSOLUTE_INCREASE_MM = Decimal(5)
NODE_NORMAL_SHORT_AXIS_MM = Decimal(10)
TOO_SMALL_TO_MEASURE_MM = Decimal(5)
DISAPPEARED_MM = Decimal(0)

# The members the rules below compare each lesion reading with, bound once: reading an enum member off
# its class is a descriptor call (about 0.4 µs on Python 3.11, several times an int comparison), and a
# full derivation makes millions of such comparisons. They are the same objects, so every `==` and
# `is` gives what it gave with the class attribute.
_MEASURED = MeasurementStatus.MEASURED
_DISAPPEARED = MeasurementStatus.DISAPPEARED
_TOO_SMALL = MeasurementStatus.TOO_SMALL
_UNEQUIVOCAL_PROGRESSION = MeasurementStatus.UNEQUIVOCAL_PROGRESSION
_NOT_EVALUATED = MeasurementStatus.NOT_EVALUATED
_LYMPH_NODE = Site.LYMPH_NODE
_TARGET = LesionClass.TARGET
_NON_TARGET = LesionClass.NON_TARGET
_YES = YesNo.YES
_CR, _PR, _SD, _PD, _NE = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE
_NON_CR_NON_PD = Response.NON_CR_NON_PD
_DERIVED, _REPORTED = ResponseSource.DERIVED, ResponseSource.REPORTED

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
        return self.lesion.les_site == _LYMPH_NODE

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
    status = measurement.lm_status
    if status is None:
        status = _NOT_EVALUATED
    if status == _MEASURED:
        lm_mm = measurement.lm_mm
        value = Decimal(lm_mm) if lm_mm is not None else None
    elif status == _DISAPPEARED:
        value = DISAPPEARED_MM
    elif status == _TOO_SMALL:
        value = TOO_SMALL_TO_MEASURE_MM
    else:
        value = None
    return LesionReading(lesion=lesion, status=status, value_mm=value)


def known_sum_and_completeness(readings: tuple[LesionReading, ...]) -> tuple[Decimal, bool]:
    """(the sum of the known values, whether every value is known) in one pass over the readings.

    The sum is the same left-to-right Decimal addition from Decimal(0) that `sum()` makes, so the
    same value with the same exponent.
    """
    total = DISAPPEARED_MM  # Decimal(0)
    complete = True
    for reading in readings:
        value = reading.value_mm
        if value is None:
            complete = False
        else:
            total = total + value
    return total, complete


def known_sum_mm(readings: tuple[LesionReading, ...]) -> Decimal:
    return known_sum_and_completeness(readings)[0]


def complete_sum_mm(readings: tuple[LesionReading, ...]) -> Decimal | None:
    """§2: a sum is complete only if every target lesion is known."""
    total, complete = known_sum_and_completeness(readings)
    return total if complete else None


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
    known_sum, complete = known_sum_and_completeness(readings)
    return _target_response(readings, known_sum, complete, baseline_sum_mm, nadir_mm, previous_target_response)


def _target_response(
    readings: tuple[LesionReading, ...],
    known_sum: Decimal,
    complete: bool,
    baseline_sum_mm: Decimal | None,
    nadir_mm: Decimal | None,
    previous_target_response: Response | None,
) -> Response:
    """`target_response` given the readings' `known_sum_and_completeness` (evaluate_line has it already).

    The lesion properties (nodal, site_unknown, cr_unknown) are read off `les_site` here: the same
    tests, without a property call per lesion per question.
    """
    # §2: without a complete baseline_sum the target response is NE.
    if baseline_sum_mm is None or nadir_mm is None:
        return _NE
    # §2: PD is tested first, also on a partial sum: the known values alone may meet it.
    if meets_pd_threshold(known_sum, nadir_mm):
        return _PD
    after_cr = previous_target_response is _CR
    # §2: reappearance after CR: a non-nodal target above 0 mm (nodal targets follow the sum rule).
    if after_cr:
        for r in readings:
            site = r.lesion.les_site
            if site != _LYMPH_NODE and site is not None and r.value_mm is not None and r.value_mm > 0:
                return _PD
    if not complete:
        return _NE
    # From here every value is known.
    # §0 (v2): a target of unknown site above 0 mm after CR is a reappearance if it is not a node: PD
    # or not is unknown.
    if after_cr:
        for r in readings:
            if r.lesion.les_site is None and r.value_mm > 0:
                return _NE
    # §2: CR: every non-nodal target 0 mm and every nodal target below 10 mm.
    # §0 (v2): CR but for a lesion of unknown site that is CR only if nodal (cr_unknown: of unknown
    # site, above 0 and below 10 mm): CR or not is unknown.
    every_cr = True
    any_cr_unknown = False
    for r in readings:
        site = r.lesion.les_site
        value = r.value_mm
        if site is None and 0 < value < NODE_NORMAL_SHORT_AXIS_MM:
            any_cr_unknown = True
        elif not ((value < NODE_NORMAL_SHORT_AXIS_MM) if site == _LYMPH_NODE else (value == 0)):
            every_cr = False
            break
    if every_cr:
        return _NE if any_cr_unknown else _CR
    if meets_pr_threshold(known_sum, baseline_sum_mm):
        return _PR
    return _SD


def nontarget_response(readings: tuple[LesionReading, ...], ta_nontarget: int | None) -> Response | None:
    """§2 non-target response; `readings` are the line's non-target lesions at this assessment.

    One pass over the readings notes each fact the rule asks about; the rule then weighs them in its
    order (a progression before an unknown lesion before CR), as separate passes would.
    """
    if not readings:
        return None  # §2: the line has no non-target lesions: none.
    any_row = any_progression = any_unknown = any_cr_unknown = False
    every_cr = True
    for r in readings:
        status = r.status
        value = r.value_mm
        site = r.lesion.les_site
        if status is not None:
            any_row = True
            if status == _UNEQUIVOCAL_PROGRESSION:
                any_progression = True
        if status is None or status == _NOT_EVALUATED:
            any_unknown = True
        elif status == _MEASURED and value is None and (site == _LYMPH_NODE or site is None):
            # A node measured without a diameter cannot be told normal (< 10 mm) or not; nor can a lesion
            # of unknown site (§0 v2), which may be a node.
            any_unknown = True
        # §0 (v2): a lesion of unknown site from above 0 to below 10 mm is CR only if nodal: unknown.
        cr_unknown = site is None and value is not None and 0 < value < NODE_NORMAL_SHORT_AXIS_MM
        if cr_unknown:
            any_cr_unknown = True
        # §2: CR is Disappeared, or nodal and below 10 mm.
        # Spec ambiguity: "nodal and measured below 10 mm" is read on the lesion value, so a node that is
        # "present, too small to measure" (5 mm by §2) counts as below 10 mm.
        elif value is None or not (value == 0 or (site == _LYMPH_NODE and value < NODE_NORMAL_SHORT_AXIS_MM)):
            every_cr = False
    if not any_row:
        # §2: lesions but no rows: use ta_nontarget (blank → NE).
        return nontarget_read_response(ta_nontarget)
    if any_progression:
        return _PD
    if any_unknown:
        return _NE
    if every_cr:
        return _NE if any_cr_unknown else _CR
    return _NON_CR_NON_PD


def nontarget_read_response(ta_nontarget: int | None) -> Response:
    """§2: the non-target response as read (`ta_nontarget`), used when no non-target lesion has a row."""
    if ta_nontarget is None:
        return _NE
    return NONTARGET_READS.get(ta_nontarget, _NE)


def overall_response(target: Response | None, nontarget: Response | None, new_lesions: bool) -> Response:
    """§2 overall response (RECIST 1.1 tables 1 and 2). `target` None: the line has no target lesions."""
    if target is _PD or nontarget is _PD or new_lesions:
        return _PD
    if target is None:
        # RECIST 1.1 table 2: non-target disease only.
        if nontarget is _CR:
            return _CR
        if nontarget is _NON_CR_NON_PD:
            return _NON_CR_NON_PD
        return _NE
    if target is _CR:
        if nontarget is None or nontarget is _CR:
            return _CR
        return _PR  # non-target Non-CR/Non-PD or NE
    if target is _PR:
        return _PR
    if target is _SD:
        return _SD
    return _NE


def reported_response(ta_reported: int | None, new_lesions: bool) -> Response:
    """§2: a reported response is ta_reported, except that an unequivocal new lesion makes it PD;
    blank ta_reported without a new lesion is NE."""
    if new_lesions:
        return _PD
    if ta_reported is None:
        return _NE
    return REPORTED_RESPONSES.get(ta_reported, _NE)


def is_discrepant(derived: Response, ta_reported: int | None) -> bool | None:
    """§2: a derived response that differs from a non-blank ta_reported is a discrepancy;
    Non-CR/Non-PD against reported SD is not. None when nothing was reported."""
    if ta_reported is None:
        return None
    reported = REPORTED_RESPONSES.get(ta_reported)
    if derived is _NON_CR_NON_PD and reported is _SD:
        return False
    return derived is not reported


def has_new_lesions(assessment: TumorAssessment) -> bool:
    # §2: new lesions: ta_new_lesion = yes (blank counts as no).
    return assessment.ta_new_lesion == _YES


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
    own = sorted([les for les in lesions if les.les_line == line_no], key=_lesion_id)
    return (tuple([les for les in own if les.les_class == _TARGET]),
            tuple([les for les in own if les.les_class == _NON_TARGET]))


def unclassified_lesions(lesions: tuple[Lesion, ...], line_no: int) -> tuple[Lesion, ...]:
    """§0 (v2): the line's lesions whose les_class holds a missing-data code."""
    return tuple(sorted([les for les in lesions if les.les_line == line_no and les.les_class is None],
                        key=_lesion_id))


_lesion_id = attrgetter("les_id")


def _readings_at(lesions: tuple[Lesion, ...], measured_that_day: dict | None) -> tuple[LesionReading, ...]:
    """The lesions read at one assessment; `measured_that_day` is les_id → measurement of its date
    (`measurements_by_date`), None when nothing was measured that day."""
    if measured_that_day is None:
        return tuple([read_lesion(les, None) for les in lesions])
    find = measured_that_day.get
    return tuple([read_lesion(les, find(les.les_id)) for les in lesions])


def _has_row(readings: tuple[LesionReading, ...]) -> bool:
    for reading in readings:
        if reading.status is not None:
            return True
    return False


def measurements_by_date_and_lesion(measurements: tuple[LesionMeasurement, ...]) -> dict:
    """(lm_date, lm_lesion) → measurement; of duplicates the first row counts (flagged by §0)."""
    keyed: dict = {}
    for measurement in measurements:
        keyed.setdefault((measurement.lm_date, measurement.lm_lesion), measurement)
    return keyed


def measurements_by_date(measurements: tuple[LesionMeasurement, ...]) -> dict[date, dict[str, LesionMeasurement]]:
    """lm_date → {lm_lesion → measurement}: `measurements_by_date_and_lesion` nested by date, so that one
    assessment's lesions are looked up without a key tuple each; of duplicates the first row counts too.
    `derive_patient` builds it once per patient for all the lines."""
    by_date: dict[date, dict[str, LesionMeasurement]] = {}
    for measurement in measurements:
        that_day = by_date.get(measurement.lm_date)
        if that_day is None:
            by_date[measurement.lm_date] = {measurement.lm_lesion: measurement}
        elif measurement.lm_lesion not in that_day:
            that_day[measurement.lm_lesion] = measurement
    return by_date


def evaluate_line(
    line_no: int,
    lesions: tuple[Lesion, ...],
    measurements: tuple[LesionMeasurement, ...],
    baseline: TumorAssessment | None,
    follow_ups: tuple[TumorAssessment, ...],
    *,
    measured_by_date: dict[date, dict[str, LesionMeasurement]] | None = None,
) -> LineResponses:
    """§2 for every assessment of one line's window (`follow_ups`, in date order).

    `measured_by_date`: `measurements_by_date(measurements)` when the caller has it already (one per
    patient rather than one per line); built from `measurements` otherwise.
    """
    targets, nontargets = line_lesions(lesions, line_no)
    # §0 (v2), a lesion whose class holds a missing-data code, read literally: it may be a target lesion,
    # so "every target lesion is known" never holds: no complete sum, no baseline sum, no nadir, and the
    # target response is NE at every time point (§2: "without a complete baseline_sum ... NE"), also on a
    # line with no other target; it may be a non-target lesion of unknown status, so the non-target
    # response is PD when the known non-targets give PD and NE otherwise. The overall response is then
    # PD from non-targets or new lesions, else NE (and the reported response when ta_reported is given,
    # §2's source rule). Flagged (quality.LESION_CLASS_CODED).
    unclassified = unclassified_lesions(lesions, line_no)
    if measured_by_date is None:
        measured_by_date = measurements_by_date(measurements)
    on_date = measured_by_date.get

    baseline_readings = _readings_at(targets, on_date(baseline.ta_date)) if baseline else None
    baseline_sum_mm = complete_sum_mm(baseline_readings) if baseline_readings is not None else None
    if unclassified:
        baseline_sum_mm = None
    nadir_mm = baseline_sum_mm  # §2: smallest complete sum at the baseline or any earlier assessment
    previous_target_response: Response | None = None

    timepoints = []
    for assessment in follow_ups:
        measured_that_day = on_date(assessment.ta_date)
        target_readings = _readings_at(targets, measured_that_day)
        nontarget_readings = _readings_at(nontargets, measured_that_day)
        unclassified_readings = _readings_at(unclassified, measured_that_day)
        new_lesions = has_new_lesions(assessment)

        # The sum of the known target values and whether every one is known, once for the response
        # (PD on a partial sum, PR on a complete one) and the stored sum alike.
        target_known_sum, targets_complete = known_sum_and_completeness(target_readings)
        if unclassified:
            target = _NE
        elif targets:
            target = _target_response(target_readings, target_known_sum, targets_complete, baseline_sum_mm,
                                      nadir_mm, previous_target_response)
        else:
            target = None
        nontarget = nontarget_response(nontarget_readings, assessment.ta_nontarget)
        if unclassified:
            nontarget = _PD if nontarget is _PD else _NE
        derived = overall_response(target, nontarget, new_lesions)

        has_rows = _has_row(target_readings) or _has_row(nontarget_readings) or _has_row(unclassified_readings)
        # §2 source: derived when any of the line's lesions has a row; reported when none has, and
        # when the derived response is NE and ta_reported is not blank.
        if has_rows and not (derived is _NE and assessment.ta_reported is not None):
            source, overall = _DERIVED, derived
            discrepancy = is_discrepant(derived, assessment.ta_reported)
        else:
            source, overall = _REPORTED, reported_response(assessment.ta_reported, new_lesions)
            # Spec ambiguity: the discrepancy flag compares a *derived* response with ta_reported; a
            # reported response has nothing of its own to differ from it, so it is never a discrepancy.
            discrepancy = False if assessment.ta_reported is not None else None
        unknown_new_lesions = new_lesions_unknown(assessment)
        if unknown_new_lesions and target is not _PD and nontarget is not _PD:
            # §0 (v2)'s reading of a coded ta_new_lesion (the rules version is raised by issue 13): new
            # lesions are unknown, so the overall response is NE unless targets or non-targets give PD,
            # whichever source it came from.
            overall = _NE

        # complete_sum_mm(target_readings):
        sum_mm = target_known_sum if targets and not unclassified and targets_complete else None
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
        if target is not None and target is not _NE:
            previous_target_response = target
        if sum_mm is not None and nadir_mm is not None and sum_mm < nadir_mm:
            nadir_mm = sum_mm
    return LineResponses(baseline_target_readings=baseline_readings, timepoints=tuple(timepoints),
                         baseline_sum_mm=baseline_sum_mm if targets else None)
