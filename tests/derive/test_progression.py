"""§3 progression of a line and §8 best response. Line 1 (alectinib) starts on day 0, baseline on day 0."""
import pytest

from registry.derive.codes import LocalTherapyIntent, MeasurementStatus, NonTargetRead, ReportedResponse, Site
from registry.derive.results import Response

from .builders import (
    NO, YES, assessment, day, derive, line, local_therapy, mm, nontarget, patient, status, target,
)


def line_one(**records):
    """Line 1 of the derived patient (cut-off day 2000 unless `cutoff` is given)."""
    cutoff = records.pop("cutoff", 2000)
    records.setdefault("lines", [line(1, start=0)])
    return derive(patient(**records), cutoff=cutoff).lines[0]


def new_lesion_progression(on=112, *, count=1, sites=(Site.BRAIN,), **assessment_fields):
    """A line whose only lesion (lung target, 20 mm) is stable and that progresses with new lesions."""
    return dict(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 20), mm("T1", on, 20)],
        assessments=[assessment(0), assessment(56),
                     assessment(on, ta_new_lesion=YES, ta_new_count=count, new_sites=sites, **assessment_fields)],
    )


def test_first_progression_assessment_sets_the_pd_date_and_later_ones_do_not_change_it():
    # given reported PD at day 56, PR at day 112 and PD at day 168 → pd_date = day 56
    result = line_one(
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PD),
                     assessment(112, ta_reported=ReportedResponse.PR),
                     assessment(168, ta_reported=ReportedResponse.PD)],
    )
    assert result.pd_date == day(56)


def test_line_without_progression_has_every_progression_label_blank():
    # given only a reported PR: no progression → §3 labels blank
    result = line_one(assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR)])
    assert (result.pd_date, result.extent, result.n_progressing_lesions, result.cns_progression,
            result.cns_only_progression, result.symptomatic_progression, result.symptomatic_cns_progression,
            result.local_therapy_for_pd, result.continued_beyond_pd, result.beyond_pd_days) == (None,) * 10


def test_target_lesions_growing_five_mm_over_their_own_nadir_progress():
    # given T1 lung 20 → 10 → 15 and T2 liver 20 → 20 → 27; sums 40, 30 (nadir), 42
    # day 112: 420 ≥ 360 and 12 ≥ 5 → PD
    # T1: 15 ≥ its own smallest 10 + 5 → counts (though below baseline); T2: 27 ≥ 20 + 5 → counts
    # n = 0 new + 0 non-target + 2 targets = 2 → oligo; sites lung and liver, no CNS
    result = line_one(
        lesions=[target("T1", Site.LUNG), target("T2", Site.LIVER)],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 10), mm("T2", 56, 20),
                      mm("T1", 112, 15), mm("T2", 112, 27)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )
    assert result.n_progressing_lesions == 2
    assert result.involved_sites == frozenset({Site.LUNG, Site.LIVER})
    assert result.extent == "oligo"
    assert result.cns_progression is False
    assert result.cns_only_progression is False


def test_target_growing_less_than_five_mm_does_not_progress_but_new_lesions_count():
    # given T1 lung 20 → 30 (+10, counts) and T2 liver 20 → 24 (+4, does not); sum 54 vs 40: PD
    # and 2 new bone lesions → n = 2 + 0 + 1 = 3 → oligo; sites lung (T1) and bone (new), not liver
    result = line_one(
        lesions=[target("T1", Site.LUNG), target("T2", Site.LIVER)],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 30), mm("T2", 56, 24)],
        assessments=[assessment(0),
                     assessment(56, ta_new_lesion=YES, ta_new_count=2, new_sites=[Site.BONE])],
    )
    assert result.n_progressing_lesions == 3
    assert result.involved_sites == frozenset({Site.LUNG, Site.BONE})
    assert result.extent == "oligo"


def test_when_no_target_grows_five_mm_the_largest_increase_counts():
    # given three targets 10 + 10 + 10 = 30 → 12 + 12 + 13 = 37: 370 ≥ 360 and 7 ≥ 5 → target PD
    # increases 2, 2, 3: none reaches 5 → the largest (T3, brain) counts: n = 1, CNS-only
    result = line_one(
        lesions=[target("T1", Site.LUNG), target("T2", Site.LIVER), target("T3", Site.BRAIN)],
        measurements=[mm("T1", 0, 10), mm("T2", 0, 10), mm("T3", 0, 10),
                      mm("T1", 56, 12), mm("T2", 56, 12), mm("T3", 56, 13)],
        assessments=[assessment(0), assessment(56)],
    )
    assert result.n_progressing_lesions == 1
    assert result.involved_sites == frozenset({Site.BRAIN})
    assert result.cns_progression is True
    assert result.cns_only_progression is True


def test_target_with_no_earlier_value_never_counts():
    # given T2 (liver) not evaluated at baseline, so target responses are NE; a new bone lesion
    # (count 1) at day 56 is the progression. T1 lung 20 → 40 counts (+20 ≥ 5); T2 30 has no
    # earlier value → does not count. n = 1 + 0 + 1 = 2; liver not involved
    result = line_one(
        lesions=[target("T1", Site.LUNG), target("T2", Site.LIVER)],
        measurements=[mm("T1", 0, 20), status("T2", 0, MeasurementStatus.NOT_EVALUATED),
                      mm("T1", 56, 40), mm("T2", 56, 30)],
        assessments=[assessment(0), assessment(56, ta_new_lesion=YES, ta_new_count=1, new_sites=[Site.BONE])],
    )
    assert result.n_progressing_lesions == 2
    assert result.involved_sites == frozenset({Site.LUNG, Site.BONE})


def test_new_lesions_without_a_count_leave_the_number_unknown():
    # given new lesions in the brain with ta_new_count blank → n unknown → extent unknown
    # (no extensive site), CNS progression still known from the site
    result = line_one(**new_lesion_progression(count=None, sites=[Site.BRAIN]))
    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"
    assert result.cns_progression is True


def test_non_target_progression_read_without_rows_leaves_the_number_unknown():
    # given a non-target without rows and ta_nontarget = unequivocal progression at day 56; the
    # target is stable → PD from the non-target read; their number and sites are unknown
    result = line_one(
        lesions=[target("T1"), nontarget("B1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 20)],
        assessments=[assessment(0), assessment(56, ta_nontarget=NonTargetRead.UNEQUIVOCAL_PROGRESSION)],
    )
    assert result.pd_date is not None
    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"
    assert result.cns_progression is None  # no involved site is known
    assert result.cns_only_progression is None


def test_reported_progression_without_new_lesion_or_lesion_rows_has_an_unknown_count():
    # given only ta_reported = PD at day 56, no new lesion, no lesion rows → n unknown
    result = line_one(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PD)],
    )
    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"


def test_reported_progression_with_lesion_rows_but_nothing_progressing_has_an_unknown_count():
    # §3 (v2): "a progression taken from the reported response with no new lesion and no progressing
    # lesion found has an unknown count". Worked by hand: T1 and T2 are 20 mm at baseline; on day 56
    # only T1 is measured (20 mm), so the target response is NE (§2: a target not measured), the overall
    # response NE, and ta_reported = PD gives the progression (source: reported). T1 has not grown
    # (20 < 20 + 5), there are no non-target rows and no new lesions: nothing found, so the count is
    # blank (not 0), its lower bound 1, and the extent unknown.
    result = line_one(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 20)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PD)],
    )
    assert result.pd_date == day(56)
    assert result.n_progressing_lesions is None
    assert result.extent == "unknown"


def test_reported_progression_with_counted_new_lesions_has_a_count():
    # given no lesion rows, ta_reported PR, 2 new lung lesions recorded → PD, n = 2 → oligo
    result = line_one(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR, ta_new_lesion=YES,
                                                 ta_new_count=2, new_sites=[Site.LUNG])],
    )
    assert result.n_progressing_lesions == 2
    assert result.extent == "oligo"


@pytest.mark.parametrize("site", [Site.LYMPHANGITIS, Site.PLEURAL_EFFUSION, Site.PERICARDIAL_EFFUSION,
                                  Site.ASCITES, Site.LEPTOMENINGES])
def test_progression_at_an_effusion_lymphangitis_ascites_or_leptomeninges_is_extensive(site):
    # given a single new lesion at one of these sites → extensive although n = 1
    result = line_one(**new_lesion_progression(count=1, sites=[site]))
    assert result.n_progressing_lesions == 1
    assert result.extent == "extensive"


def test_more_than_three_progressing_lesions_is_extensive():
    # given 4 new lung lesions → n = 4 > 3 → extensive
    result = line_one(**new_lesion_progression(count=4, sites=[Site.LUNG]))
    assert result.extent == "extensive"


def test_three_progressing_lesions_at_ordinary_sites_are_oligo():
    # given 3 new liver lesions → 1 ≤ 3 ≤ 3 and no extensive site → oligo
    result = line_one(**new_lesion_progression(count=3, sites=[Site.LIVER]))
    assert result.extent == "oligo"


def test_known_part_over_three_is_extensive_even_when_the_total_is_unknown():
    # given 4 targets each 10 → 20 (each +10, all count) and new lesions with a blank count:
    # n unknown, but at least 4 > 3 progress → extensive
    lesions = [target(f"T{i}", Site.LIVER) for i in range(1, 5)]
    result = line_one(
        lesions=lesions,
        measurements=[mm(f"T{i}", 0, 10) for i in range(1, 5)] + [mm(f"T{i}", 56, 20) for i in range(1, 5)],
        assessments=[assessment(0), assessment(56, ta_new_lesion=YES, new_sites=[Site.LIVER])],
    )
    assert result.n_progressing_lesions is None
    assert result.extent == "extensive"


def test_unequivocally_progressing_non_target_in_lymphangitis_is_extensive():
    # given a stable target and a lymphangitis non-target with status unequivocal progression
    # → non-target PD, n = 1, site lymphangitis → extensive
    result = line_one(
        lesions=[target("T1"), nontarget("NT1", Site.LYMPHANGITIS)],
        measurements=[mm("T1", 0, 20), status("NT1", 0, MeasurementStatus.PRESENT_NOT_MEASURED),
                      mm("T1", 56, 20), status("NT1", 56, MeasurementStatus.UNEQUIVOCAL_PROGRESSION)],
        assessments=[assessment(0), assessment(56)],
    )
    assert result.n_progressing_lesions == 1
    assert result.extent == "extensive"


def test_new_brain_lesion_is_cns_progression_and_cns_only():
    # given one new brain lesion and nothing else progressing → CNS progression, CNS-only
    result = line_one(**new_lesion_progression(count=1, sites=[Site.BRAIN]))
    assert result.cns_progression is True
    assert result.cns_only_progression is True


def test_new_brain_and_lung_lesions_are_cns_progression_but_not_cns_only():
    result = line_one(**new_lesion_progression(count=2, sites=[Site.BRAIN, Site.LUNG]))
    assert result.cns_progression is True
    assert result.cns_only_progression is False


@pytest.mark.parametrize(("symptoms", "neuro", "symptomatic", "symptomatic_cns"), [
    (YES, YES, True, True),
    (YES, NO, True, False),
    (NO, None, False, False),  # ta_neuro_symptoms is no when ta_symptoms is no
    (YES, None, True, None),  # neurological symptoms unknown → blank
    (None, None, None, None),  # unknown is not no
])
def test_symptomatic_labels_of_a_brain_progression(symptoms, neuro, symptomatic, symptomatic_cns):
    result = line_one(**new_lesion_progression(sites=[Site.BRAIN], ta_symptoms=symptoms, ta_neuro_symptoms=neuro))
    assert result.symptomatic_progression is symptomatic
    assert result.symptomatic_cns_progression is symptomatic_cns


def test_neurological_symptoms_without_cns_progression_are_not_symptomatic_cns_progression():
    # given a new liver lesion with neurological symptoms: CNS progression no → symptomatic CNS no
    result = line_one(**new_lesion_progression(sites=[Site.LIVER], ta_symptoms=YES, ta_neuro_symptoms=YES))
    assert result.symptomatic_progression is True
    assert result.symptomatic_cns_progression is False


@pytest.mark.parametrize(("on", "site", "intent", "expected"), [
    (172, None, LocalTherapyIntent.OLIGO_PROGRESSION, True),  # pd day 112 + 60 = day 172, inclusive
    (173, None, LocalTherapyIntent.OLIGO_PROGRESSION, False),  # day 173 is outside the window
    (111, None, LocalTherapyIntent.OLIGO_PROGRESSION, False),  # before the progression
    (112, Site.BRAIN, LocalTherapyIntent.SYMPTOM_PALLIATION, True),  # at an involved site
    (120, Site.BONE, LocalTherapyIntent.SYMPTOM_PALLIATION, False),  # neither
    (120, Site.BONE, None, None),  # intent unknown, not at an involved site → unknown
])
def test_local_therapy_for_progression_within_the_window(on, site, intent, expected):
    # given a new brain lesion at day 112 (involved site brain)
    result = line_one(**new_lesion_progression(on=112, sites=[Site.BRAIN]),
                      local_therapies=[local_therapy(on, site=site, intent=intent)])
    assert result.local_therapy_for_pd is expected


def test_local_therapy_on_the_next_lines_start_is_not_for_the_progression():
    # given progression on day 112, line 2 starting day 150 and oligo-progression SRS on day 150:
    # "before the next line starts" excludes day 150 → no
    result = line_one(**new_lesion_progression(on=112, sites=[Site.BRAIN]),
                      lines=[line(1, start=0), line(2, start=150)],
                      local_therapies=[local_therapy(150, intent=LocalTherapyIntent.OLIGO_PROGRESSION)])
    assert result.local_therapy_for_pd is False


@pytest.mark.parametrize(("end", "beyond_pd", "cutoff", "continued", "days"), [
    (143, None, 2000, True, 31),  # 143 − 112 = 31 > 30 → continued, 31 days
    (142, None, 2000, False, None),  # 30 is not more than 30
    (400, NO, 2000, False, None),  # answered no wins over the dates
    (130, YES, 2000, True, 18),  # answered yes; 130 − 112 = 18 days
    (None, None, 200, True, 88),  # ongoing: runs to the cut-off, 200 − 112 = 88
    (300, None, 200, True, 88),  # a line_end after the cut-off means ongoing at the cut-off
])
def test_continued_beyond_progression(end, beyond_pd, cutoff, continued, days):
    result = line_one(**new_lesion_progression(on=112), cutoff=cutoff,
                      lines=[line(1, start=0, end=end, line_beyond_pd=beyond_pd)])
    assert result.continued_beyond_pd is continued
    assert result.beyond_pd_days == days


def test_best_response_is_taken_up_to_and_including_the_progression():
    # given PR day 56, PD day 112, CR day 168 (after the progression, not considered) → PR
    result = line_one(assessments=[
        assessment(0), assessment(56, ta_reported=ReportedResponse.PR),
        assessment(112, ta_reported=ReportedResponse.PD), assessment(168, ta_reported=ReportedResponse.CR),
    ])
    assert result.best_response is Response.PR


def test_stable_disease_before_sd_min_days_counts_as_not_evaluable():
    # given SD on day 41 (< 42 days after the start) then PD → best of NE and PD is PD
    result = line_one(assessments=[assessment(0), assessment(41, ta_reported=ReportedResponse.SD),
                                   assessment(90, ta_reported=ReportedResponse.PD)])
    assert result.best_response is Response.PD


def test_stable_disease_from_sd_min_days_counts():
    # given SD on day 42 (= sd_min_days) then PD → SD
    result = line_one(assessments=[assessment(0), assessment(42, ta_reported=ReportedResponse.SD),
                                   assessment(90, ta_reported=ReportedResponse.PD)])
    assert result.best_response is Response.SD


def test_best_response_is_blank_without_follow_up_assessment():
    result = line_one(assessments=[assessment(0)])
    assert result.best_response is None
