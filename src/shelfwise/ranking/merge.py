"""Merge the proposals of several candidate sources into one candidate set with per-source scores.

The ranker sees one row per distinct item with, for every source, its raw score and its 1-based rank in
that source's list (NaN where the source did not propose the item), plus the anchor of item-to-item
sources (for "similar to X" explanations). Sources are identified by name and always laid out in the
order the ranker was trained with, so a missing source gives NaN columns, never shifted ones.

Example:
    >>> import numpy as np
    >>> from shelfwise.retrieval.base import Candidates
    >>> a = Candidates("als", np.array([3, 1], np.int32), np.array([0.9, 0.5], np.float32))
    >>> b = Candidates("popular", np.array([1, 7], np.int32), np.array([10.0, 8.0], np.float32))
    >>> m = merge_candidates([a, b], ("als", "popular"))
    >>> m.items.tolist(), m.ranks.tolist()
    ([3, 1, 7], [[1.0, nan], [2.0, 1.0], [nan, 2.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shelfwise.retrieval.base import Candidates

__all__ = ["MergedCandidates", "merge_candidates"]


@dataclass(frozen=True, eq=False)
class MergedCandidates:
    """Distinct candidate items of one request with each source's score and rank.

    Attributes:
        items: int32 ``(n,)`` distinct items, in order of first appearance (sources in ``sources`` order).
        sources: source names, the column order of ``scores`` and ``ranks``.
        scores: float32 ``(n, n_sources)`` raw scores, NaN where a source did not propose the item.
        ranks: float32 ``(n, n_sources)`` 1-based ranks within each source's list, NaN when absent.
        anchors: int32 ``(n,)`` history item an item-to-item source tied the candidate to (-1 if none).
    """

    items: np.ndarray
    sources: tuple[str, ...]
    scores: np.ndarray
    ranks: np.ndarray
    anchors: np.ndarray

    def __len__(self) -> int:
        return int(self.items.size)

    def normalised(self, how: str = "minmax", rank_offset: float = 10.0) -> np.ndarray:
        """float32 ``(n, n_sources)`` per-source scores on ``[0, 1]``, 0 where a source is absent.

        ``"minmax"`` maps each source's proposed scores to ``[0, 1]`` (all 1 when they are equal);
        ``"rank"`` uses ``rank_offset / (rank_offset + rank - 1)`` (1 for the first item).
        """
        if how == "rank":
            out = rank_offset / (rank_offset + self.ranks - 1.0)
        elif how == "minmax":
            absent = np.isnan(self.scores)
            lo = np.where(absent, np.inf, self.scores).min(axis=0, initial=np.inf)
            hi = np.where(absent, -np.inf, self.scores).max(axis=0, initial=-np.inf)
            span = np.where(hi > lo, hi - lo, 1.0)
            out = np.where(hi > lo, (self.scores - lo) / span, 1.0)
        else:
            raise ValueError(f"unknown normalisation {how!r}; expected 'minmax' or 'rank'")
        return np.nan_to_num(np.where(np.isnan(self.scores), 0.0, out), nan=0.0).astype(np.float32)


def merge_candidates(
    candidates: Sequence[Candidates], sources: Sequence[str] | None = None
) -> MergedCandidates:
    """Union of the sources' items with aligned score and rank columns.

    Args:
        candidates: one :class:`~shelfwise.retrieval.base.Candidates` per source (best first).
        sources: the column order (default: the order of ``candidates``); a listed source without
            candidates gets NaN columns, a source not listed is an error.

    Raises:
        ValueError: a source appears twice or is not among ``sources``.
    """
    names = tuple(c.source for c in candidates) if sources is None else tuple(sources)
    col = {n: k for k, n in enumerate(names)}
    if len(col) != len(names) or len({c.source for c in candidates}) != len(candidates):
        raise ValueError("each source may appear once")
    for c in candidates:
        if c.source not in col:
            raise ValueError(f"source {c.source!r} is not one of {names}")
    ordered = sorted(candidates, key=lambda c: col[c.source])
    if ordered:
        all_items = np.concatenate([np.asarray(c.items, dtype=np.int32) for c in ordered])
    else:
        all_items = np.zeros(0, dtype=np.int32)
    uniq, first = np.unique(all_items, return_index=True)
    items = uniq[np.argsort(first, kind="stable")].astype(np.int32)
    order = np.argsort(items, kind="stable")
    n = items.size
    scores = np.full((n, len(names)), np.nan, dtype=np.float32)
    ranks = np.full((n, len(names)), np.nan, dtype=np.float32)
    anchors = np.full(n, -1, dtype=np.int32)
    for c in ordered:
        src_items = np.asarray(c.items, dtype=np.int32)
        rows = order[np.searchsorted(items[order], src_items)]
        j = col[c.source]
        scores[rows, j] = c.scores
        ranks[rows, j] = np.arange(1, src_items.size + 1, dtype=np.float32)
        if c.anchors is not None:
            take = (anchors[rows] < 0) & (np.asarray(c.anchors) >= 0)
            anchors[rows[take]] = np.asarray(c.anchors)[take]
    return MergedCandidates(items, names, scores, ranks, anchors)
