"""§4 progression-free survival of a line and §5 overall survival."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .inputs import PatientRecord
from .results import DateSource

PFS_EVENT_PROGRESSION = "progression"
PFS_EVENT_DEATH = "death"
CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS = "death_after_missed_assessments"
CENSORED_NEW_THERAPY = "new_therapy"
CENSORED_NO_ADEQUATE_ASSESSMENT = "no_adequate_assessment"
CENSORED_CUTOFF = "cutoff"
OS_CENSORED_LAST_KNOWN_ALIVE = "last_known_alive"
OS_CENSORED_CUTOFF = "cutoff"


def months(days: int, days_per_month: Decimal) -> Decimal:
    # §0: months are days divided by days_per_month, unrounded.
    return Decimal(days) / days_per_month


@dataclass(frozen=True)
class TimeToEvent:
    start_date: date
    end_date: date
    days: int
    event: bool
    event_type: str | None  # PFS: "progression" or "death"; OS: "death"
    censor_reason: str | None


def _time_to_event(start: date, end: date, event_type: str | None, censor_reason: str | None) -> TimeToEvent:
    return TimeToEvent(start_date=start, end_date=end, days=(end - start).days,
                       event=event_type is not None, event_type=event_type, censor_reason=censor_reason)


def progression_free_survival(
    *,
    line_start: date,
    pd_date: date | None,
    adequate_assessment_dates: tuple[date, ...],
    next_line_start: date | None,
    death_date: date | None,
    data_cutoff: date,
    death_window_days: int,
    pfs_death_is_event: bool,
) -> TimeToEvent:
    """§4: PFS of one line. `adequate_assessment_dates`: the line's adequate assessments in its window;
    `next_line_start`: the next line's start (None when there is no next line on or before the cut-off)."""
    # §4: follow-up ends at the earliest of the next line's start and data_cutoff.
    follow_up_end = min(next_line_start, data_cutoff) if next_line_start is not None else data_cutoff
    # 1. Event, progression.
    if pd_date is not None:
        return _time_to_event(line_start, pd_date, PFS_EVENT_PROGRESSION, None)
    last_adequate = max(adequate_assessment_dates) if adequate_assessment_dates else None
    # 2. Event, death: within follow-up and at most death_window_days after the last adequate
    #    assessment (or line_start when there is none) - FDA: death after two or more missed visits.
    death_in_follow_up = death_date is not None and death_date <= follow_up_end
    if pfs_death_is_event and death_in_follow_up:
        if death_date - (last_adequate or line_start) <= timedelta(days=death_window_days):
            return _time_to_event(line_start, death_date, PFS_EVENT_DEATH, None)
    # 3. Censored at the last adequate assessment, at line_start (0 days) when there is none.
    if pfs_death_is_event and death_in_follow_up:
        reason = CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS
    elif next_line_start is not None:
        reason = CENSORED_NEW_THERAPY
    elif last_adequate is None:
        reason = CENSORED_NO_ADEQUATE_ASSESSMENT
    else:
        reason = CENSORED_CUTOFF
    return _time_to_event(line_start, last_adequate or line_start, None, reason)


DEATH_SOURCE = DateSource("vital_status", "death_date")
CUTOFF_SOURCE = DateSource("settings", "data_cutoff")


def last_known_alive_source(record: PatientRecord) -> tuple[date, DateSource] | None:
    """§5: the latest of last_alive_date and every date in the patient's records (lines, assessments,
    biopsies, local therapy), before or after the cut-off (the caller caps it), with the field that
    gave it. §8 (v2) breaks a tie between fields in this order: vital_status/last_alive_date, ta_date,
    bx_date, lt_date, line_end, line_start.

    Spec ambiguity: between two records of one form giving that date (two local therapies on one
    day) the one with the lowest instance is named.
    """
    # The latest date, and of the candidates on it the first with the lowest (rank, instance) in the
    # order below; the source is built for that one only, not for every dated record.
    best: tuple | None = None  # (day, rank, instance or 0, form, field, instance)

    def consider(day: date | None, rank: int, form: str, field: str, instance: int | None) -> None:
        nonlocal best
        if day is None:
            return
        # Strictly later, or as late and strictly lower: of equal candidates the first one stays.
        if best is None or day > best[0] or (day == best[0] and (rank, instance or 0) < (best[1], best[2])):
            best = (day, rank, instance or 0, form, field, instance)

    consider(record.last_alive_date, 0, "vital_status", "last_alive_date", None)
    for assessment in record.assessments:
        consider(assessment.ta_date, 1, "tumor_assessment", "ta_date", assessment.instance)
    for biopsy in record.biopsies:
        consider(biopsy.bx_date, 2, "biopsy", "bx_date", biopsy.instance)
    for therapy in record.local_therapies:
        consider(therapy.lt_date, 3, "local_therapy", "lt_date", therapy.instance)
    for line in record.lines:
        consider(line.line_end, 4, "treatment_line", "line_end", line.instance)
        consider(line.line_start, 5, "treatment_line", "line_start", line.instance)
    if best is None:
        return None
    day, _, _, form, field, instance = best
    return day, DateSource(form, field, instance)


def last_known_alive(record: PatientRecord) -> date | None:
    """§5: the date last known alive (uncapped); see last_known_alive_source()."""
    found = last_known_alive_source(record)
    return found[0] if found else None


def last_known_alive_at_cutoff(record: PatientRecord, data_cutoff: date | None) -> date | None:
    """§8 (v2) `patients.last_known_alive_date`: §5's date last known alive capped at the cut-off;
    None for a patient who died on or before it (or, without a cut-off, who died).

    A death after the cut-off means alive at the cut-off (§5), so the date is then the cut-off itself,
    the date OS is censored at. A dead patient whose death_date holds a missing-data code is censored
    at the date last known alive (§0 v2), so it has one.
    """
    if record.death_date is not None and (data_cutoff is None or record.death_date <= data_cutoff):
        return None
    if record.death_date is not None:
        return data_cutoff
    alive_until = last_known_alive(record)
    if alive_until is None or data_cutoff is None:
        return alive_until
    return min(alive_until, data_cutoff)


def overall_survival(
    *, start: date, death_date: date | None, last_known_alive_date: date | None, data_cutoff: date
) -> TimeToEvent:
    """§5: OS from `start` (a line_start or adv_dx_date)."""
    if death_date is not None and death_date <= data_cutoff:
        return _time_to_event(start, death_date, "death", None)
    if death_date is not None or (last_known_alive_date is not None and last_known_alive_date >= data_cutoff):
        # §5: a death after the cut-off means alive at the cut-off; last known alive is capped at it.
        return _time_to_event(start, data_cutoff, None, OS_CENSORED_CUTOFF)
    # Spec ambiguity: a last-known-alive date before the start (or none at all) would give a negative
    # or no duration; the patient is then censored at the start (0 days).
    censor_date = max(last_known_alive_date, start) if last_known_alive_date is not None else start
    return _time_to_event(start, censor_date, None, OS_CENSORED_LAST_KNOWN_ALIVE)
