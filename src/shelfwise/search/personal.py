"""Personalisation of search results from the shopper's profile, never above a strong textual match.

A shopper's affinity to a candidate is the mean of three parts in ``[0, 1]``: the cosine of their
interest vector and the item vector (negative cosines count as 0), their share of interest in the item's
brand and in its category (the share of the closest category path on the profile). Results are then
ordered by ``text + weight * affinity`` where ``text`` is the relevance score min-max scaled over the
list, **within two tiers**: items whose scaled text score is at least ``strong`` come first whatever the
affinity, so a shopper's favourite brand can reorder comparable matches but never lifts a weak match above
a strong one.

Example:
    >>> import numpy as np
    >>> text = np.array([3.0, 2.9, 1.0])            # item 0 and 1 match strongly, 2 weakly
    >>> aff = np.array([0.0, 1.0, 1.0])             # the shopper loves items 1 and 2
    >>> order, _ = personalised_order(text, aff, weight=0.2, strong=0.9)
    >>> order.tolist()                               # 1 overtakes 0; 2 stays below both
    [1, 0, 2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from shelfwise.search.catalog import SearchCatalog


@dataclass(frozen=True)
class UserAffinity:
    """What personalisation reads from a profile.

    Attributes:
        vector: the shopper's interest vector (unit, same space as the item vectors) or ``None``.
        brands: brand name (lower case) -> share of interest.
        categories: category path (lower case, " > " separators) -> share of interest.
    """

    vector: np.ndarray | None = None
    brands: Mapping[str, float] = field(default_factory=dict)
    categories: Mapping[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No signal at all."""
        return self.vector is None and not self.brands and not self.categories


def affinity_parts(
    user: UserAffinity, item_ids: Sequence[str], vectors: np.ndarray | None, catalog: SearchCatalog
) -> np.ndarray:
    """``(n, 3)`` float32: vector cosine (clipped at 0), brand share, category share per candidate."""
    out = np.zeros((len(item_ids), 3), np.float32)
    if user.empty or not len(item_ids):
        return out
    if user.vector is not None and vectors is not None and len(vectors):
        out[:, 0] = np.clip(vectors @ np.asarray(user.vector, np.float32), 0.0, 1.0)
    for n, item_id in enumerate(item_ids):
        item = catalog.items.get(item_id)
        if item is None:
            continue
        if item.brand:
            out[n, 1] = user.brands.get(item.brand.lower(), 0.0)
        if item.category:
            path = item.category
            while path:
                if path in user.categories:
                    out[n, 2] = user.categories[path]
                    break
                path = path.rpartition(" > ")[0]
    return out


def personalised_order(
    text: np.ndarray, affinity: np.ndarray, weight: float, strong: float
) -> tuple[np.ndarray, np.ndarray]:
    """Order by text score plus a bounded personal boost, strong textual matches first.

    Args:
        text: relevance scores of the candidates (any scale).
        affinity: per candidate, in ``[0, 1]``.
        weight: boost of a full affinity, in units of the list's text-score range.
        strong: scaled text score from which a match is strong (a tier of its own).

    Returns:
        ``(order, final)``: positions best first, and the final scores ``tier + scaled text + boost``.
    """
    text = np.asarray(text, np.float64)
    if not len(text):
        return np.zeros(0, np.int64), np.zeros(0)
    lo, hi = float(text.min()), float(text.max())
    scaled = (text - lo) / (hi - lo) if hi > lo else np.ones_like(text)
    tier = (scaled >= strong).astype(np.float64)
    final = 2.0 * tier + scaled + weight * np.clip(np.asarray(affinity, np.float64), 0.0, 1.0)
    return np.argsort(-final, kind="stable"), final
