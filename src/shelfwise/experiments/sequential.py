"""Always-valid inference: the mixture sequential probability ratio test (mSPRT) for a difference of means.

A dashboard is read every day; a fixed-horizon p-value read every day is wrong far more often than its alpha says
(10 looks at alpha 0.05 declare about one A/A test in five "significant"). The mSPRT of Johari, Koomen, Pekelis &
Walsh ("Always Valid Inference: Continuous Monitoring of A/B Tests", Operations Research 2022; the method behind
Optimizely's stats engine) gives a p-value and a confidence sequence that stay valid however often they are looked
at: by Ville's inequality, the chance that the mixture likelihood ratio ever crosses ``1 / alpha`` under the null
hypothesis is at most ``alpha``.

With a difference estimate ``d`` whose variance is ``V`` (the squared standard error, from the same delta-method or
Welch computation as the fixed-horizon test) and a normal mixing distribution ``N(0, tau^2)`` over the true effect::

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2)))
    p      = min(1, 1 / Lambda)
    CS     = d -+ sqrt(V (V + tau^2) / tau^2 * (2 log(1 / alpha) + log((V + tau^2) / V)))

``tau`` is the size of effect the test is tuned to find soonest; :func:`mixing_scale` sets it from the minimum
detectable effect the shop plans for, and :mod:`shelfwise.experiments.decision` keeps it at least at the standard
error the experiment has at its minimum sample (a mixture much narrower than the noise needs an enormous z-score
for any effect; one much wider costs only ``log(tau^2 / V)`` in the boundary). The test is exact for normal estimates and asymptotic here, as every
large-sample A/B test is.

Example:
    >>> p = always_valid_p(diff=0.0, se=0.01, tau=0.02)
    >>> p
    1.0
    >>> always_valid_p(diff=0.08, se=0.01, tau=0.02) < 0.001
    True
"""

from __future__ import annotations

import math


def _log_lambda(diff: float, var: float, tau2: float) -> float:
    return 0.5 * math.log(var / (var + tau2)) + tau2 * diff * diff / (2.0 * var * (var + tau2))


def always_valid_p(diff: float, se: float, tau: float) -> float:
    """The mSPRT p-value of ``H0: effect = 0`` (valid under continuous monitoring).

    Args:
        diff: treatment minus control.
        se: its standard error (finite and > 0; otherwise the evidence is undetermined and 1.0 is returned,
            except a non-zero difference with zero variance, which is certain: 0.0).
        tau: the mixing scale (> 0), in the units of ``diff``.
    """
    if not (math.isfinite(diff) and math.isfinite(se)) or tau <= 0:
        return 1.0
    if se == 0:
        return 0.0 if diff != 0 else 1.0
    log_lam = _log_lambda(diff, se * se, tau * tau)
    return 1.0 if log_lam <= 0 else math.exp(-log_lam)


def confidence_sequence(diff: float, se: float, tau: float, alpha: float) -> tuple[float, float]:
    """The always-valid ``1 - alpha`` interval of the effect around ``diff`` (the set of effects the mSPRT
    centred on them would not reject)."""
    if not (math.isfinite(diff) and math.isfinite(se)) or tau <= 0 or se <= 0:
        return (diff, diff) if se == 0 and math.isfinite(diff) else (-math.inf, math.inf)
    var, tau2 = se * se, tau * tau
    half = math.sqrt(var * (var + tau2) / tau2 * (2.0 * math.log(1.0 / alpha) + math.log((var + tau2) / var)))
    return diff - half, diff + half


def mixing_scale(control: float, mde: float, per_user_sd: float) -> float:
    """``tau``: the planned minimum detectable effect in absolute units (``mde`` x the control's value), or,
    when the control's value is 0, ``mde`` x the per-user standard deviation."""
    scale = abs(control) if math.isfinite(control) and control != 0 else per_user_sd
    return mde * scale if math.isfinite(scale) and scale > 0 else 0.0
