"""§3 Progression of a line: the progression assessment and its labels; §8 best response."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .codes import CNS_SITES, EXTENSIVE_PROGRESSION_SITES, LocalTherapyIntent, MeasurementStatus, YesNo
from .inputs import LocalTherapy, TreatmentLine
from .recist import LesionReading, TimePoint, has_new_lesions, new_lesions_unknown
from .results import Response, ResponseSource

OLIGO_MAX_LESIONS = 3
_PD = Response.PD  # bound once: a member read off its class is a descriptor call


def find_progression(timepoints: tuple[TimePoint, ...]) -> TimePoint | None:
    # §3: the first assessment in the window whose overall response is PD; nothing later changes it.
    position = progression_position(timepoints)
    return timepoints[position] if position is not None else None


def progression_position(timepoints: tuple[TimePoint, ...]) -> int | None:
    """Where `find_progression`'s time point is in `timepoints` (None: no progression).

    The same as `timepoints.index(find_progression(timepoints))`, without comparing the earlier time
    points field by field: an earlier one equal to the progression would be PD too, so it would be the
    progression itself.
    """
    for position, timepoint in enumerate(timepoints):
        if timepoint.result.overall_response is _PD:
            return position
    return None


def progressing_target_readings(
    at_progression: TimePoint,
    baseline_target_readings: tuple[LesionReading, ...] | None,
    earlier_timepoints: tuple[TimePoint, ...],
    lesion_progression_min_mm: Decimal,
) -> tuple[LesionReading, ...]:
    """§3: the line's target lesions that progress at the progression assessment.

    A lesion progresses when its value is at least its own smallest earlier value (at the baseline or
    any earlier assessment of the line) plus `lesion_progression_min_mm`, or when it reappeared after
    CR. When the target response is PD and none qualifies, the one with the largest increase counts.
    A lesion with no earlier value never counts.
    """
    earlier = ([baseline_target_readings] if baseline_target_readings is not None else []) + [
        tp.target_readings for tp in earlier_timepoints
    ]
    previous_target_response = next(
        (tp.result.target_response for tp in reversed(earlier_timepoints)
         if tp.result.target_response not in (None, Response.NE)),
        None,
    )
    # Each lesion's smallest earlier value (a known value of the same les_id), in one pass over the
    # earlier readings rather than one per lesion; of equal values the first stays, as with min().
    smallest_by_lesion: dict[str, Decimal] = {}
    for readings in earlier:
        for r in readings:
            value = r.value_mm
            if value is not None:
                les_id = r.lesion.les_id
                known = smallest_by_lesion.get(les_id)
                if known is None or value < known:
                    smallest_by_lesion[les_id] = value
    increases: list[tuple[Decimal, LesionReading]] = []
    progressing = []
    for reading in at_progression.target_readings:
        smallest = smallest_by_lesion.get(reading.lesion.les_id)
        if reading.value_mm is None or smallest is None:
            continue
        increases.append((reading.value_mm - smallest, reading))
        # §0 (v2): a lesion of unknown site may be a node, whose reappearance is no PD of its own.
        reappeared = (previous_target_response is Response.CR and not reading.nodal and not reading.site_unknown
                      and reading.value_mm > 0)
        if reading.value_mm >= smallest + lesion_progression_min_mm or reappeared:
            progressing.append(reading)
    if not progressing and at_progression.result.target_response is Response.PD and increases:
        # §3 fallback: the largest increase over its own smallest earlier value.
        # Spec ambiguity: a tie is broken by les_id order (the first lesion listed wins).
        largest = max(increase for increase, _ in increases)
        progressing.append(next(reading for increase, reading in increases if increase == largest))
    return tuple(progressing)


@dataclass(frozen=True)
class ProgressionLabels:
    pd_date: date
    n_progressing_lesions: int | None
    involved_sites: frozenset[int]
    extent: str
    cns_progression: bool | None
    cns_only_progression: bool | None
    symptomatic_progression: bool | None
    symptomatic_cns_progression: bool | None
    involved_site_unknown: bool = False  # §0 (v2): a counted lesion's les_site holds a missing-data code


def extent_lower_bound(
    new_count: int | None, nontarget_count: int | None, target_count: int, *,
    new_lesions_present: bool, reported_nothing_found: bool,
) -> int:
    """§3 (v2): the number of progressing lesions that is certain: the known count plus 1 for each
    unknown part (new lesions present with a blank count; non-target progression from ta_nontarget; a
    reported progression with nothing found). A part unknown for another reason (new lesions coded as
    unknown, §0 v2) may be 0 and adds nothing.

    Spec ambiguity: a reported progression whose ta_nontarget gives non-target PD has found that
    progression, an unknown part already counted once; "nothing found" adds its 1 only when no other
    part is at least 1.
    """
    bound = sum(part for part in (new_count, nontarget_count, target_count) if part is not None)
    if new_lesions_present and new_count is None:
        bound += 1
    if nontarget_count is None:  # non-target PD from ta_nontarget: at least one progressing non-target
        bound += 1
    if reported_nothing_found and bound == 0:
        bound = 1
    return bound


def yes_no_label(value: int | None) -> bool | None:
    # §0: a blank yes/no is unknown, which is not no.
    return None if value is None else value == YesNo.YES


def progression_labels(
    at_progression: TimePoint,
    baseline_target_readings: tuple[LesionReading, ...] | None,
    earlier_timepoints: tuple[TimePoint, ...],
    lesion_progression_min_mm: Decimal,
) -> ProgressionLabels:
    """§3 labels of the progression assessment `at_progression` (earlier_timepoints: the line's
    assessments before it, in date order)."""
    assessment = at_progression.assessment

    # §3: new lesions count ta_new_count; present with a blank count → unknown.
    # §0 (v2): a coded ta_new_lesion makes new lesions unknown, so their count is unknown too.
    new_count = (assessment.ta_new_count if has_new_lesions(assessment)
                 else None if new_lesions_unknown(assessment) else 0)

    # §3: non-targets with status Unequivocal progression; when the non-target PD came from
    # ta_nontarget (no rows) their number is unknown.
    progressing_nontargets = tuple(
        r for r in at_progression.nontarget_readings if r.status == MeasurementStatus.UNEQUIVOCAL_PROGRESSION
    )
    if at_progression.nontarget_from_rows or at_progression.result.nontarget_response is not Response.PD:
        nontarget_count: int | None = len(progressing_nontargets)
    else:
        nontarget_count = None

    progressing_targets = progressing_target_readings(
        at_progression, baseline_target_readings, earlier_timepoints, lesion_progression_min_mm
    )
    parts = (new_count, nontarget_count, len(progressing_targets))
    n_progressing = None if any(part is None for part in parts) else sum(parts)
    # §0 (v2): a lesion of unknown class (les_class coded) with a row here may be progressing (as a
    # target that grew, or a non-target in unequivocal progression) or not: the count is unknown. It
    # adds nothing to the lower bound (it may not progress) and no site (it is not counted).
    if any(r.status is not None for r in at_progression.unclassified_readings):
        n_progressing = None
    # §3 (v2): a progression taken from the reported response with no new lesion and no progressing
    # lesion found has an unknown count too. Read literally: also when the line's lesions have rows at
    # this assessment (a derived NE that fell back to ta_reported) and none of them progresses; a
    # non-target PD read from ta_nontarget is a progression found (an unknown part of its own).
    reported_nothing_found = (at_progression.result.response_source is ResponseSource.REPORTED
                              and not has_new_lesions(assessment) and not progressing_targets
                              and nontarget_count == 0)
    if reported_nothing_found:
        n_progressing = None
    lower_bound = extent_lower_bound(new_count, nontarget_count, len(progressing_targets),
                                     new_lesions_present=has_new_lesions(assessment),
                                     reported_nothing_found=reported_nothing_found)

    counted = (*progressing_targets, *progressing_nontargets)
    # §0 (v2): a counted lesion whose les_site holds a missing-data code involves a site not known: it is
    # left out of the involved sites, and every label that site could change is unknown.
    site_unknown = any(r.lesion.les_site is None for r in counted)
    # §0 (v2): new lesions whose sites hold a missing-data code involve sites not known, as above.
    site_unknown = site_unknown or (has_new_lesions(assessment) and bool(assessment.ta_new_sites_missing))
    involved_sites = frozenset(
        {r.lesion.les_site for r in counted if r.lesion.les_site is not None}
        | set(assessment.ta_new_sites)
    )

    # §3 extent (Wu 2024: oligo = at most three lesions; effusion, lymphangitis, leptomeninges = extensive).
    if involved_sites & EXTENSIVE_PROGRESSION_SITES or lower_bound > OLIGO_MAX_LESIONS:
        extent = "extensive"
    elif n_progressing is not None and 1 <= n_progressing <= OLIGO_MAX_LESIONS and not site_unknown:
        extent = "oligo"  # an unknown site might be one that makes it extensive: then unknown
    else:
        extent = "unknown"

    # §3: CNS progression: any involved site brain or leptomeninges; blank when no site is known.
    cns = bool(involved_sites & CNS_SITES) if involved_sites else None
    if cns is False and site_unknown:
        cns = None  # the unknown site may be the brain
    cns_only = None if cns is None else (cns and involved_sites <= CNS_SITES)
    if cns_only and site_unknown:
        cns_only = None  # every known site is CNS; the unknown one may not be

    symptomatic = yes_no_label(assessment.ta_symptoms)
    # §3: ta_neuro_symptoms is no when ta_symptoms is no.
    neuro = False if assessment.ta_symptoms == YesNo.NO else yes_no_label(assessment.ta_neuro_symptoms)
    # Spec ambiguity: "blank when either label is unknown" is applied literally, also when the other
    # label is no (which would make the conjunction no in three-valued logic).
    symptomatic_cns = None if cns is None or neuro is None else (cns and neuro)

    return ProgressionLabels(
        pd_date=assessment.ta_date,
        n_progressing_lesions=n_progressing,
        involved_sites=involved_sites,
        extent=extent,
        cns_progression=cns,
        cns_only_progression=cns_only,
        symptomatic_progression=symptomatic,
        symptomatic_cns_progression=symptomatic_cns,
        involved_site_unknown=site_unknown,
    )


def local_therapy_for_progression(
    local_therapies: tuple[LocalTherapy, ...],
    pd_date: date,
    next_line_start: date | None,
    involved_sites: frozenset[int],
    local_therapy_window_days: int,
    involved_site_unknown: bool = False,
) -> bool | None:
    """§3: a local therapy dated from pd_date to pd_date + window, before the next line starts, whose
    intent is oligo-progression or whose site is an involved site.

    Spec ambiguity: a local therapy in that period with a blank intent that does not qualify by its
    site might have been for the progression: then the label is unknown (None) rather than no.
    """
    last_day = pd_date + timedelta(days=local_therapy_window_days)
    in_period = [
        lt for lt in local_therapies
        if pd_date <= lt.lt_date <= last_day and (next_line_start is None or lt.lt_date < next_line_start)
    ]
    if any(lt.lt_intent == LocalTherapyIntent.OLIGO_PROGRESSION or lt.lt_site in involved_sites
           for lt in in_period):
        return True
    if any(lt.lt_intent is None for lt in in_period):
        return None
    # §0 (v2): an involved site not known (les_site coded) may be the site of a local therapy in the period.
    if involved_site_unknown and in_period:
        return None
    return False


def continued_beyond_progression(
    line: TreatmentLine, pd_date: date, data_cutoff: date | None, beyond_pd_min_days: int
) -> tuple[bool | None, int | None]:
    """§3: (continued_beyond_pd, beyond_pd_days).

    `line_beyond_pd` when answered; otherwise the line ran on (line_end, or data_cutoff while ongoing;
    §0: a line_end after the cut-off means ongoing) more than beyond_pd_min_days after pd_date.
    """
    if line.line_end is not None and (data_cutoff is None or line.line_end <= data_cutoff):
        ran_until = line.line_end
    elif line.end_unknown:
        # §0 (v2)'s reading of a coded line_end (the rules version is raised by issue 13): the line
        # ended on a date not known, so how long it ran on is unknown; line_beyond_pd may answer.
        ran_until = None
    else:
        ran_until = data_cutoff
    days_on = (ran_until - pd_date).days if ran_until is not None else None
    if line.line_beyond_pd is not None:
        continued: bool | None = line.line_beyond_pd == YesNo.YES
    elif days_on is None:
        continued = None
    else:
        continued = days_on > beyond_pd_min_days
    return continued, (days_on if continued else None)


BEST_RESPONSE_RANK = {Response.CR: 4, Response.PR: 3, Response.SD: 2, Response.NON_CR_NON_PD: 2,
                      Response.PD: 1, Response.NE: 0}


def best_response_timepoint(
    timepoints: tuple[TimePoint, ...], line_start: date, progression: TimePoint | None, sd_min_days: int,
    *, position: int | None = None,
) -> tuple[Response, TimePoint] | None:
    """§8: the best time-point response of the follow-up assessments up to and including the
    progression (CR > PR > SD or Non-CR/Non-PD > PD > NE), with SD and Non-CR/Non-PD counting only
    from sd_min_days after the line start (earlier they count as NE), and the first assessment that
    gave it (the dataset `responses` dates its BOR row by it); None without follow-up.

    Spec ambiguity: between SD and Non-CR/Non-PD (equal rank) the earlier one is reported.

    `position`: the progression's index in `timepoints` when the caller has it (`progression_position`).
    """
    if progression is not None and position is None:
        position = timepoints.index(progression)
    considered = timepoints[: position + 1] if progression is not None else timepoints
    best: tuple[Response, TimePoint] | None = None
    for timepoint in considered:
        response = timepoint.result.overall_response
        if (response in (Response.SD, Response.NON_CR_NON_PD)
                and (timepoint.assessment.ta_date - line_start).days < sd_min_days):
            response = Response.NE
        # Strictly better only: of equal ranks the earlier assessment stays.
        if best is None or BEST_RESPONSE_RANK[response] > BEST_RESPONSE_RANK[best[0]]:
            best = (response, timepoint)
    return best
