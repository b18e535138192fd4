"""Base classes of evaluation metrics: small objects with ``name``, ``k``, ``higher_is_better``, ``compute``.

Three families, each with one input convention (documented on the class):

* :class:`RankingMetric` — accuracy of a ranking, from the 1-based **ranks of each user's relevant items**
  (batch-first: one row per user). This is what full ranking produces (:mod:`shelfwise.metrics.ranking`)
  and what :func:`ranks_from_lists` makes out of top-K recommendation lists.
* :class:`ClassificationMetric` — pointwise predictions against binary labels (CTR-style).
* :class:`ListMetric` — properties of the recommended lists themselves (coverage, diversity, novelty,
  calibration, exposure), from a ``(n_users, >=K)`` int array of item indices, ``-1`` padded.

Side information a list metric needs (item embeddings, categories, popularity) is given when the metric
is built, the way cornac does; ``compute`` takes only what changes per evaluation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Final

import numpy as np
import scipy.sparse as sp

#: A rank meaning "not in the ranked list at all" (e.g. a relevant item missing from a truncated top-K list).
NOT_RANKED: Final[int] = np.iinfo(np.int64).max


class Metric(ABC):
    """One evaluation metric.

    Attributes:
        k: the cut-off of list metrics (``None`` for metrics without one, e.g. AUC).
        higher_is_better: whether a larger value is a better system.
    """

    base_name: str = ""
    higher_is_better: bool = True

    def __init__(self, k: int | None = None) -> None:
        if k is not None and k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``"ndcg@10"`` or ``"auc"``."""
        return self.base_name if self.k is None else f"{self.base_name}@{self.k}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @abstractmethod
    def compute(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the metric over a batch (see the family's input convention)."""


class RankingMetric(Metric):
    """Accuracy of rankings, computed from the ranks of relevant items.

    Input convention (batch-first, one row per user):

    * ``ranks``: integer array, shape ``(n_users,)`` (one relevant item per user, e.g. leave-one-out) or
      ``(n_users, m)`` (up to ``m`` relevant items per user). Each entry is the **1-based** rank of a
      relevant item in the user's full ranking; any value ``> k`` means "not in the top k"
      (:data:`NOT_RANKED` for an item absent from a truncated list). Rank ``0`` marks a padding slot
      (users with fewer relevant items than ``m``). Ranks of one user's relevant items must be distinct.
    * ``gains``: optional float array of the same shape, the graded gain of each relevant item (default 1,
      i.e. binary relevance). Slots with gain ``<= 0`` are padding too: padding slots are neither hits nor
      counted in the number of relevant items or the ideal DCG.

    ``per_user`` returns one float64 value per user, NaN for a user with no relevant item; ``compute``
    returns the mean over users with at least one relevant item.
    """

    def __init__(self, k: int = 10) -> None:
        super().__init__(k)
        self.k: int = k

    @abstractmethod
    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        """Values per user from validated 2-D ``ranks`` / ``gains`` and the boolean ``relevant`` mask."""

    def per_user(self, ranks: np.ndarray, gains: np.ndarray | None = None) -> np.ndarray:
        """Metric value of each user (float64, NaN for users without relevant items)."""
        r, g, rel = _prepare_ranks(ranks, gains)
        values = self._per_user(r, g, rel).astype(np.float64, copy=False)
        values[~rel.any(axis=1)] = np.nan
        return values

    def compute(self, ranks: np.ndarray, gains: np.ndarray | None = None) -> float:
        """Mean value over users with at least one relevant item (NaN if there are none)."""
        values = self.per_user(ranks, gains)
        valid = ~np.isnan(values)
        return float(values[valid].mean()) if valid.any() else float("nan")


def _prepare_ranks(ranks: np.ndarray, gains: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and reshape ranking inputs to 2-D ``(ranks int64, gains float64, relevant bool)``."""
    r = np.asarray(ranks)
    if not np.issubdtype(r.dtype, np.integer):
        raise TypeError(f"ranks must be integers, got dtype {r.dtype}")
    r = r.astype(np.int64, copy=False)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2:
        raise ValueError(f"ranks must be 1-D or 2-D, got shape {np.shape(ranks)}")
    if gains is None:
        g = np.ones(r.shape, dtype=np.float64)
    else:
        g = np.asarray(gains, dtype=np.float64).reshape(r.shape)
    if (r < 0).any():
        raise ValueError("ranks must be >= 1 (1-based), or 0 for a padding slot")
    rel = (g > 0) & (r > 0)
    # distinct ranks per user among ranked relevant items (two items cannot share one position)
    masked = np.where(rel, r, -np.arange(1, r.shape[1] + 1))  # padding gets unique negative fillers
    srt = np.sort(masked, axis=1)
    dup = (np.diff(srt, axis=1) == 0) & (srt[:, 1:] > 0) & (srt[:, 1:] < NOT_RANKED)
    if dup.any():
        raise ValueError("a user's relevant items must have distinct ranks")
    return r, g, rel


class ClassificationMetric(Metric):
    """Pointwise predictions against binary labels.

    Input convention: ``labels`` (0/1, shape ``(n,)``), ``scores`` (float, shape ``(n,)``; probabilities for
    log loss, any monotone score for AUC), and for per-group metrics ``groups`` (shape ``(n,)``, e.g. the
    user of each impression).
    """

    def __init__(self) -> None:
        super().__init__(None)

    @abstractmethod
    def compute(self, labels: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None) -> float:
        """Metric over all predictions."""


class ListMetric(Metric):
    """A property of the recommended lists (not of their accuracy).

    Input convention: ``top_items`` — int array ``(n_users, L)`` with ``L >= k``, row ``u`` the dense item
    indices recommended to user ``u`` in rank order, ``-1`` padding a list shorter than ``k``. Only the
    first ``k`` columns are used. Metrics that compare a list with the user's past take ``history``: a CSR
    matrix ``(n_users, n_items)`` aligned with the rows of ``top_items``.
    """

    def __init__(self, k: int = 10) -> None:
        super().__init__(k)
        self.k: int = k

    def _lists(self, top_items: np.ndarray) -> np.ndarray:
        """The first ``k`` columns of ``top_items`` as a 2-D int64 array (checked)."""
        top = np.asarray(top_items)
        if top.ndim != 2 or not np.issubdtype(top.dtype, np.integer):
            raise ValueError(f"top_items must be a 2-D integer array, got {top.dtype} {top.shape}")
        return top[:, : self.k].astype(np.int64, copy=False)

    @abstractmethod
    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> Any:
        """Metric over all lists."""
