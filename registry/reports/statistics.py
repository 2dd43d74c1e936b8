"""The statistics of the study report: Fisher exact tests (Table 2) and two-group survival analyses.

Everything is computed by the libraries' own estimators - scipy for Fisher's exact test, lifelines
for Kaplan-Meier, the log-rank test and the Cox model. Two pieces of arithmetic are done here: the
log-transformed confidence band of R's survfit default (`ci_method="log"`), which lifelines does not
offer, built from the Greenwood variance of lifelines' own event table; and reading the median and
its confidence limits off the curves as R's survfit prints them (`survival_median`), which differs
from lifelines where a curve sits at exactly one half.

Conventions, the same as R's survival package so that a statistician can reproduce every number:

- Durations are months (any unit works; the report passes months), events True = event, False =
  censored. Confidence level 95 % (`CONFIDENCE_LEVEL`), normal quantile 1.959964.
- Malformed input (a negative or non-finite duration, mismatched lengths, an unknown CI method,
  more events than patients) raises ValueError. A statistic that the *data* leave undefined - an
  empty group, no events, a Cox likelihood without a finite maximum - is returned as None with
  `not_estimable_reason` saying why, so that a report on a small subgroup prints "NE" instead of
  crashing.
- `ESTIMATORS` (and `SURVIVAL_CI_METHODS`) describe each number in words for the report's methods
  footnote.
"""
from __future__ import annotations

import math
import sys
import warnings
from bisect import bisect_right
from dataclasses import dataclass
from typing import Literal, Sequence

import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from scipy.stats import fisher_exact, norm

CONFIDENCE_LEVEL = 0.95
_Z = float(norm.ppf(1 - (1 - CONFIDENCE_LEVEL) / 2))  # 1.959964, R's qnorm(0.975)

CIMethod = Literal["log", "log-log"]

# The transform of the pointwise confidence band of S(t), and so of the median's CI, which is read
# off that band. "log" is R survfit's default (conf.type="log"): the report's numbers then match a
# plain `survfit(Surv(time, status) ~ group)` and the published R output its tests are checked
# against (fixtures/reference/README.md). "log-log" is lifelines' own default (exponential
# Greenwood, R's conf.type="log-log"); it keeps the band inside (0, 1) and is available by name.
MEDIAN_CI_METHOD: CIMethod = "log"

SURVIVAL_CI_METHODS: dict[str, str] = {
    "log": (
        "Pointwise 95% confidence interval of S(t) on the log scale, exp(log S(t) ± 1.96·√V(t)), "
        "upper limit capped at 1, where V(t) = Σ d/(n(n−d)) over event times ≤ t is Greenwood's "
        "variance of log S(t) (R survfit's default, conf.type=\"log\"); undefined once S(t) = 0."
    ),
    "log-log": (
        "Pointwise 95% confidence interval of S(t) on the log(−log) scale (exponential Greenwood), "
        "S(t)^exp(±1.96·√V(t)/log S(t)) with Greenwood's V(t) (lifelines' KaplanMeierFitter "
        "default; R survfit conf.type=\"log-log\"); undefined once S(t) = 0."
    ),
}

ESTIMATORS: dict[str, str] = {
    "fisher_exact": (
        "Fisher's exact test on the 2×2 table (events / no events by group), two-sided: the sum of "
        "the hypergeometric probabilities of all tables with the observed margins that are no more "
        "probable than the observed table (scipy.stats.fisher_exact)."
    ),
    "survival_function": (
        "Kaplan-Meier product-limit estimate S(t) = Π (1 − d/n) over event times ≤ t "
        "(lifelines KaplanMeierFitter)."
    ),
    "survival_confidence_interval": SURVIVAL_CI_METHODS[MEDIAN_CI_METHOD],
    "median": (
        "Median survival as R's survfit prints it: the first time the Kaplan-Meier estimate is at "
        "or below 0.5, comparing with R's tolerance (√ε ≈ 1.5e-8, so a rounding error such as "
        "0.5000000000000001 counts as 0.5); where the estimate stays at 0.5 until a later drop, the "
        "midpoint between the time it reached 0.5 and the time of that drop; where the curve ends at "
        "0.5, the time it reached 0.5; \"not reached\" when the estimate stays above 0.5."
    ),
    "median_confidence_interval": (
        "95% CI of the median read off the pointwise confidence band of S(t) (Brookmeyer-Crowley "
        "style, as R's survfit), by the same rule as the median: the lower limit from the lower "
        "band, the upper limit from the upper band; not estimable (NE) when a band never reaches 0.5 "
        "during follow-up."
    ),
    "numbers_at_risk": (
        "Number at risk at time t: patients whose follow-up time is ≥ t, i.e. still under "
        "observation just before t (R summary.survfit's n.risk at t−0)."
    ),
    "log_rank": (
        "Log-rank (Mantel-Cox) test of equal survival in the two groups: chi-square statistic with "
        "1 degree of freedom and its p value (lifelines logrank_test; R survdiff, rho = 0)."
    ),
    "cox_hazard_ratio": (
        "Hazard ratio from a Cox proportional-hazards model with the group as a single binary "
        "covariate, fitted by maximum partial likelihood with Efron's method for tied event times "
        "(lifelines CoxPHFitter; R coxph's default). 95% CI exp(β ± 1.96·SE(β)) and the two-sided p "
        "value from the Wald statistic β/SE(β)."
    ),
}


def fisher_exact_two_sided(events_a: int, total_a: int, events_b: int, total_b: int) -> float:
    """Two-sided p of Fisher's exact test on [[events_a, total_a − events_a], [events_b, total_b − events_b]].

    Preconditions: 0 ≤ events ≤ total in each group (ValueError otherwise). An empty group leaves a
    single table with the observed margins, so p is 1.0.
    """
    for events, total in ((events_a, total_a), (events_b, total_b)):
        if not 0 <= events <= total:
            raise ValueError(f"events must be between 0 and the group's total, got {events} of {total}")
    table = [[events_a, total_a - events_a], [events_b, total_b - events_b]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class SurvivalGroup:
    """One group's time-to-event data: `durations` in months (≥ 0, finite), `events` True = event,
    False = censored, one per patient. Lists are accepted and stored as tuples."""

    label: str
    durations: tuple[float, ...]
    events: tuple[bool, ...]

    def __post_init__(self) -> None:
        durations = tuple(float(duration) for duration in self.durations)
        events = tuple(bool(event) for event in self.events)
        if len(durations) != len(events):
            raise ValueError(
                f"{self.label}: {len(durations)} durations but {len(events)} event indicators")
        for duration in durations:
            if not math.isfinite(duration) or duration < 0:
                raise ValueError(f"{self.label}: durations must be finite and ≥ 0, got {duration}")
        object.__setattr__(self, "durations", durations)
        object.__setattr__(self, "events", events)

    @property
    def n(self) -> int:
        return len(self.durations)

    @property
    def event_count(self) -> int:
        return sum(self.events)


@dataclass(frozen=True)
class KaplanMeierSummary:
    """A group's Kaplan-Meier curve and the numbers a report prints for it.

    `times`/`survival`/`ci_lower`/`ci_upper` are the step function (right-continuous: the value
    holds from that time until the next), starting at time 0 and including censoring times; a CI
    limit is None where it is undefined (once S(t) = 0). `median` is None when not reached,
    `median_ci_lower`/`_upper` None when not estimable. `numbers_at_risk[i]` is the number at risk
    at `at_risk_times[i]`. An empty group has n = 0 and empty step-function tuples.
    """

    label: str
    n: int
    events: int
    median: float | None
    median_ci_lower: float | None
    median_ci_upper: float | None
    ci_method: CIMethod
    times: tuple[float, ...]
    survival: tuple[float, ...]
    ci_lower: tuple[float | None, ...]
    ci_upper: tuple[float | None, ...]
    at_risk_times: tuple[float, ...]
    numbers_at_risk: tuple[int, ...]

    def survival_at(self, time: float) -> float:
        """S(time) from the step function (1.0 before the first step, or for an empty group)."""
        index = bisect_right(self.times, time) - 1
        return self.survival[index] if index >= 0 else 1.0


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of two groups; statistic and p_value are None when not estimable."""

    statistic: float | None
    degrees_of_freedom: int
    p_value: float | None
    not_estimable_reason: str | None = None


@dataclass(frozen=True)
class CoxResult:
    """Cox hazard ratio of `group_label` relative to `reference_label` (HR > 1: higher hazard in
    the group). Numeric fields are None when not estimable; `fit_warnings` holds the convergence and
    numerical warnings lifelines raised during the fit, for the report to footnote."""

    hazard_ratio: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    ties: str
    log_hazard_ratio: float | None
    standard_error: float | None
    group_label: str
    reference_label: str
    not_estimable_reason: str | None = None
    fit_warnings: tuple[str, ...] = ()


def numbers_at_risk(group: SurvivalGroup, at_risk_times: Sequence[float]) -> tuple[int, ...]:
    """Patients with follow-up ≥ t at each t (R's n.risk at t−0: an event or censoring at t counts)."""
    return tuple(sum(1 for duration in group.durations if duration >= time) for time in at_risk_times)


def kaplan_meier(
    group: SurvivalGroup, *, at_risk_times: Sequence[float], ci_method: CIMethod = MEDIAN_CI_METHOD,
) -> KaplanMeierSummary:
    """Kaplan-Meier estimate of one group, its median with 95 % CI and numbers at risk.

    `ci_method` chooses the pointwise band of S(t) the median's CI is read from (see
    `MEDIAN_CI_METHOD` and `SURVIVAL_CI_METHODS`): "log" matches R survfit's default output,
    "log-log" lifelines' own interval and R's conf.type="log-log".
    """
    if ci_method not in SURVIVAL_CI_METHODS:
        raise ValueError(f"ci_method must be one of {sorted(SURVIVAL_CI_METHODS)}, got {ci_method!r}")
    at_risk_times = tuple(float(time) for time in at_risk_times)
    at_risk = numbers_at_risk(group, at_risk_times)
    if group.n == 0:
        # lifelines refuses an empty sample; there is simply no curve.
        return KaplanMeierSummary(
            label=group.label, n=0, events=0, median=None, median_ci_lower=None, median_ci_upper=None,
            ci_method=ci_method, times=(), survival=(), ci_lower=(), ci_upper=(),
            at_risk_times=at_risk_times, numbers_at_risk=at_risk)

    fitter = KaplanMeierFitter(alpha=1 - CONFIDENCE_LEVEL).fit(
        list(group.durations), event_observed=list(group.events), label=group.label)
    times = tuple(float(time) for time in fitter.survival_function_.index)
    survival = tuple(float(value) for value in fitter.survival_function_.iloc[:, 0])
    if ci_method == "log-log":
        ci_lower, ci_upper = _lifelines_band(fitter, survival)
    else:
        ci_lower, ci_upper = _log_band(fitter, survival)

    return KaplanMeierSummary(
        label=group.label, n=group.n, events=group.event_count,
        median=survival_median(times, survival),
        # The lower band reaches 0.5 first, so it gives the lower limit of the median's CI.
        median_ci_lower=survival_median(times, ci_lower),
        median_ci_upper=survival_median(times, ci_upper),
        ci_method=ci_method, times=times, survival=survival, ci_lower=ci_lower, ci_upper=ci_upper,
        at_risk_times=at_risk_times, numbers_at_risk=at_risk)


def _lifelines_band(fitter: KaplanMeierFitter, survival: tuple[float, ...]):
    # lifelines' exponential Greenwood band; it reports (0, 0) where S(t) = 0, R reports NA. The
    # R convention is kept: a band of (0, 0) would put the median's upper limit at the last death.
    band = fitter.confidence_interval_survival_function_
    lower = tuple(None if s == 0 else float(v) for s, v in zip(survival, band.iloc[:, 0]))
    upper = tuple(None if s == 0 else float(v) for s, v in zip(survival, band.iloc[:, 1]))
    return lower, upper


def _log_band(fitter: KaplanMeierFitter, survival: tuple[float, ...]):
    # R survfit conf.type="log": exp(log S ± z·√V) with Greenwood's V = Σ d/(n(n−d)), summed over
    # lifelines' event table (one row per time of the step function, at_risk = n at t−0).
    lower: list[float | None] = []
    upper: list[float | None] = []
    greenwood = 0.0
    # Reindexed so that row i is the step function's time i whatever lifelines' table layout.
    table = fitter.event_table.reindex(fitter.survival_function_.index, fill_value=0)
    for s, at_risk, deaths in zip(survival, table["at_risk"], table["observed"]):
        at_risk, deaths = int(at_risk), int(deaths)
        if deaths and deaths >= at_risk:
            greenwood = math.inf  # S(t) = 0 from here on: the band is undefined, as R's NA
        elif deaths:
            greenwood += deaths / (at_risk * (at_risk - deaths))
        if s == 0 or math.isinf(greenwood):
            lower.append(None)
            upper.append(None)
        else:
            half_width = _Z * math.sqrt(greenwood)
            lower.append(s * math.exp(-half_width))
            upper.append(min(1.0, s * math.exp(half_width)))
    return tuple(lower), tuple(upper)


# R's sqrt(.Machine$double.eps): how close to 0.5 survfit's median rule counts as "at 0.5".
R_MEDIAN_TOLERANCE = math.sqrt(sys.float_info.epsilon)


def survival_median(times: Sequence[float], curve: Sequence[float | None]) -> float | None:
    """The median of the step curve `curve` (value from times[i] until times[i + 1]; None where
    undefined, R's NA) as R's survfit prints it; None where R prints NA (never at or below 0.5).

    The curve is S(t) for the median itself, the lower or upper band for its confidence limits.
    Precondition: `times` ascending, censoring times included (survfit's `time`).

    A port of `minmin` in survmean (therneau/survival R/print.survfit.R; Debian's r-cran-survival
    3.5), which gives print(fit) and summary(fit)$table their median, 0.95LCL and 0.95UCL. Among the
    defined points below 0.5 + tol (tol = √ε, so that a product like 0.5000000000000001 counts as
    0.5), take the first; if it is 0.5 within tol and the curve later drops below it, the median
    is the midpoint of that first time and the time of the drop; otherwise the first time itself,
    which is also the answer when the curve ends at 0.5.
    (quantile.survfit, R/quantile.survfit.R, agrees but for a curve that ends at 0.5: it takes the
    midpoint between the flat's start and the last follow-up time. The report follows what
    survfit prints.)
    """
    if len(times) != len(curve):
        raise ValueError(f"{len(times)} times but {len(curve)} curve values")
    tolerance = R_MEDIAN_TOLERANCE
    kept = [(float(time), value) for time, value in zip(times, curve)
            if value is not None and value < 0.5 + tolerance]
    if not kept:
        return None
    first_time, first_value = kept[0]
    if abs(first_value - 0.5) < tolerance:
        drop = next((time for time, value in kept if value < first_value), None)
        if drop is not None:
            return (first_time + drop) / 2
    return first_time


def log_rank(group_a: SurvivalGroup, group_b: SurvivalGroup) -> LogRankResult:
    """Log-rank test of group_a against group_b (chi-square, 1 df; symmetric in the two groups).

    Not estimable (None, with a reason) when a group is empty or neither group has an event.
    """
    for group in (group_a, group_b):
        if group.n == 0:
            return LogRankResult(None, 1, None, f"{group.label} has no patients")
    if group_a.event_count + group_b.event_count == 0:
        return LogRankResult(None, 1, None, "no events in either group")
    result = logrank_test(
        list(group_a.durations), list(group_b.durations),
        event_observed_A=list(group_a.events), event_observed_B=list(group_b.events))
    return LogRankResult(
        statistic=float(result.test_statistic), degrees_of_freedom=int(result.degrees_of_freedom),
        p_value=float(result.p_value))


def cox_hazard_ratio(group_a: SurvivalGroup, group_b: SurvivalGroup) -> CoxResult:
    """Hazard ratio of group_a relative to group_b (covariate 1 = group_a, 0 = group_b) from a Cox
    model fitted by lifelines (Efron ties), with its Wald 95 % CI and p value.

    Not estimable (None fields, with a reason) when the partial likelihood has no finite maximum:
    with one binary covariate that is exactly when no group_a event happens while a group_b patient
    is at risk, or no group_b event while a group_a patient is at risk - which covers an empty
    group, a group without events and complete separation. lifelines would "converge" to a huge
    coefficient with a meaningless CI there. Convergence warnings lifelines still raises are caught
    around this one fit (not silenced globally) and returned in `fit_warnings`; note that
    `warnings.catch_warnings` itself is not thread-safe in Python 3.11.
    """
    def not_estimable(reason: str, caught: tuple[str, ...] = ()) -> CoxResult:
        return CoxResult(
            hazard_ratio=None, ci_lower=None, ci_upper=None, p_value=None, ties="efron",
            log_hazard_ratio=None, standard_error=None, group_label=group_a.label,
            reference_label=group_b.label, not_estimable_reason=reason, fit_warnings=caught)

    reason = _cox_not_estimable_reason(group_a, group_b)
    if reason is not None:
        return not_estimable(reason)

    data = pd.DataFrame({
        "duration": group_a.durations + group_b.durations,
        "event": group_a.events + group_b.events,
        "in_group_a": [1] * group_a.n + [0] * group_b.n,
    })
    fitter, failure = None, None
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            fitter = CoxPHFitter(alpha=1 - CONFIDENCE_LEVEL).fit(
                data, duration_col="duration", event_col="event")
        except ConvergenceError as error:
            failure = f"the Cox model did not converge: {error}"
    caught = _keep_numerical_warnings(raised)
    if fitter is None:
        return not_estimable(failure, caught)

    row = fitter.summary.loc["in_group_a"]
    return CoxResult(
        hazard_ratio=float(row["exp(coef)"]),
        ci_lower=float(row[f"exp(coef) lower {CONFIDENCE_LEVEL:.0%}"]),
        ci_upper=float(row[f"exp(coef) upper {CONFIDENCE_LEVEL:.0%}"]),
        p_value=float(row["p"]),
        ties="efron",  # lifelines' CoxPHFitter implements Efron's method only
        log_hazard_ratio=float(row["coef"]),
        standard_error=float(row["se(coef)"]),
        group_label=group_a.label, reference_label=group_b.label, fit_warnings=caught)


def _cox_not_estimable_reason(group_a: SurvivalGroup, group_b: SurvivalGroup) -> str | None:
    # The log partial likelihood is concave in β. It falls to −∞ as β → −∞ only through a group_a
    # event with group_b patients at risk, and as β → +∞ only through a group_b event with group_a
    # patients at risk (Efron's tied-event terms included); without either, β̂ is infinite.
    for group in (group_a, group_b):
        if group.n == 0:
            return f"{group.label} has no patients"
        if group.event_count == 0:
            return f"no events in {group.label}"

    def has_event_while_other_at_risk(group: SurvivalGroup, other: SurvivalGroup) -> bool:
        longest_other = max(other.durations)
        return any(event and duration <= longest_other
                   for duration, event in zip(group.durations, group.events))

    if not has_event_while_other_at_risk(group_a, group_b):
        return f"every event in {group_a.label} happens after follow-up in {group_b.label} has ended"
    if not has_event_while_other_at_risk(group_b, group_a):
        return f"every event in {group_b.label} happens after follow-up in {group_a.label} has ended"
    return None


def _keep_numerical_warnings(raised: list[warnings.WarningMessage]) -> tuple[str, ...]:
    # Convergence and floating-point warnings describe this fit: return them with the result. Any
    # other warning (a library deprecation, say) is for developers: hand it back to the normal
    # filters.
    kept = []
    for warning in raised:
        if issubclass(warning.category, (ConvergenceWarning, RuntimeWarning)):
            kept.append(" ".join(str(warning.message).split()))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return tuple(kept)
