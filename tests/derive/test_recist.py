"""§2 RECIST 1.1 time-point response. Line 1 starts on day 0; its baseline is the assessment of day 0."""
from decimal import Decimal

from registry.derive.codes import MeasurementStatus, NonTargetRead, ReportedResponse, Site
from registry.derive.recist import meets_pd_threshold, meets_pr_threshold, overall_response
from registry.derive.results import Response, ResponseSource

from .builders import YES, assessment, mm, nontarget, one_line_assessments, status, target


def test_exactly_thirty_percent_decrease_is_partial_response():
    # given baseline 50 + 40 = 90 mm and a follow-up 35 + 28 = 63 mm
    # §0: PR iff 10 × 63 = 630 ≤ 7 × 90 = 630 → true, so PR (a float 0.7 × 90 = 62.99999... would miss it)
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 50), mm("T2", 0, 40), mm("T1", 56, 35), mm("T2", 56, 28)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_sum_mm == Decimal(63)
    assert results[0].target_response is Response.PR
    assert results[0].overall_response is Response.PR


def test_decrease_just_short_of_thirty_percent_is_stable_disease():
    # given baseline 90 mm and a follow-up 35.1 + 28 = 63.1 mm
    # §0: 10 × 63.1 = 631 > 630 → not PR; 63.1 is no increase → SD
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 50), mm("T2", 0, 40), mm("T1", 56, "35.1"), mm("T2", 56, 28)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.SD


def test_exactly_twenty_percent_and_five_mm_over_nadir_is_progression():
    # given baseline (the nadir) 25 mm and a follow-up of 30 mm
    # §0: 10 × 30 = 300 ≥ 12 × 25 = 300 and 30 − 25 = 5 ≥ 5 → PD
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 25), mm("T1", 56, 30)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.PD
    assert results[0].overall_response is Response.PD


def test_twenty_percent_increase_under_five_mm_is_not_progression():
    # given nadir 20 mm and a follow-up of 24 mm
    # §0: 240 ≥ 240 but 24 − 20 = 4 < 5 → not PD; 240 > 7 × 20 = 140 → not PR → SD
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 24)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.SD


def test_thresholds_are_exact_with_decimal_measurements():
    # PR: baseline 33.3, sum 23.31: 10 × 23.31 = 233.1 ≤ 7 × 33.3 = 233.1 → PR
    #     (in floats 0.7 * 33.3 = 23.309999999999995 < 23.31 would say not PR)
    assert meets_pr_threshold(Decimal("23.31"), Decimal("33.3")) is True
    assert meets_pr_threshold(Decimal("23.32"), Decimal("33.3")) is False
    # PD: nadir 27.5, sum 33.0: 330 ≥ 330 and 5.5 ≥ 5 → PD; 32.9: 329 < 330 → not PD
    assert meets_pd_threshold(Decimal("33.0"), Decimal("27.5")) is True
    assert meets_pd_threshold(Decimal("32.9"), Decimal("27.5")) is False


def test_progression_is_measured_from_the_nadir_and_partial_response_from_baseline():
    # given baseline 40, then 30 (nadir), then 36
    # day 56: 300 ≤ 280? no → SD; pct from baseline (30 − 40) / 40 = −25 %
    # day 112: against nadir 30: 360 ≥ 360 and 6 ≥ 5 → PD; pct baseline (36 − 40) / 40 = −10 %,
    #          pct nadir (36 − 30) / 30 = +20 %
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 40), mm("T1", 56, 30), mm("T1", 112, 36)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )
    assert [r.target_response for r in results] == [Response.SD, Response.PD]
    assert results[0].pct_change_baseline == Decimal(-25)
    assert results[0].pct_change_nadir == Decimal(-25)
    assert results[1].pct_change_baseline == Decimal(-10)
    assert results[1].pct_change_nadir == Decimal(20)


def test_incomplete_baseline_gives_not_evaluable_target_response():
    # given T2 not evaluated at baseline: baseline_sum is incomplete → every target response NE
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 30), status("T2", 0, MeasurementStatus.NOT_EVALUATED),
                      mm("T1", 56, 10), mm("T2", 56, 10)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.NE
    assert results[0].overall_response is Response.NE
    assert results[0].response_source is ResponseSource.DERIVED
    assert results[0].pct_change_baseline is None


def test_partial_sum_that_meets_progression_is_progression():
    # given baseline 20 + 20 = 40; at day 56 T1 = 50 and T2 not evaluated
    # §2: PD is tested first on the known values: 10 × 50 = 500 ≥ 480 and 50 − 40 = 10 ≥ 5 → PD
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 50),
                      status("T2", 56, MeasurementStatus.NOT_EVALUATED)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.PD
    assert results[0].target_sum_mm is None  # a partial sum is not reported


def test_partial_sum_below_progression_is_not_evaluable():
    # given baseline 40; at day 56 T1 = 10 and T2 has no row (unknown, never 0)
    # known sum 10 does not meet PD, and a value is unknown → NE (not PR)
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 10)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.NE


def test_target_recorded_as_unequivocal_progression_is_unknown():
    # given T2 recorded with status 4 (a non-target status) at day 56: its value is unknown → NE
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), mm("T1", 56, 10),
                      status("T2", 56, MeasurementStatus.UNEQUIVOCAL_PROGRESSION)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.NE


def test_lesion_too_small_to_measure_counts_five_mm_and_is_not_complete_response():
    # given baseline 20 + 20 = 40; at day 56 T1 disappeared (0) and T2 too small (5 mm)
    # not CR (a non-nodal target at 5 mm); sum 5: 50 ≤ 280 → PR
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 20), status("T1", 56, MeasurementStatus.DISAPPEARED),
                      status("T2", 56, MeasurementStatus.TOO_SMALL)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_sum_mm == Decimal(5)
    assert results[0].target_response is Response.PR


def test_nodes_below_ten_mm_with_other_targets_gone_are_complete_response():
    # given a lung target 20 → 0 and a nodal target 15 → 9.9 (short axis below 10 mm) → CR
    results = one_line_assessments(
        lesions=[target("T1"), target("N1", site=Site.LYMPH_NODE)],
        measurements=[mm("T1", 0, 20), mm("N1", 0, 15), mm("T1", 56, 0), mm("N1", 56, "9.9")],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.CR
    assert results[0].overall_response is Response.CR


def test_node_at_ten_mm_is_not_complete_response():
    # given lung 20 → 0 and node 15 → 10: 10 is not below 10 → not CR; sum 10: 100 ≤ 245 → PR
    results = one_line_assessments(
        lesions=[target("T1"), target("N1", site=Site.LYMPH_NODE)],
        measurements=[mm("T1", 0, 20), mm("N1", 0, 15), mm("T1", 56, 0), mm("N1", 56, 10)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.PR


def test_reappearance_of_a_lesion_after_complete_response_is_progression():
    # given lung target 20 → 0 (CR, nadir 0) → 4 mm
    # by the sum rule 4 − 0 = 4 < 5 → no; but the previous non-NE target response was CR and a
    # non-nodal target is above 0 → PD (reappearance)
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 0), mm("T1", 112, 4)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )
    assert [r.target_response for r in results] == [Response.CR, Response.PD]


def test_reappearance_counts_across_a_not_evaluable_assessment():
    # given CR at day 56, NE at day 112 (not evaluated), 3 mm at day 168: the most recent earlier
    # non-NE target response is still the CR → PD
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 0), status("T1", 112, MeasurementStatus.NOT_EVALUATED),
                      mm("T1", 168, 3)],
        assessments=[assessment(0), assessment(56), assessment(112), assessment(168)],
    )
    assert [r.target_response for r in results] == [Response.CR, Response.NE, Response.PD]


def test_nodal_target_after_complete_response_follows_the_sum_rule():
    # given a nodal target 15 → 8 (CR, nadir 8) → 9: 90 ≥ 96? no → not PD; 9 < 10 → CR again
    results = one_line_assessments(
        lesions=[target("N1", site=Site.LYMPH_NODE)],
        measurements=[mm("N1", 0, 15), mm("N1", 56, 8), mm("N1", 112, 9)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )
    assert [r.target_response for r in results] == [Response.CR, Response.CR]


def test_non_target_only_disease_follows_table_two():
    # given a line with only non-target lesions: disappeared → CR; present → Non-CR/Non-PD;
    # unequivocal progression → PD; no target response at all
    results = one_line_assessments(
        lesions=[nontarget("B1")],
        measurements=[status("B1", 0, MeasurementStatus.PRESENT_NOT_MEASURED),
                      status("B1", 56, MeasurementStatus.DISAPPEARED),
                      status("B1", 112, MeasurementStatus.PRESENT_NOT_MEASURED),
                      status("B1", 168, MeasurementStatus.UNEQUIVOCAL_PROGRESSION)],
        assessments=[assessment(0), assessment(56), assessment(112), assessment(168)],
    )
    assert [r.target_response for r in results] == [None, None, None]
    assert [r.nontarget_response for r in results] == [Response.CR, Response.NON_CR_NON_PD, Response.PD]
    assert [r.overall_response for r in results] == [Response.CR, Response.NON_CR_NON_PD, Response.PD]


def test_non_target_node_below_ten_mm_is_complete_response_and_unknown_one_is_not_evaluable():
    # given a nodal non-target measured 8 mm → CR-compatible; at day 112 not evaluated → NE
    results = one_line_assessments(
        lesions=[nontarget("N1", site=Site.LYMPH_NODE)],
        measurements=[mm("N1", 0, 14), mm("N1", 56, 8), status("N1", 112, MeasurementStatus.NOT_EVALUATED)],
        assessments=[assessment(0), assessment(56), assessment(112)],
    )
    assert [r.nontarget_response for r in results] == [Response.CR, Response.NE]


def test_non_target_read_is_used_when_no_non_target_lesion_has_a_row():
    # given targets measured at every time point and a non-target without rows
    # day 56: target CR (20 → 0) + ta_nontarget Non-CR/Non-PD → overall PR
    # day 112: target CR + ta_nontarget blank → non-target NE → overall PR (table 1)
    # day 168: ta_nontarget unequivocal progression → non-target PD → overall PD
    results = one_line_assessments(
        lesions=[target("T1"), nontarget("B1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 0), mm("T1", 112, 0), mm("T1", 168, 0)],
        assessments=[assessment(0), assessment(56, ta_nontarget=NonTargetRead.NON_CR_NON_PD),
                     assessment(112), assessment(168, ta_nontarget=NonTargetRead.UNEQUIVOCAL_PROGRESSION)],
    )
    assert [r.nontarget_response for r in results] == [Response.NON_CR_NON_PD, Response.NE, Response.PD]
    assert [r.overall_response for r in results] == [Response.PR, Response.PR, Response.PD]


def test_overall_response_table_one_combinations():
    # §2 overall: target CR + non-target CR or none → CR; + Non-CR/Non-PD or NE → PR;
    # PR + not PD → PR; SD + not PD → SD; target NE → NE; a new lesion → PD whatever else
    assert overall_response(Response.CR, None, False) is Response.CR
    assert overall_response(Response.CR, Response.CR, False) is Response.CR
    assert overall_response(Response.CR, Response.NON_CR_NON_PD, False) is Response.PR
    assert overall_response(Response.CR, Response.NE, False) is Response.PR
    assert overall_response(Response.PR, Response.NE, False) is Response.PR
    assert overall_response(Response.SD, Response.NON_CR_NON_PD, False) is Response.SD
    assert overall_response(Response.NE, Response.CR, False) is Response.NE
    assert overall_response(Response.CR, Response.CR, True) is Response.PD
    assert overall_response(Response.SD, Response.PD, False) is Response.PD
    assert overall_response(None, None, False) is Response.NE


def test_assessment_without_lesion_rows_takes_the_reported_response():
    # given no row for any of the line's lesions at day 56 and ta_reported PR → reported PR
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR)],
    )
    assert results[0].overall_response is Response.PR
    assert results[0].response_source is ResponseSource.REPORTED
    assert results[0].discrepancy is False


def test_derived_not_evaluable_falls_back_to_the_reported_response():
    # given T1 not evaluated at day 56 (derived NE) and ta_reported SD → reported SD
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), status("T1", 56, MeasurementStatus.NOT_EVALUATED)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.SD)],
    )
    assert results[0].target_response is Response.NE
    assert results[0].overall_response is Response.SD
    assert results[0].response_source is ResponseSource.REPORTED


def test_new_lesion_makes_a_reported_response_progression():
    # given no lesion rows, ta_reported PR but an unequivocal new lesion → PD
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR, ta_new_lesion=YES)],
    )
    assert results[0].overall_response is Response.PD
    assert results[0].response_source is ResponseSource.REPORTED


def test_blank_reported_response_without_new_lesion_is_not_evaluable():
    # given no lesion rows, ta_reported blank and ta_new_lesion blank (counts as no) → NE
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].overall_response is Response.NE
    assert results[0].response_source is ResponseSource.REPORTED
    assert results[0].new_lesions is False
    assert results[0].discrepancy is None


def test_derived_response_differing_from_the_reported_one_is_a_discrepancy():
    # given 20 → 12 (60 % of baseline: 120 ≤ 140 → PR) reported as SD → discrepancy
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 12)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.SD)],
    )
    assert results[0].overall_response is Response.PR
    assert results[0].response_source is ResponseSource.DERIVED
    assert results[0].discrepancy is True


def test_non_cr_non_pd_against_reported_stable_disease_is_not_a_discrepancy():
    # given non-target-only disease present (Non-CR/Non-PD) reported as SD → no discrepancy (§2)
    results = one_line_assessments(
        lesions=[nontarget("B1")],
        measurements=[status("B1", 0, MeasurementStatus.PRESENT_NOT_MEASURED),
                      status("B1", 56, MeasurementStatus.PRESENT_NOT_MEASURED)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.SD)],
    )
    assert results[0].overall_response is Response.NON_CR_NON_PD
    assert results[0].discrepancy is False


def test_derived_response_agreeing_with_the_reported_one_is_no_discrepancy():
    # given 20 → 12 (PR) reported as PR → no discrepancy
    results = one_line_assessments(
        lesions=[target("T1")],
        measurements=[mm("T1", 0, 20), mm("T1", 56, 12)],
        assessments=[assessment(0), assessment(56, ta_reported=ReportedResponse.PR)],
    )
    assert results[0].discrepancy is False


def test_missing_row_for_a_target_is_unknown_not_zero():
    # given T1 20 and T2 10 at baseline; at day 56 T1 disappeared and T2 has no row
    # a missing row is unknown (never 0): not CR but NE, and the sum is blank
    results = one_line_assessments(
        lesions=[target("T1"), target("T2")],
        measurements=[mm("T1", 0, 20), mm("T2", 0, 10), status("T1", 56, MeasurementStatus.DISAPPEARED)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.NE
    assert results[0].target_sum_mm is None
    assert results[0].pct_change_baseline is None


def test_only_the_lines_own_lesions_are_used():
    # given a lesion of line 2 measured at line 1's follow-up, and line 1's own T1 20 → 12 (PR)
    # the line 2 lesion growing 10 → 40 must not make line 1 progress
    results = one_line_assessments(
        lesions=[target("T1"), target("X1", line_no=2)],
        measurements=[mm("T1", 0, 20), mm("X1", 0, 10), mm("T1", 56, 12), mm("X1", 56, 40)],
        assessments=[assessment(0), assessment(56)],
    )
    assert results[0].target_response is Response.PR
