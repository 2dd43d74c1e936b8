"""§3 (v2): the extent of a progression uses the certain lower bound of its count when the count is
unknown. Line 1 (alectinib) starts on day 0 with its baseline on day 0; the progression is on day 56.

Each expected bound is worked out by hand: the known count, plus 1 for new lesions present with a blank
count, plus 1 for non-target progression read from ta_nontarget (no rows), plus 1 for a reported
progression with nothing found; extensive when that is more than 3.
"""
from registry.derive.codes import NonTargetRead, ReportedResponse, Site

from .builders import YES, assessment, derive, line, mm, nontarget, patient, target


def progression(growing: int, steady: int = 0, *, nontarget_read: bool = False, **day_56_fields):
    """`growing` liver targets 10 → 20 mm (+10 ≥ 5: each progresses) and `steady` ones 10 → 10 mm; a bone
    non-target with no rows when `nontarget_read` (then ta_nontarget says unequivocal progression)."""
    names = [f"T{number}" for number in range(1, growing + steady + 1)]
    lesions = [target(name, Site.LIVER) for name in names]
    measurements = [mm(name, 0, 10) for name in names]
    measurements += [mm(name, 56, 20 if position < growing else 10) for position, name in enumerate(names)]
    if nontarget_read:
        lesions.append(nontarget("B1"))
        day_56_fields["ta_nontarget"] = NonTargetRead.UNEQUIVOCAL_PROGRESSION
    record = patient(lines=[line(1, start=0)], lesions=lesions, measurements=measurements,
                     assessments=[assessment(0), assessment(56, **day_56_fields)])
    result = derive(record).lines[0]
    assert result.pd_date is not None
    return result


def test_three_progressing_targets_and_new_lesions_of_blank_count_are_at_least_four_so_extensive():
    # 3 targets + new lesions present, count blank: 3 + 1 = 4 > 3 (the spec's own example); v1 said unknown
    result = progression(3, ta_new_lesion=YES, new_sites=[Site.LIVER])

    assert result.n_progressing_lesions is None
    assert result.extent == "extensive"


def test_two_targets_a_nontarget_read_and_new_lesions_of_blank_count_are_at_least_four():
    # targets 10,10,10 → 20,20,10: sum 30 → 50 is PD, T1 and T2 progress (+10), T3 does not (+0);
    # non-target PD from ta_nontarget (+1), new lesions of blank count (+1): 2 + 1 + 1 = 4 > 3
    result = progression(2, 1, nontarget_read=True, ta_new_lesion=YES, new_sites=[Site.LIVER])

    assert result.n_progressing_lesions is None
    assert result.extent == "extensive"


def test_two_targets_and_new_lesions_of_blank_count_are_at_least_three_so_unknown():
    # 2 + 1 = 3, not more than 3, and the count is not known to be at most 3: unknown
    result = progression(2, 1, ta_new_lesion=YES, new_sites=[Site.LIVER])

    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"


def test_three_counted_new_lesions_and_a_nontarget_read_are_at_least_four():
    # the targets stay at 10 mm (SD), the non-target read gives PD: 3 new lesions + 1 = 4 > 3
    result = progression(0, 1, nontarget_read=True, ta_new_lesion=YES, ta_new_count=3, new_sites=[Site.LIVER])

    assert result.n_progressing_lesions is None
    assert result.extent == "extensive"


def test_new_lesions_unknown_by_a_missing_data_code_add_nothing_to_the_bound():
    # 3 targets progress; ta_new_lesion holds a code: new lesions may be none, so the bound stays 3: unknown
    result = progression(3, ta_new_lesion_missing="UNK")

    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"


def test_a_reported_progression_with_nothing_found_is_at_least_one_so_unknown():
    # no lesion rows on day 56, ta_reported PD, no new lesion: the bound is 1, the count unknown
    record = patient(lines=[line(1, start=0)], lesions=[target("T1")], measurements=[mm("T1", 0, 10)],
                     assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PD)])
    result = derive(record).lines[0]

    assert (result.n_progressing_lesions, result.extent) == (None, "unknown")
