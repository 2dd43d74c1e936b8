"""Cox hazard ratio, checked against R's coxph on the AML maintenance data, and the inputs for which
it is not estimable."""
import warnings

import pytest
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning

from registry.reports import statistics
from registry.reports.statistics import ESTIMATORS, SurvivalGroup, cox_hazard_ratio

from .reference_data import MAINTAINED, NONMAINTAINED


def test_aml_hazard_ratio_matches_r_coxph_with_efron_ties():
    # R: coxph(Surv(time, status) ~ x, data = aml) (Efron ties, R's default) prints
    #   xNonmaintained coef 0.9155  exp(coef) 2.4981  se(coef) 0.5119  z 1.788  p 0.0737
    # (doaml.Rout.save prints the same fit, method = "efron", as 0.916 / 2.5 / 0.512 / 0.074).
    # 95 % CI exp(0.9155 ± 1.959964·0.5119) = 0.916 to 6.81 (summary(): lower .95 0.9159,
    # upper .95 6.813). Tolerance: half a unit of the last printed digit.
    result = cox_hazard_ratio(NONMAINTAINED, MAINTAINED)
    assert (result.group_label, result.reference_label) == ("Nonmaintained", "Maintained")
    assert result.ties == "efron"
    assert result.log_hazard_ratio == pytest.approx(0.9155, abs=5e-5)
    assert result.standard_error == pytest.approx(0.5119, abs=5e-5)
    assert result.hazard_ratio == pytest.approx(2.4981, abs=5e-5)
    assert result.ci_lower == pytest.approx(0.9159, abs=5e-5)
    assert result.ci_upper == pytest.approx(6.813, abs=5e-4)
    assert result.p_value == pytest.approx(0.0737, abs=5e-5)
    assert (result.not_estimable_reason, result.fit_warnings) == (None, ())


def test_hazard_ratio_is_of_the_first_group_relative_to_the_second():
    # swapping the groups inverts the hazard ratio and its interval; the Wald p is unchanged
    forward = cox_hazard_ratio(NONMAINTAINED, MAINTAINED)
    reverse = cox_hazard_ratio(MAINTAINED, NONMAINTAINED)
    assert reverse.hazard_ratio == pytest.approx(1 / forward.hazard_ratio, rel=1e-6)
    assert (reverse.ci_lower, reverse.ci_upper) == pytest.approx(
        (1 / forward.ci_upper, 1 / forward.ci_lower), rel=1e-6)
    assert reverse.p_value == pytest.approx(forward.p_value, rel=1e-6)


def test_estimator_text_names_efron_ties_and_the_wald_interval():
    assert "Efron" in ESTIMATORS["cox_hazard_ratio"]
    assert "Wald" in ESTIMATORS["cox_hazard_ratio"]


NOT_ESTIMABLE = [
    ("a group without events",
     SurvivalGroup("treated", durations=(1, 2, 3), events=(True, True, True)),
     SurvivalGroup("control", durations=(4, 5, 6), events=(False, False, False)),
     "no events in control"),
    ("an empty group",
     SurvivalGroup("treated", durations=(1, 2), events=(True, True)),
     SurvivalGroup("control", durations=(), events=()),
     "control has no patients"),
    # treated's events at 1, 2 have control at risk, but control's events at 10, 11 happen after
    # every treated patient has left follow-up: the likelihood keeps rising with the hazard ratio
    ("complete separation",
     SurvivalGroup("treated", durations=(1, 2), events=(True, True)),
     SurvivalGroup("control", durations=(10, 11), events=(True, True)),
     "every event in control happens after follow-up in treated has ended"),
]


@pytest.mark.parametrize("case, group_a, group_b, reason", NOT_ESTIMABLE, ids=[c[0] for c in NOT_ESTIMABLE])
def test_hazard_ratio_is_not_estimable_when_the_likelihood_has_no_finite_maximum(
        case, group_a, group_b, reason, recwarn):
    result = cox_hazard_ratio(group_a, group_b)
    assert (result.hazard_ratio, result.ci_lower, result.ci_upper, result.p_value) == (None,) * 4
    assert (result.log_hazard_ratio, result.standard_error) == (None, None)
    assert result.not_estimable_reason == reason
    assert result.ties == "efron"
    assert len(recwarn) == 0  # lifelines is not even called: nothing to warn about


def test_a_small_overlapping_subgroup_is_estimable():
    # given treated events at 1, 2, 3 (control at risk) and a control event at 2.5 (treated at risk)
    treated = SurvivalGroup("treated", durations=(1, 2, 3), events=(True, True, True))
    control = SurvivalGroup("control", durations=(2.5, 10, 11), events=(True, False, False))
    result = cox_hazard_ratio(treated, control)
    assert result.not_estimable_reason is None
    assert result.hazard_ratio > 1
    assert result.ci_lower < result.hazard_ratio < result.ci_upper


class _WarningCoxPHFitter(CoxPHFitter):
    def fit(self, *args, **kwargs):
        warnings.warn("Newton-Raphson convergence completed successfully but norm(delta) is still high",
                      ConvergenceWarning)
        warnings.warn("an unrelated library deprecation", DeprecationWarning)
        return super().fit(*args, **kwargs)


def test_convergence_warnings_come_back_with_the_result_and_others_go_to_the_normal_filters(monkeypatch):
    monkeypatch.setattr(statistics, "CoxPHFitter", _WarningCoxPHFitter)
    with warnings.catch_warnings(record=True) as reissued:
        warnings.simplefilter("always")
        result = cox_hazard_ratio(NONMAINTAINED, MAINTAINED)
    assert result.hazard_ratio == pytest.approx(2.4981, abs=5e-5)
    assert result.fit_warnings == (
        "Newton-Raphson convergence completed successfully but norm(delta) is still high",)
    assert [(w.category, str(w.message)) for w in reissued] == [
        (DeprecationWarning, "an unrelated library deprecation")]


class _FailingCoxPHFitter(CoxPHFitter):
    def fit(self, *args, **kwargs):
        raise ConvergenceError("Convergence halted due to matrix inversion problems.")


def test_a_fit_that_lifelines_cannot_converge_is_not_estimable(monkeypatch):
    monkeypatch.setattr(statistics, "CoxPHFitter", _FailingCoxPHFitter)
    result = cox_hazard_ratio(NONMAINTAINED, MAINTAINED)
    assert result.hazard_ratio is None
    assert result.not_estimable_reason == (
        "the Cox model did not converge: Convergence halted due to matrix inversion problems.")
