"""Kaplan-Meier curves, medians and numbers at risk, checked against R's survival package on the
AML maintenance data (fixtures/reference/README.md: therneau/survival tests/doaml.Rout.save)."""
import pytest

from registry.reports.statistics import (
    ESTIMATORS, MEDIAN_CI_METHOD, SURVIVAL_CI_METHODS, SurvivalGroup, kaplan_meier, survival_median,
)

from .reference_data import MAINTAINED, NONMAINTAINED


def test_the_report_reads_the_median_ci_off_r_survfits_default_log_band():
    assert MEDIAN_CI_METHOD == "log"
    assert ESTIMATORS["survival_confidence_interval"] == SURVIVAL_CI_METHODS["log"]
    assert 'conf.type="log"' in SURVIVAL_CI_METHODS["log"]


def test_aml_medians_and_log_confidence_intervals_match_r_survfit():
    # R: survfit(Surv(time, status) ~ x, data = aml), conf.type = "log" (the default), prints
    #   x=Maintained    n 11  events 7   median 31  0.95LCL 18  0.95UCL NA
    #   x=Nonmaintained n 12  events 11  median 23  0.95LCL  8  0.95UCL NA
    maintained = kaplan_meier(MAINTAINED, at_risk_times=(), ci_method="log")
    nonmaintained = kaplan_meier(NONMAINTAINED, at_risk_times=(), ci_method="log")
    assert (maintained.n, maintained.events, maintained.median) == (11, 7, 31.0)
    assert (maintained.median_ci_lower, maintained.median_ci_upper) == (18.0, None)
    assert (nonmaintained.n, nonmaintained.events, nonmaintained.median) == (12, 11, 23.0)
    assert (nonmaintained.median_ci_lower, nonmaintained.median_ci_upper) == (8.0, None)


def test_the_default_ci_method_is_the_log_band():
    assert kaplan_meier(MAINTAINED, at_risk_times=()) == kaplan_meier(
        MAINTAINED, at_risk_times=(), ci_method="log")


@pytest.mark.parametrize("group, time, survival, lower, upper", [
    # R summary(survfit(...)): time, survival, lower 95% CI, upper 95% CI as printed (3-4 digits)
    (MAINTAINED, 9, 0.909, 0.7541, 1.000),
    (MAINTAINED, 23, 0.614, 0.3769, 0.999),
    (MAINTAINED, 31, 0.491, 0.2549, 0.946),
    (MAINTAINED, 48, 0.184, 0.0359, 0.944),
    (NONMAINTAINED, 8, 0.6667, 0.4468, 0.995),
    (NONMAINTAINED, 23, 0.4861, 0.2675, 0.883),
    (NONMAINTAINED, 43, 0.0972, 0.0153, 0.620),
], ids=lambda value: getattr(value, "label", None))
def test_aml_pointwise_log_band_matches_r_summary_survfit(group, time, survival, lower, upper):
    summary = kaplan_meier(group, at_risk_times=(), ci_method="log")
    row = summary.times.index(time)
    # half a unit of the last printed digit
    assert summary.survival[row] == pytest.approx(survival, abs=5e-4)
    assert summary.ci_lower[row] == pytest.approx(lower, abs=5e-5)
    assert summary.ci_upper[row] == pytest.approx(upper, abs=5e-4)


def test_band_is_undefined_once_survival_reaches_zero_as_r_prints_na():
    # R: Nonmaintained t = 45, survival 0.0000, std.err NaN, limits NA (both CI methods here)
    for ci_method in ("log", "log-log"):
        summary = kaplan_meier(NONMAINTAINED, at_risk_times=(), ci_method=ci_method)
        assert (summary.times[-1], summary.survival[-1]) == (45.0, 0.0)
        assert (summary.ci_lower[-1], summary.ci_upper[-1]) == (None, None)


def test_aml_log_log_median_intervals_match_the_hand_derivation_from_r_standard_errors():
    # No printed R output with conf.type = "log-log" was found, so the limits are derived by hand
    # from R's published survival S and its standard error se (summary above): with
    # g = se / S (Greenwood's √V) and L = −log S, the log-log band is S^exp(±1.96·g/L).
    #   Maintained t = 9:  S 0.909,  se 0.0867 → lower 0.508 (> 0.5)
    #              t = 13: S 0.818,  se 0.1163 → lower 0.447 (≤ 0.5) → median CI lower limit 13
    #              t = 48: S 0.184,  se 0.1535 → upper 0.525, and the curve ends censored at 161
    #                      still above 0.5 → upper limit NA
    #   Nonmaintained t = 5:  S 0.8333, se 0.1076 → lower 0.482 (≤ 0.5) → lower limit 5
    #                 t = 30: S 0.2917, se 0.1387 → upper 0.561 (> 0.5)
    #                 t = 33: S 0.1944, se 0.1219 → upper 0.461 (≤ 0.5) → upper limit 33
    maintained = kaplan_meier(MAINTAINED, at_risk_times=(), ci_method="log-log")
    nonmaintained = kaplan_meier(NONMAINTAINED, at_risk_times=(), ci_method="log-log")
    assert (maintained.median, maintained.median_ci_lower, maintained.median_ci_upper) == (31.0, 13.0, None)
    assert (nonmaintained.median, nonmaintained.median_ci_lower, nonmaintained.median_ci_upper) == (
        23.0, 5.0, 33.0)
    at = maintained.times.index
    assert maintained.ci_lower[at(9)] == pytest.approx(0.508, abs=1e-3)
    assert maintained.ci_lower[at(13)] == pytest.approx(0.447, abs=1e-3)
    assert maintained.ci_upper[at(48)] == pytest.approx(0.525, abs=1e-3)
    at = nonmaintained.times.index
    assert nonmaintained.ci_upper[at(30)] == pytest.approx(0.561, abs=1e-3)
    assert nonmaintained.ci_upper[at(33)] == pytest.approx(0.461, abs=1e-3)


def test_numbers_at_risk_on_aml_count_everyone_followed_up_to_at_least_t():
    # Counted by hand from the listing (+ = censored):
    #   Maintained 9 13 13+ 18 23 28+ 31 34 45+ 48 161+
    #     t=0: all 11; t=12: all but 9 → 10; t=13: 13, 13+ and later → 10 (R n.risk at 13 = 10);
    #     t=24: 28+ 31 34 45+ 48 161+ → 6; t=36: 45+ 48 161+ → 3; t=48: 48 161+ → 2
    #   Nonmaintained 5 5 8 8 12 16+ 23 27 30 33 43 45
    #     t=0: 12; t=12: 12 16+ 23 27 30 33 43 45 → 8; t=13: 7;
    #     t=23: 23 27 30 33 43 45 → 6 (R n.risk at 23 = 6); t=24: 5; t=36: 43 45 → 2; t=48: 0
    times = (0, 12, 13, 23, 24, 36, 48)
    maintained = kaplan_meier(MAINTAINED, at_risk_times=times)
    nonmaintained = kaplan_meier(NONMAINTAINED, at_risk_times=times)
    assert maintained.at_risk_times == (0.0, 12.0, 13.0, 23.0, 24.0, 36.0, 48.0)
    assert maintained.numbers_at_risk == (11, 10, 10, 7, 6, 3, 2)
    assert nonmaintained.numbers_at_risk == (12, 8, 7, 6, 5, 2, 0)


def test_median_is_not_reached_while_the_curve_stays_above_one_half():
    # given 2 events in 6 (S: 5/6 at 2, 5/6·4/5 = 2/3 at 4), the rest censored → S ends at 2/3.
    # The log band's lower limit still reaches 0.5: Greenwood V(2) = 1/(6·5) = 0.0333 → 5/6·e^(−1.96·
    # 0.1826) = 0.583; V(4) = 0.0333 + 1/(5·4) = 0.0833 → 2/3·e^(−1.96·0.2887) = 0.379 ≤ 0.5. So the
    # median is "not reached (95 % CI 4 to NE)"; the upper band never falls to 0.5.
    group = SurvivalGroup("few events", durations=(2, 4, 6, 8, 10, 12),
                          events=(True, True, False, False, False, False))
    summary = kaplan_meier(group, at_risk_times=(0,))
    assert summary.survival[-1] == pytest.approx(2 / 3)
    assert summary.ci_lower[summary.times.index(2)] == pytest.approx(0.583, abs=1e-3)
    assert summary.ci_lower[summary.times.index(4)] == pytest.approx(0.379, abs=1e-3)
    assert (summary.median, summary.median_ci_lower, summary.median_ci_upper) == (None, 4.0, None)


def test_a_curve_at_one_half_until_a_later_drop_has_the_midpoint_of_the_flat_as_median():
    # given 4 patients, events at 1, 2, 3, 4: S = 3/4, 3/4·2/3 = 1/2, 1/2·1/2 = 1/4, 0. S equals 0.5
    # on [2, 3) and drops at 3: R's survfit prints median (2 + 3) / 2 = 2.5 (lifelines would say 2).
    # The lower band: V(1) = 1/(4·3) → 0.75·e^(−1.96·0.2887) = 0.427 ≤ 0.5 at once → lower limit 1;
    # the upper band is capped at 1 until S = 0 at 4, where it is undefined → upper limit NE.
    group = SurvivalGroup("flat at one half", durations=(1, 2, 3, 4), events=(True,) * 4)
    summary = kaplan_meier(group, at_risk_times=())
    assert (summary.median, summary.median_ci_lower, summary.median_ci_upper) == (2.5, 1.0, None)


def test_a_curve_that_ends_at_one_half_has_the_start_of_the_flat_as_median():
    # given 6 patients, events at 1, 2, 3 and censored at 5, 6, 8: S = 5/6, 4/6, 3/6 = 0.5 at 3, then
    # only censorings: the curve ends on 0.5 from 3, so survfit prints median 3 (R's quantile() would
    # give (3 + 8) / 2 = 5.5). lifelines' product comes out as 0.5000000000000001, so without R's
    # tolerance the median would be "not reached".
    # Lower band: V(1) = 1/30 → 5/6·e^(−1.96·0.1826) = 0.583 > 0.5; V(2) = 1/30 + 1/20 = 0.0833 →
    # 4/6·e^(−1.96·0.2887) = 0.379 ≤ 0.5 → lower limit 2. Upper band at 3: V = 0.0833 + 1/12 = 0.1667 →
    # 0.5·e^(1.96·0.4082) = 1.11, capped at 1, and it stays there → upper limit NE. R prints 3, 2, NA.
    group = SurvivalGroup("ends at one half", durations=(1, 2, 3, 5, 6, 8),
                          events=(True, True, True, False, False, False))
    summary = kaplan_meier(group, at_risk_times=())
    assert (summary.median, summary.median_ci_lower, summary.median_ci_upper) == (3.0, 2.0, None)
    assert survival_median((0, 3, 5, 8), (1.0, 0.5, 0.5, 0.5)) == 3.0


def test_a_curve_crossing_one_half_has_the_crossing_time_as_median():
    # given 5 events at 1..5: S = 0.8, 0.6, 0.4, 0.2, 0: first below 0.5 at 3, never exactly 0.5.
    group = SurvivalGroup("crossing", durations=(1, 2, 3, 4, 5), events=(True,) * 5)
    assert kaplan_meier(group, at_risk_times=()).median == 3.0


def test_a_value_within_r_tolerance_of_one_half_counts_as_one_half_and_one_outside_does_not():
    # R compares with tol = √ε ≈ 1.49e-8: 0.5 + 1e-9 is "at 0.5", so the median is the midpoint
    # (2 + 4) / 2 = 3; 0.5 + 1e-7 is above 0.5, so the first time below it, 4, is the median.
    times = (0.0, 2.0, 4.0)
    assert survival_median(times, (1.0, 0.5 + 1e-9, 0.25)) == 3.0
    assert survival_median(times, (1.0, 0.5 + 1e-7, 0.25)) == 4.0
    # A value just below 0.5 but within the tolerance is the flat as well: (2 + 4) / 2.
    assert survival_median(times, (1.0, 0.5 - 1e-9, 0.25)) == 3.0


def test_a_curve_that_never_reaches_one_half_has_no_median_and_undefined_points_are_skipped():
    assert survival_median((0.0, 1.0, 2.0), (1.0, 0.9, 0.6)) is None
    # an undefined band point (None, R's NA) is left out, as R's minmin drops NA
    assert survival_median((0.0, 1.0, 2.0), (1.0, None, 0.4)) == 2.0
    assert survival_median((0.0, 1.0), (None, None)) is None


def test_the_methods_say_the_median_is_read_as_r_survfit_prints_it():
    assert "midpoint" in ESTIMATORS["median"] and "R's survfit" in ESTIMATORS["median"]
    assert "same rule as the median" in ESTIMATORS["median_confidence_interval"]


def test_a_group_without_events_stays_at_one_with_nothing_estimable():
    group = SurvivalGroup("all censored", durations=(3, 5, 7), events=(False, False, False))
    summary = kaplan_meier(group, at_risk_times=(0, 5))
    assert (summary.n, summary.events) == (3, 0)
    assert set(summary.survival) == {1.0}
    assert (summary.median, summary.median_ci_lower, summary.median_ci_upper) == (None, None, None)
    assert summary.numbers_at_risk == (3, 2)


def test_an_empty_group_has_no_curve_and_no_median():
    summary = kaplan_meier(SurvivalGroup("empty", durations=(), events=()), at_risk_times=(0, 12))
    assert (summary.n, summary.events, summary.median) == (0, 0, None)
    assert (summary.times, summary.survival, summary.ci_lower, summary.ci_upper) == ((), (), (), ())
    assert summary.numbers_at_risk == (0, 0)


def test_survival_at_reads_the_right_continuous_step_function():
    summary = kaplan_meier(MAINTAINED, at_risk_times=())
    # S(8.9) = 1 before the first event at 9; S(9) = 10/11 from 9 on; S(12.9) still 10/11
    assert summary.survival_at(8.9) == 1.0
    assert summary.survival_at(9) == pytest.approx(10 / 11)
    assert summary.survival_at(12.9) == pytest.approx(10 / 11)
    assert summary.survival_at(-1) == 1.0


def test_an_unknown_ci_method_is_rejected():
    with pytest.raises(ValueError, match="ci_method must be one of"):
        kaplan_meier(MAINTAINED, at_risk_times=(), ci_method="plain")


def test_a_group_with_mismatched_durations_and_events_is_rejected():
    with pytest.raises(ValueError, match="2 durations but 1 event indicators"):
        SurvivalGroup("bad", durations=(1, 2), events=(True,))


@pytest.mark.parametrize("duration", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_non_finite_duration_is_rejected(duration):
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        SurvivalGroup("bad", durations=(1.0, duration), events=(True, False))


def test_a_group_stores_lists_as_tuples_of_floats_and_bools():
    group = SurvivalGroup("lists", durations=[1, 2], events=[1, 0])
    assert (group.durations, group.events) == ((1.0, 2.0), (True, False))
