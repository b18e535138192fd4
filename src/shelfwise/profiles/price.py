"""Consumption power: an item's price percentile within its category, and a user's price band.

A price means little across categories (a cheap blender costs more than a dear lipstick), so each item
gets the mid-rank percentile of its price among the priced items of its own category (0-100; items
without a category form one group). A user's price band is read from a weighted histogram of the
percentiles of the items they interacted with: the *typical* percentile is its weighted median
(robust to the odd outlier purchase), shown as a 20-point band ("60-80th") and a tier (budget below the
33rd percentile, premium from the 67th).

Example:
    >>> import numpy as np
    >>> pct = percentile_in_category(np.array([1.0, 2.0, 3.0, 10.0]), np.array([0, 0, 0, 1]))
    >>> [round(float(p), 1) for p in pct]
    [16.7, 50.0, 83.3, 50.0]
    >>> band_label(67.0), price_tier(67.0)
    ('60-80th', 'premium')
"""

from __future__ import annotations

from typing import Final

import numpy as np

#: Tier names of the typical percentile: [0, 33.3) budget, [33.3, 66.7) mid, [66.7, 100] premium.
TIERS: Final[tuple[str, ...]] = ("budget", "mid", "premium")


def percentile_in_category(price: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Mid-rank percentile (0-100) of each item's price among the priced items of its category.

    Args:
        price: float ``(n,)``, NaN where unknown (non-positive prices count as unknown).
        category: int ``(n,)`` category codes, ``-1`` = none (one group of its own).

    Returns:
        float32 ``(n,)``; NaN where the price is unknown.
    """
    price = np.asarray(price, dtype=np.float64)
    category = np.asarray(category, dtype=np.int64)
    out = np.full(price.shape, np.nan, dtype=np.float32)
    known = np.isfinite(price) & (price > 0)
    for cat in np.unique(category[known]):
        rows = np.flatnonzero(known & (category == cat))
        values = np.sort(price[rows])
        below = np.searchsorted(values, price[rows], side="left")
        equal = np.searchsorted(values, price[rows], side="right") - below
        out[rows] = 100.0 * (below + 0.5 * equal) / rows.size
    return out


def bin_of(percentile: float, n_bins: int) -> int:
    """Histogram bin of a percentile in ``[0, 100]`` (100 falls in the last bin)."""
    return min(int(percentile * n_bins / 100.0), n_bins - 1)


def bins_of(percentiles: np.ndarray, n_bins: int) -> np.ndarray:
    """Vectorised :func:`bin_of` (int64)."""
    return np.minimum((np.asarray(percentiles) * n_bins / 100.0).astype(np.int64), n_bins - 1)


def weighted_median(hist: np.ndarray) -> float | None:
    """The median percentile of a histogram over ``[0, 100]`` (linear inside the median bin).

    Returns:
        ``None`` for an empty histogram.
    """
    hist = np.asarray(hist, dtype=np.float64)
    total = float(hist.sum())
    if total <= 0:
        return None
    width = 100.0 / hist.size
    cum = np.cumsum(hist)
    b = int(np.searchsorted(cum, total / 2.0))
    before = float(cum[b - 1]) if b > 0 else 0.0
    inside = (total / 2.0 - before) / float(hist[b]) if hist[b] > 0 else 0.5
    return float(min(max(width * (b + inside), 0.0), 100.0))


def band_label(percentile: float) -> str:
    """A decile-aligned 20-point band around a percentile: 67 -> ``"60-80th"``, 5 -> ``"0-20th"``."""
    start = int(np.clip(round(percentile / 10.0) * 10 - 10, 0, 80))
    return f"{start}-{start + 20}th"


def price_tier(percentile: float) -> str:
    """``budget`` / ``mid`` / ``premium`` of a typical percentile."""
    return TIERS[min(int(percentile * 3 / 100.0), 2)]
