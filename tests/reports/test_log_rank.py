"""Log-rank test, checked against R's survdiff on the AML maintenance data."""
import pytest

from registry.reports.statistics import SurvivalGroup, log_rank

from .reference_data import MAINTAINED, NONMAINTAINED


def test_aml_log_rank_matches_r_survdiff():
    # R: survdiff(Surv(time, status) ~ x, data = aml) prints
    #   Chisq= 3.4  on 1 degrees of freedom, p= 0.0653   (therneau/survival tests/doaml.Rout.save)
    result = log_rank(MAINTAINED, NONMAINTAINED)
    assert round(result.statistic, 1) == 3.4
    assert result.degrees_of_freedom == 1
    assert result.p_value == pytest.approx(0.0653, abs=5e-5)
    assert result.not_estimable_reason is None


def test_log_rank_does_not_depend_on_the_order_of_the_groups():
    assert log_rank(NONMAINTAINED, MAINTAINED).p_value == pytest.approx(
        log_rank(MAINTAINED, NONMAINTAINED).p_value, rel=1e-12)


def test_log_rank_without_any_event_is_not_estimable():
    censored_a = SurvivalGroup("a", durations=(1, 2), events=(False, False))
    censored_b = SurvivalGroup("b", durations=(3, 4), events=(False, False))
    result = log_rank(censored_a, censored_b)
    assert (result.statistic, result.p_value) == (None, None)
    assert result.not_estimable_reason == "no events in either group"


def test_log_rank_with_an_empty_group_is_not_estimable():
    result = log_rank(MAINTAINED, SurvivalGroup("empty subgroup", durations=(), events=()))
    assert (result.statistic, result.p_value) == (None, None)
    assert result.not_estimable_reason == "empty subgroup has no patients"
