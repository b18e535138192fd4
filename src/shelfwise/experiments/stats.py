"""Statistics of an A/B comparison: confidence intervals, two-sample tests, ratio metrics, SRM.

Users are the unit of randomisation, so every metric is computed from per-user values: plain means for
per-user metrics (revenue per user, conversion), the delta method for ratios of sums (CTR = clicks /
impressions, where a user's impressions are correlated), and a bootstrap over users for list-level metrics
with no closed form (brand-exposure fairness).

The tests come from maintained libraries: Welch's t-test and its interval from statsmodels
(``CompareMeans``) for means, a normal test (scipy) on delta-method or bootstrap standard errors otherwise.
These are fixed-horizon figures; what a reader is told (a verdict, the always-valid p-value, the multiple-metric
correction, the minimum sample and power) is decided in :mod:`shelfwise.experiments.decision`.

Example:
    >>> import numpy as np
    >>> e = mean_estimate(np.array([1.0, 2.0, 3.0]))
    >>> round(e.value, 3), e.low < e.value < e.high
    (2.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


def _p_two_sided(z: float) -> float:
    from scipy.stats import norm

    return float(2.0 * norm.sf(abs(z))) if math.isfinite(z) else 0.0


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and a (1 - alpha) confidence interval."""

    value: float
    se: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, rounded; a value that cannot be computed is None."""
        return {k: _json_float(v) for k, v in asdict(self).items()}


def _json_float(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 6) if math.isfinite(v) else None
    return v


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control with a CI and a two-sided p-value."""

    metric: str
    control: float
    treatment: float
    diff: float
    rel_diff: float | None
    low: float
    high: float
    p_value: float
    significant: bool
    se: float = math.nan
    n_control: int = 0
    n_treatment: int = 0
    verdict: str = ""
    p_fixed_horizon: float = math.nan
    p_adjusted: float = math.nan
    mde: float = math.nan
    required_users_per_arm: int | None = None
    inference: str = "fixed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, rounded; ``effect`` and ``interval`` name the difference and its interval."""
        out = {k: _json_float(v) for k, v in asdict(self).items()}
        out["effect"] = out["diff"]
        out["interval"] = [out["low"], out["high"]]
        return out


def _estimate(value: float, se: float, n: int, alpha: float) -> Estimate:
    z = _z(alpha)
    return Estimate(float(value), float(se), float(value - z * se), float(value + z * se), int(n))


def mean_estimate(x: np.ndarray, alpha: float = 0.05) -> Estimate:
    """Mean of per-user values with a normal CI."""
    n = len(x)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return _estimate(float(np.mean(x)), se, n, alpha)


def ratio_estimate(num: np.ndarray, den: np.ndarray, alpha: float = 0.05) -> Estimate:
    """``sum(num) / sum(den)`` over users, with the delta-method standard error."""
    n = len(num)
    if n == 0 or den.sum() == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), n)
    return _estimate(float(num.sum() / den.sum()), _ratio_se(num, den), n, alpha)


def _ratio_se(num: np.ndarray, den: np.ndarray) -> float:
    n = len(num)
    if n < 2:
        return float("inf")
    mx, my = num.mean(), den.mean()
    r = mx / my
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (my * my * n)
    return float(math.sqrt(max(var, 0.0)))


def _compare(metric: str, a: Estimate, b: Estimate, alpha: float) -> Comparison:
    """A normal test of ``b - a`` from the two standard errors. An undetermined error (an arm of one user:
    infinite; NaN) gives p = 1 and no significance; a zero error is a certain difference only when both arms
    have at least two users and the values differ."""
    diff = b.value - a.value
    se = math.sqrt(a.se**2 + b.se**2)
    if not math.isfinite(se) or not math.isfinite(diff):
        p, low, high = 1.0, -math.inf, math.inf
    elif se == 0:
        certain = diff != 0 and min(a.n, b.n) >= 2
        p, low, high = (0.0 if certain else 1.0), diff, diff
    else:
        p = _p_two_sided(diff / se)
        zc = _z(alpha)
        low, high = diff - zc * se, diff + zc * se
    rel = diff / a.value if a.value not in (0.0,) and math.isfinite(a.value) else None
    return Comparison(
        metric, a.value, b.value, diff, rel, low, high, p, p < alpha, se, a.n, b.n, p_fixed_horizon=p
    )


def compare_means(metric: str, control: np.ndarray, treatment: np.ndarray, alpha: float = 0.05) -> Comparison:
    """Welch's t-test of two means of per-user values (statsmodels ``CompareMeans``, unequal variances)."""
    a, b = mean_estimate(control, alpha), mean_estimate(treatment, alpha)
    if len(control) < 2 or len(treatment) < 2:
        return _compare(metric, a, b, alpha)
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    cm = CompareMeans(DescrStatsW(np.asarray(treatment, float)), DescrStatsW(np.asarray(control, float)))
    se = float(cm.std_meandiff_separatevar)
    if se == 0 or not math.isfinite(se):
        return _compare(metric, a, b, alpha)
    _, p, _ = cm.ttest_ind(usevar="unequal")
    low, high = cm.tconfint_diff(alpha=alpha, usevar="unequal")
    diff = b.value - a.value
    rel = diff / a.value if a.value != 0.0 and math.isfinite(a.value) else None
    return Comparison(
        metric, a.value, b.value, diff, rel, float(low), float(high), float(p), float(p) < alpha,
        se, a.n, b.n, p_fixed_horizon=float(p),
    )


def compare_ratios(
    metric: str,
    control: tuple[np.ndarray, np.ndarray],
    treatment: tuple[np.ndarray, np.ndarray],
    alpha: float = 0.05,
) -> Comparison:
    """Comparison of two ratio metrics (each ``(num, den)`` per user) with delta-method errors."""
    return _compare(metric, ratio_estimate(*control, alpha), ratio_estimate(*treatment, alpha), alpha)


def bootstrap_estimate(
    stat: Callable[[np.ndarray], float],
    n_units: int,
    *,
    alpha: float = 0.05,
    resamples: int = 200,
    seed: int = 0,
    draw_size: int | None = None,
) -> Estimate:
    """A statistic of weighted units and its bootstrap CI.

    ``stat(weights)`` receives a weight per unit (multinomial counts of a resample) and returns the statistic.
    With ``draw_size``, every resample draws that many units (e.g. the smaller arm's size, so that a statistic
    that grows with the sample, like catalogue-wide exposure, compares arms of different sizes fairly) and the
    value is the mean over resamples; without it, resamples are of ``n_units`` and the value is ``stat`` of the
    observed sample.
    """
    if n_units == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    m = draw_size or n_units
    draws = np.array(
        [stat(rng.multinomial(m, np.full(n_units, 1.0 / n_units)).astype(float)) for _ in range(resamples)]
    )
    value = float(draws.mean()) if draw_size else stat(np.ones(n_units))
    se = float(np.std(draws, ddof=1)) if resamples > 1 else float("inf")
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(value), se, float(lo), float(hi), n_units)


def compare_bootstrap(metric: str, a: Estimate, b: Estimate, alpha: float = 0.05) -> Comparison:
    """Compare two bootstrap estimates by their standard errors (normal approximation)."""
    return _compare(metric, a, b, alpha)


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio-mismatch check: observed users per arm against the configured shares."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "chi2": round(self.chi2, 4), "p_value": round(self.p_value, 6)}


def sample_ratio_check(
    observed: dict[str, int], shares: dict[str, float], alpha: float = 0.001
) -> SampleRatio:
    """Chi-square goodness of fit of users per arm to the shares; ``passed`` unless ``p < alpha``."""
    from scipy.stats import chi2 as chi2_dist

    total = sum(observed.values())
    names = list(shares)
    if total == 0:
        return SampleRatio(observed, {n: 0.0 for n in names}, 0.0, 1.0, True)
    expected = {n: shares[n] * total for n in names}
    stat = sum((observed.get(n, 0) - expected[n]) ** 2 / expected[n] for n in names if expected[n] > 0)
    p = float(chi2_dist.sf(stat, max(1, len(names) - 1)))
    return SampleRatio(
        dict(observed), {n: round(v, 2) for n, v in expected.items()}, float(stat), p, p >= alpha
    )


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, -> 1 = concentrated)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)
