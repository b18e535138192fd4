"""Read-time views of a state: the short-term window, vector blends, normalised distributions.

The short-term (session) vector is computed from the recent window only when read: inside the window an
event's weight is its type weight times ``2**(-k / h_events - (t_newest - t) / h_time)``, ``k`` = events
after it. With real timestamps a long pause empties the window's weight (a new session); with order-only
data (Amazon Beauty) it is an average of the last few items.

Example:
    >>> import numpy as np
    >>> unit(np.array([3.0, 4.0])).tolist()
    [0.6000000238418579, 0.800000011920929]
    >>> normalised({1: 3.0, 2: 1.0})
    {1: 0.75, 2: 0.25}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.config import ProfileConfig
from shelfwise.profiles.state import UserState

__all__ = ["blend", "normalised", "recent_weights", "short_term_vector", "top", "unit", "user_matrix"]


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length (float32); a zero vector stays zero."""
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def normalised(weights: Mapping[int, float]) -> dict[int, float]:
    """A weight map scaled to sum 1 (empty stays empty)."""
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total > 0 else {}


def top(dist: Mapping[int, float], k: int) -> list[tuple[int, float]]:
    """The ``k`` largest entries, ties by key."""
    return sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def recent_weights(
    recent: Sequence[tuple[int, str, float]], config: ProfileConfig, *, typed: bool = True
) -> np.ndarray:
    """Weights of the recent-window entries (oldest first), see the module doc.

    Args:
        recent: the window.
        config: profile settings.
        typed: multiply by the event-type weight (the short-term vector); without it only recency counts
            ("recently browsing").
    """
    n = len(recent)
    if n == 0:
        return np.zeros(0)
    newest = recent[-1][2]
    k = np.arange(n - 1, -1, -1, dtype=np.float64)
    age_h = np.array([(newest - r[2]) / 3600.0 for r in recent])
    decay = np.exp2(-k / config.short_half_life_events - age_h / config.short_half_life_hours)
    if not typed:
        return decay
    return np.array([config.event_weight(r[1]) for r in recent]) * decay


def short_term_vector(state: UserState, catalog: ItemCatalog, config: ProfileConfig) -> np.ndarray | None:
    """The short-term (session) vector: weighted mean of the recent items' vectors (float32)."""
    if catalog.vectors is None or not state.recent:
        return None
    items = np.fromiter((r[0] for r in state.recent), np.int64, len(state.recent))
    w = recent_weights(state.recent, config)
    vecs = catalog.vectors[items]
    w = w * (np.abs(vecs).sum(axis=1) > 0)
    if w.sum() <= 0:
        return None
    return ((w @ vecs) / w.sum()).astype(np.float32)


def recent_categories(state: UserState, catalog: ItemCatalog, config: ProfileConfig) -> dict[int, float]:
    """Category shares of the recent window, by recency only (what the user looks at lately)."""
    out: dict[int, float] = {}
    for (item, _, _), w in zip(state.recent, recent_weights(state.recent, config, typed=False), strict=True):
        cat = int(catalog.category[item])
        if cat >= 0:
            out[cat] = out.get(cat, 0.0) + float(w)
    return normalised(out)


def blend(long: np.ndarray | None, short: np.ndarray | None, short_weight: float) -> np.ndarray | None:
    """``(1 - a) * unit(long) + a * unit(short)``, falling back to whichever exists."""
    if long is None and short is None:
        return None
    if long is None or short_weight >= 1.0:
        return unit(short) if short is not None else unit(long)  # type: ignore[arg-type]
    if short is None or short_weight <= 0.0:
        return unit(long)
    return (1.0 - short_weight) * unit(long) + short_weight * unit(short)


def user_matrix(
    states: Iterable[UserState | None],
    catalog: ItemCatalog,
    config: ProfileConfig,
    short_weight: float = 0.0,
) -> np.ndarray:
    """float32 ``(n, d)`` of blended profile vectors, one row per state (zeros for ``None`` / empty).

    Args:
        states: user states in the wanted row order.
        catalog: the items (gives the vector width and the recent items' vectors).
        config: profile settings.
        short_weight: 0 = long-term only, 1 = short-term only.
    """
    rows = []
    d = catalog.dim
    for st in states:
        v = None
        if st is not None:
            short = short_term_vector(st, catalog, config) if short_weight > 0 else None
            v = blend(st.long_vector(), short, short_weight)
        rows.append(np.zeros(d, dtype=np.float32) if v is None else v)
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, d), dtype=np.float32)
