"""What an experiment report may say: a verdict per comparison, never read before the sample can support it.

For every treatment-vs-control comparison (from :mod:`shelfwise.experiments.stats`):

1. **Minimum sample.** Below ``min_users_per_arm`` users in either arm, or with an undetermined standard error,
   the verdict is ``insufficient data`` and nothing is significant, whatever the numbers look like (an arm of one
   user has no variance, so any difference would otherwise look certain).
2. **Power.** The minimum detectable effect at the current sizes (``mde``) and the users per arm needed to detect
   the planned relative effect ``min_detectable_effect`` (``required_users_per_arm``), from statsmodels' power
   analysis (:mod:`shelfwise.experiments.power`), are reported beside every comparison.
3. **Peeking.** With ``inference = "sequential"`` (default) the p-value and interval are always valid
   (:mod:`shelfwise.experiments.sequential`): the report can be read every day. With ``inference = "fixed"`` the
   fixed-horizon test is only read once the planned sample is reached; before that the verdict is
   ``collecting`` and nothing is significant.
4. **Several metrics.** The p-values of all comparisons of one experiment are adjusted together
   (``correction``: Holm by default, Benjamini-Hochberg, or none; statsmodels ``multipletests``), and
   ``significant`` uses the adjusted value.

Example:
    >>> import numpy as np
    >>> from shelfwise.experiments.stats import compare_means
    >>> c = compare_means("revenue", np.array([1.0]), np.array([2.0]))
    >>> decide([c], DecisionSettings())[0].verdict
    'insufficient data: 1 of 100 users per arm'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from shelfwise.experiments.power import minimum_detectable_effect, per_user_sd, required_users
from shelfwise.experiments.sequential import always_valid_p, confidence_sequence, mixing_scale
from shelfwise.experiments.stats import Comparison

Inference = Literal["sequential", "fixed"]
Correction = Literal["holm", "fdr_bh", "none"]


@dataclass(frozen=True)
class DecisionSettings:
    """How verdicts are reached (mirrors :class:`~shelfwise.experiments.config.ExperimentSettings`)."""

    alpha: float = 0.05
    power: float = 0.8
    min_detectable_effect: float = 0.05
    min_users_per_arm: int = 100
    inference: Inference = "sequential"
    correction: Correction = "holm"


def _assess(c: Comparison, s: DecisionSettings) -> tuple[Comparison, bool]:
    """One comparison with power figures and its (unadjusted) p-value; True when it may be judged."""
    n = min(c.n_control, c.n_treatment)
    sd = per_user_sd(c.se, c.n_control, c.n_treatment)
    mde = minimum_detectable_effect(c.se, c.n_control, c.n_treatment, s.alpha, s.power)
    planned = s.min_detectable_effect * abs(c.control) if math.isfinite(c.control) and c.control else math.nan
    ratio = c.n_treatment / c.n_control if c.n_control else 1.0
    needed = required_users(planned, sd, s.alpha, s.power, ratio) if math.isfinite(planned) else None
    c = replace(c, mde=mde, required_users_per_arm=needed, inference=s.inference)
    if n < s.min_users_per_arm or not math.isfinite(c.se):
        short = f"insufficient data: {n} of {s.min_users_per_arm} users per arm"
        return replace(c, verdict=short, significant=False, p_value=1.0), False
    if s.inference == "sequential":
        # the mixture is tuned to the planned effect, but never narrower than the standard error at the minimum
        # sample: a mixture much narrower than the noise would need an enormous z for any effect
        floor = sd * math.sqrt(2.0 / s.min_users_per_arm) if math.isfinite(sd) else 0.0
        tau = max(mixing_scale(c.control, s.min_detectable_effect, sd), floor)
        low, high = confidence_sequence(c.diff, c.se, tau, s.alpha)
        return replace(c, p_value=always_valid_p(c.diff, c.se, tau), low=low, high=high), True
    horizon = max(s.min_users_per_arm, needed or 0)
    if n < horizon:
        return replace(
            c, verdict=f"collecting: {n} of {horizon} planned users per arm", significant=False
        ), False
    return replace(c, p_value=c.p_fixed_horizon), True


def decide(comparisons: list[Comparison], settings: DecisionSettings) -> list[Comparison]:
    """Verdicts for all comparisons of one experiment (see the module docstring)."""
    assessed = [_assess(c, settings) for c in comparisons]
    judged = [i for i, (_, ok) in enumerate(assessed) if ok]
    adjusted: dict[int, float] = {}
    if judged:
        pvals = [assessed[i][0].p_value for i in judged]
        if settings.correction == "none":
            adjusted = dict(zip(judged, pvals, strict=True))
        else:
            from statsmodels.stats.multitest import multipletests

            _, corrected, _, _ = multipletests(pvals, alpha=settings.alpha, method=settings.correction)
            adjusted = {i: float(p) for i, p in zip(judged, corrected, strict=True)}
    out = []
    for i, (c, _) in enumerate(assessed):
        if i not in adjusted:
            out.append(c)
            continue
        significant = adjusted[i] < settings.alpha
        word = "significant" if significant else "not significant"
        if not significant and settings.inference == "sequential":
            word = "not significant yet"
        out.append(replace(c, p_adjusted=adjusted[i], significant=significant, verdict=word))
    return out
