"""Exposure fairness of each experiment arm, from its logged impressions, with bootstrap intervals by user.

Exposure is position-weighted as in :mod:`shelfwise.metrics.fairness` (``1 / log2(1 + position)``), summed
over every impression of the arm. Per arm:

- ``gini_brand_exposure``: Gini of brand exposure over every brand of the catalogue (lower = fairer);
- ``gini_item_exposure``: Gini of item exposure over every item of the catalogue (never-shown items count 0);
- ``long_tail_share``: share of the exposure given to items outside the short head, the ``head_fraction`` most
  interacted-with items (clicks and purchases in the store; higher = more exposure for the tail).

Intervals: :func:`scipy.stats.bootstrap` over the arm's users: a resample draws users with replacement and the
statistic is computed from their summed exposure, so the interval reflects that one shopper's lists are
correlated. A Gini over a finite sample of users is biased upward (fewer users, more concentrated exposure),
and a resample, which repeats users, more so: measured on a spread arm of 200 users, the whole percentile
distribution lay above the sample's own Gini (so BCa is undefined there too). The value reported is therefore the
bootstrap bias-corrected estimate ``2 v - mean(v*)`` with the *basic* interval ``[2 v - q_hi, 2 v - q_lo]``
(both clipped to ``[0, 1]``): the policy's concentration with the finite-sample inflation removed, which also
makes arms of different sizes comparable to first order. The three metrics are compared treatment vs control by
their bootstrap standard errors; they form their own family for the multiple-testing adjustment (the decision
metrics keep theirs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.experiments.stats import Estimate, gini

__all__ = ["EXPOSURE_METRICS", "ExposureCatalogue", "exposure_estimates", "exposure_matrix"]

EXPOSURE_METRICS = ("gini_brand_exposure", "gini_item_exposure", "long_tail_share")


@dataclass(frozen=True)
class ExposureCatalogue:
    """The catalogue as the exposure metrics see it.

    Attributes:
        index: item id -> column of the exposure matrix.
        brand: int ``(n_items,)`` brand code per column (``-1`` unknown).
        n_brands: brands of the catalogue.
        tail: bool ``(n_items,)`` True for long-tail items.
        has_popularity: whether any interaction defined the head.
    """

    index: dict[str, int]
    brand: np.ndarray
    n_brands: int
    tail: np.ndarray
    has_popularity: bool

    @classmethod
    def from_tables(cls, items: pa.Table, events: pa.Table, head_fraction: float = 0.2) -> ExposureCatalogue:
        """From the items (``item_id``, ``brand``) and the interaction events (``item_id``)."""
        ids = [str(i) for i in items.column("item_id").to_pylist()]
        index = {i: n for n, i in enumerate(ids)}
        names = items.column("brand").to_pylist()
        brands = sorted({b for b in names if b})
        code = {b: n for n, b in enumerate(brands)}
        brand = np.array([code.get(b, -1) if b else -1 for b in names], dtype=np.int64)
        counts = np.zeros(len(ids), dtype=np.float64)
        for item in events.column("item_id").to_pylist():
            col = index.get(str(item)) if item is not None else None
            if col is not None:
                counts[col] += 1
        tail = np.ones(len(ids), dtype=bool)
        tail[np.argsort(-counts, kind="stable")[: round(head_fraction * len(ids))]] = False
        return cls(index, brand, len(brands), tail, bool(counts.sum() > 0))


def exposure_matrix(lists_by_user: list[list[list[str]]], catalogue: ExposureCatalogue) -> Any:
    """scipy CSR ``(users, items)``: position-weighted exposure each user's lists gave each item."""
    from scipy import sparse

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, lists in enumerate(lists_by_user):
        for ids in lists:
            for pos, item in enumerate(ids, start=1):
                col = catalogue.index.get(str(item))
                if col is not None:
                    rows.append(r)
                    cols.append(col)
                    vals.append(1.0 / np.log2(pos + 1.0))
    shape = (len(lists_by_user), max(1, len(catalogue.index)))
    return sparse.csr_matrix((vals, (rows, cols)), shape=shape)


def _statistics(catalogue: ExposureCatalogue) -> dict[str, Callable[[np.ndarray], float]]:
    known = catalogue.brand >= 0

    def brand_gini(e: np.ndarray) -> float:
        return gini(np.bincount(catalogue.brand[known], weights=e[known], minlength=catalogue.n_brands))

    def tail_share(e: np.ndarray) -> float:
        total = e.sum()
        return float(e[catalogue.tail].sum() / total) if total > 0 else float("nan")

    return {"gini_brand_exposure": brand_gini, "gini_item_exposure": gini, "long_tail_share": tail_share}


def exposure_estimates(
    matrix: Any,
    catalogue: ExposureCatalogue,
    alpha: float,
    seed: int = 0,
    resamples: int = 200,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Estimate]:
    """Each metric of :data:`EXPOSURE_METRICS` (those not in ``skip``) with its bootstrap interval over users."""
    from scipy.stats import bootstrap

    n = int(matrix.shape[0])
    out: dict[str, Estimate] = {}
    for k, (name, fn) in enumerate(_statistics(catalogue).items()):
        if name in skip or n == 0:
            out[name] = Estimate(float("nan"), float("nan"), float("nan"), float("nan"), n)
            continue

        def stat(users: np.ndarray, fn: Callable[[np.ndarray], float] = fn) -> float:
            return fn(np.asarray(matrix[users].sum(axis=0)).ravel())

        value = stat(np.arange(n))
        if n < 2:
            out[name] = Estimate(value, float("nan"), float("nan"), float("nan"), n)
            continue
        res = bootstrap(
            (np.arange(n),),
            stat,
            vectorized=False,
            n_resamples=resamples,
            confidence_level=1 - alpha,
            method="basic",
            rng=np.random.default_rng([seed, k]),
        )
        # bias-corrected: a resample repeats users, which concentrates exposure, and so does a finite sample
        value = float(np.clip(2 * value - np.mean(res.bootstrap_distribution), 0.0, 1.0))
        low, high = (float(np.clip(x, 0.0, 1.0)) for x in res.confidence_interval)
        out[name] = Estimate(value, float(res.standard_error), low, high, n)
    return out
