"""Power: the smallest effect an experiment can see now, and how many users it needs to see the planned one.

Both are the normal-approximation power formulas for two independent samples (the ones statsmodels'
``NormalIndPower`` solves numerically; a test checks they agree), on the standardised effect ``d = effect / sd``,
where ``sd`` is the per-user standard deviation implied by the comparison's standard error and arm sizes::

    d   = (z(1 - alpha / 2) + z(power)) * sqrt(1 / n_control + 1 / n_treatment)
    n_c = (z(1 - alpha / 2) + z(power))^2 * (1 + 1 / ratio) / d^2

The closed forms are used because the numerical solver fails to converge for small arms. They are shown beside every comparison so that "not significant" reads
as "could not have seen less than X", and so that no verdict is read before the sample can support one.

Example:
    >>> round(minimum_detectable_effect(se=0.01, n_control=1000, n_treatment=1000, alpha=0.05, power=0.8), 4)
    0.028
"""

from __future__ import annotations

import math


def per_user_sd(se: float, n_control: int, n_treatment: int) -> float:
    """The per-user standard deviation that gives standard error ``se`` for arms of these sizes."""
    if n_control < 1 or n_treatment < 1 or not math.isfinite(se):
        return math.nan
    return se / math.sqrt(1.0 / n_control + 1.0 / n_treatment)


def minimum_detectable_effect(
    se: float, n_control: int, n_treatment: int, alpha: float, power: float
) -> float:
    """The absolute effect a two-sided test at ``alpha`` detects with probability ``power`` at these sizes."""
    sd = per_user_sd(se, n_control, n_treatment)
    if not math.isfinite(sd) or sd <= 0 or n_control < 2 or n_treatment < 2:
        return math.nan
    return _z_sum(alpha, power) * math.sqrt(1.0 / n_control + 1.0 / n_treatment) * sd


def _z_sum(alpha: float, power: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power))


def required_users(effect: float, sd: float, alpha: float, power: float, ratio: float = 1.0) -> int | None:
    """Users of the control arm needed to detect ``effect`` (absolute) with ``power``; None if unknown."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or effect == 0 or sd <= 0 or ratio <= 0:
        return None
    d = abs(effect) / sd
    return math.ceil(_z_sum(alpha, power) ** 2 * (1.0 + 1.0 / ratio) / (d * d))
