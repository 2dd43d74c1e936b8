"""§6 Study cohorts, index progression and treatment sequence."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .codes import Regimen
from .inputs import TreatmentLine
from .lines import drug_unknown, is_alk_tki, tki_drug_name, tki_generation, type_unknown


@dataclass(frozen=True)
class CohortAssignment:
    cohort: int | None
    index_line: TreatmentLine | None
    index_pd_date: date | None


NO_COHORT = CohortAssignment(cohort=None, index_line=None, index_pd_date=None)


def tki_sequence(ordered_lines: tuple[TreatmentLine, ...]) -> str | None:
    # §6: the ALK TKI lines in order, drug names lower-case, joined by ">"; blank without any.
    # §0 (v2): a line of unknown type may be an ALK TKI line, and an ALK TKI line of unknown drug has no
    # name: the sequence is then unknown, so blank (never a sequence that leaves a line out).
    if any(type_unknown(line) or (is_alk_tki(line) and drug_unknown(line)) for line in ordered_lines):
        return None
    names = [tki_drug_name(line) for line in ordered_lines if is_alk_tki(line)]
    return ">".join(names) if names else None


def assign_cohort(ordered_lines: tuple[TreatmentLine, ...], pd_dates: dict[int, date | None]) -> CohortAssignment:
    """§6. `ordered_lines` in §1 order; `pd_dates` maps line_no → pd_date (None: no progression).

    Spec ambiguity: "line 1" is the first line in §1's start-date order (line_no should equal it; a
    mismatch is a data-quality flag), not whichever record carries line_no 1.
    """
    if not ordered_lines:
        return NO_COHORT
    first = ordered_lines[0]
    first_pd = pd_dates.get(first.line_no)
    # §0 (v2): line 1 of unknown type or drug: whether it is alectinib or crizotinib is unknown, so the
    # cohort is blank (the same blank as "no cohort": the dataset has no third value for it).
    if not is_alk_tki(first) or first_pd is None or drug_unknown(first):
        return NO_COHORT
    # §6 cohort 1: line 1 is alectinib and has a progression; the index progression is that one.
    if first.line_drug == Regimen.ALECTINIB:
        return CohortAssignment(cohort=1, index_line=first, index_pd_date=first_pd)
    # §6 cohort 2: line 1 is crizotinib with a progression; the next ALK TKI line is second-generation,
    # starts on or after the crizotinib progression and has a progression (the index progression).
    if first.line_drug == Regimen.CRIZOTINIB:
        # §0 (v2): a line of unknown type before the next known ALK TKI line may itself be "the next
        # ALK TKI line": which line that is is unknown, so no cohort 2.
        next_tki = next((line for line in ordered_lines[1:] if is_alk_tki(line) or type_unknown(line)), None)
        if next_tki is not None and type_unknown(next_tki):
            return NO_COHORT
        if (next_tki is not None and tki_generation(next_tki) == 2 and next_tki.line_start >= first_pd
                and pd_dates.get(next_tki.line_no) is not None):
            return CohortAssignment(cohort=2, index_line=next_tki, index_pd_date=pd_dates[next_tki.line_no])
    return NO_COHORT


def subsequent_to_index(line: TreatmentLine, assignment: CohortAssignment) -> bool | None:
    # §6: line_no greater than the index line's and starting on or after the index pd_date;
    # blank for patients in no cohort.
    if assignment.index_line is None or assignment.index_pd_date is None:
        return None
    return line.line_no > assignment.index_line.line_no and line.line_start >= assignment.index_pd_date


def first_subsequent_lines(
    ordered_lines: tuple[TreatmentLine, ...], subsequent: dict[int, bool | None], *, tki_only: bool,
) -> dict[int, bool | None]:
    """§8 (v2) first_subsequent_line (`tki_only`: first_subsequent_tki_line), by line_no.

    True on the line with subsequent_to_index and the earliest line_start, ties by the lowest line_no
    (among ALK TKI lines only, with `tki_only`); False on every other line, also when none qualifies;
    None where subsequent_to_index is None (no cohort). `ordered_lines` are in §1 order.

    §0 (v2): among ALK TKI lines, a line of unknown type may or may not be one. While such a line
    comes first, "first" is unknown for it and for the lines that would be first without it (None);
    a line after a certain ALK TKI line is False.
    """
    labels: dict[int, bool | None] = {}
    ordered = sorted(ordered_lines, key=lambda line: (line.line_start, line.line_no))
    settled = False  # an earlier line is certainly the first
    maybe_earlier = False  # an earlier line may be the first
    for line in ordered:
        if subsequent.get(line.line_no) is None:
            labels[line.line_no] = None
            continue
        certain = bool(subsequent[line.line_no]) and (not tki_only or is_alk_tki(line))
        possible = certain or (bool(subsequent[line.line_no]) and tki_only and type_unknown(line))
        if settled or not possible:
            labels[line.line_no] = False
        elif maybe_earlier or not certain:
            labels[line.line_no] = None
        else:
            labels[line.line_no] = True
        if possible and not settled:
            settled, maybe_earlier = certain, maybe_earlier or not certain
    return labels
