"""Differentially private counts with OpenDP: contribution bounding, then the Laplace mechanism.

A release of counts (per item, per category, per day) is epsilon-DP with respect to adding or removing one
shopper when each shopper contributes at most ``max_contributions`` events: removing a shopper then changes the
count vector by at most ``max_contributions`` in L1 distance, and OpenDP's vector Laplace mechanism
(``make_laplace`` on ``vector_domain(atom_domain(int))`` with ``l1_distance``) calibrated by
``binary_search_param`` to ``d_in = max_contributions, d_out = epsilon`` gives the guarantee. The noise comes from
OpenDP's sampler (floating-point-safe, discrete); nothing here draws noise itself.

The keys counted (item ids, categories, days) must come from a public domain - the catalogue, a calendar - never
from the private data, or the presence of a key would leak; :func:`dp_counts` therefore takes the domain.

Example:
    >>> import numpy as np
    >>> users = np.array([0, 0, 0, 1, 2]); keys = np.array([1, 1, 2, 0, 1])
    >>> noisy = dp_counts(users, keys, domain_size=3, epsilon=1.0, max_contributions=2, seed=0)
    >>> noisy.shape, bool((noisy >= 0).all())
    ((3,), True)
"""

from __future__ import annotations

import numpy as np


def bound_contributions(users: np.ndarray, max_contributions: int, seed: int | None = None) -> np.ndarray:
    """Indices of the rows kept when each user keeps at most ``max_contributions`` of their rows, chosen at
    random (``seed`` fixes the choice; the DP guarantee does not depend on it)."""
    users = np.asarray(users)
    if users.size == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(users.size), users))  # users grouped, random order inside a user
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(sorted_users[1:] != sorted_users[:-1]) + 1]
    rank = np.arange(users.size) - np.repeat(starts, np.diff(np.r_[starts, users.size]))
    return np.sort(order[rank < max_contributions])


def laplace_scale(epsilon: float, sensitivity: int) -> float:
    """The Laplace scale OpenDP certifies for ``epsilon`` at L1 sensitivity ``sensitivity``."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return float(
        dp.binary_search_param(lambda s: space >> dp.m.then_laplace(scale=s), d_in=sensitivity, d_out=epsilon)
    )


def noisy_vector(counts: np.ndarray, epsilon: float, sensitivity: int) -> np.ndarray:
    """``counts`` (integers) through OpenDP's vector Laplace mechanism; the privacy map is checked, not assumed."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    meas = space >> dp.m.then_laplace(scale=laplace_scale(epsilon, sensitivity))
    if meas.map(sensitivity) > epsilon * (1 + 1e-9):
        raise ValueError(f"OpenDP certifies {meas.map(sensitivity)} > epsilon {epsilon}")
    return np.asarray(meas([int(c) for c in counts]), dtype=np.int64)


def dp_counts(
    users: np.ndarray,
    keys: np.ndarray,
    domain_size: int,
    epsilon: float,
    max_contributions: int,
    seed: int | None = None,
) -> np.ndarray:
    """Epsilon-DP counts of ``keys`` (codes in ``[0, domain_size)``, one per event of ``users[i]``), each user's
    contribution bounded first; negative noisy counts are clipped to 0 (post-processing keeps the guarantee)."""
    keep = bound_contributions(users, max_contributions, seed)
    exact = np.bincount(np.asarray(keys)[keep], minlength=domain_size)[:domain_size]
    if not np.isfinite(epsilon):
        return exact.astype(np.int64)
    return np.maximum(noisy_vector(exact, epsilon, max_contributions), 0)
