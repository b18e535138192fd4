"""Beyond-accuracy metrics of recommended lists: coverage, diversity, novelty, concentration, calibration, exposure.

All take ``top_items`` (``(n_users, L)`` dense item indices in rank order, ``-1`` padding; see
:class:`~shelfwise.metrics.base.ListMetric`) and use the first ``k`` columns. Formulas, with ``L_u``
the valid items of user ``u``'s top-k list:

* ``coverage@k``       = ``|union_u L_u| / n_items``
* ``ild@k``            = mean over users (``|L_u| >= 2``) of the mean over pairs ``i < j`` of ``1 - cos(e_i, e_j)``
* ``ild_category@k``   = same, with the pair distance ``[cat_i != cat_j]`` (share of pairs of different categories)
* ``novelty@k``        = mean over users of the mean over ``L_u`` of ``-log2(count_i / sum(count))``
  (counts floored at ``min_count`` so unseen items have a finite novelty)
* ``gini@k``           = Gini of item exposure ``x_i = #lists containing i`` over all ``n_items`` items:
  ``sum_j (2j - n - 1) x_(j) / (n sum x)`` with ``x`` sorted ascending, ``j`` 1-based (0 = even, 1 = one item)
* ``miscalibration@k`` = Steck (2018): mean over users of ``KL(p || q~) = sum_c p(c) ln(p(c) / q~(c))`` where
  ``p`` is the category mix of the user's history (weighted by the history values), ``q`` the category
  mix of the list, ``q~ = (1 - alpha) q + alpha p``, ``alpha = 0.01``; users without history are skipped.
* ``brand_exposure@k`` = share of all list slots taken by each brand (a dict; no better direction).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from shelfwise.metrics.base import ListMetric

__all__ = [
    "BrandExposure",
    "CategoryILD",
    "Coverage",
    "Gini",
    "IntraListDiversity",
    "Miscalibration",
    "Novelty",
    "gini_coefficient",
]

_BATCH = 4096


class Coverage(ListMetric):
    """Catalogue coverage@k: the share of the catalogue appearing in at least one top-k list."""

    base_name = "coverage"

    def __init__(self, n_items: int, k: int = 10) -> None:
        super().__init__(k)
        if n_items < 1:
            raise ValueError("n_items must be >= 1")
        self.n_items = n_items

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        top = self._lists(top_items)
        return float(np.unique(top[top >= 0]).size / self.n_items)


class _PairwiseDiversity(ListMetric):
    """Mean pairwise distance within each list, averaged over lists with at least two items."""

    def _pair_distance(self, items: np.ndarray) -> np.ndarray:
        """Distances ``(b, k, k)`` between the items of each list (``items`` padded with index 0)."""
        raise NotImplementedError

    def _batch_size(self, k: int) -> int:
        """Lists per batch, bounding the ``(b, k, k)`` intermediates to a few tens of MB."""
        return max(1, 2**22 // (k * k))

    def per_list(self, top_items: np.ndarray) -> np.ndarray:
        """float64 ``(n_users,)`` mean pairwise distance of each list (NaN for lists of fewer than 2 items)."""
        top = self._lists(top_items)
        k = top.shape[1]
        upper = np.triu(np.ones((k, k), dtype=bool), 1)
        out = np.full(top.shape[0], np.nan)
        step = self._batch_size(k)
        for start in range(0, top.shape[0], step):
            batch = top[start : start + step]
            valid = batch >= 0
            dist = self._pair_distance(np.where(valid, batch, 0))
            pairs = upper[None] & valid[:, :, None] & valid[:, None, :]
            n_pairs = pairs.sum(axis=(1, 2))
            ok = n_pairs > 0
            sums = np.where(pairs, dist, 0.0).sum(axis=(1, 2))
            out[start : start + step][ok] = sums[ok] / n_pairs[ok]
        return out

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        values = self.per_list(top_items)
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else float("nan")


class IntraListDiversity(_PairwiseDiversity):
    """ILD@k over item embeddings: mean pairwise ``1 - cosine`` (zero vectors have cosine 0 to everything)."""

    base_name = "ild"

    def __init__(self, embeddings: np.ndarray, k: int = 10) -> None:
        super().__init__(k)
        emb = np.asarray(embeddings, dtype=np.float32)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        self._unit = np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)

    def _batch_size(self, k: int) -> int:
        return max(1, 2**22 // (k * (k + self._unit.shape[1])))

    def _pair_distance(self, items: np.ndarray) -> np.ndarray:
        e = self._unit[items]
        return 1.0 - np.einsum("bkd,bld->bkl", e, e).astype(np.float64)


class CategoryILD(_PairwiseDiversity):
    """Category ILD@k: the share of item pairs in a list whose categories differ.

    ``categories`` are dense integer codes per item; give unknown items their own code.
    """

    base_name = "ild_category"

    def __init__(self, categories: np.ndarray, k: int = 10) -> None:
        super().__init__(k)
        self.categories = np.asarray(categories, dtype=np.int64)

    def _pair_distance(self, items: np.ndarray) -> np.ndarray:
        c = self.categories[items]
        return (c[:, :, None] != c[:, None, :]).astype(np.float64)


class Novelty(ListMetric):
    """Novelty@k: mean self-information ``-log2(popularity share)`` of the recommended items (bits)."""

    base_name = "novelty"

    def __init__(self, item_counts: np.ndarray, k: int = 10, min_count: float = 1.0) -> None:
        super().__init__(k)
        counts = np.maximum(np.asarray(item_counts, dtype=np.float64), min_count)
        self.self_information = -np.log2(counts / counts.sum())

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        top = self._lists(top_items)
        valid = top >= 0
        info = np.where(valid, self.self_information[np.where(valid, top, 0)], 0.0)
        n = valid.sum(axis=1)
        ok = n > 0
        return float((info.sum(axis=1)[ok] / n[ok]).mean()) if ok.any() else float("nan")


def gini_coefficient(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: ``sum_j (2j - n - 1) x_(j) / (n sum x)``, ``x`` ascending."""
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    j = np.arange(1, n + 1, dtype=np.float64)
    return float(((2 * j - n - 1) * x).sum() / (n * total))


class Gini(ListMetric):
    """Gini@k of exposure over the whole catalogue (items never recommended count with exposure 0)."""

    base_name = "gini"
    higher_is_better = False

    def __init__(self, n_items: int, k: int = 10) -> None:
        super().__init__(k)
        self.n_items = n_items

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        top = self._lists(top_items)
        return gini_coefficient(np.bincount(top[top >= 0], minlength=self.n_items))


class Miscalibration(ListMetric):
    """Miscalibration@k (Steck 2018): ``KL(p || (1 - alpha) q + alpha p)`` in nats, averaged over users.

    ``categories`` are dense integer codes per item (one category per item).
    """

    base_name = "miscalibration"
    higher_is_better = False

    def __init__(self, categories: np.ndarray, k: int = 10, alpha: float = 0.01) -> None:
        super().__init__(k)
        if not 0.0 < alpha < 1.0:
            raise ValueError("alpha must be in (0, 1)")
        self.categories = np.asarray(categories, dtype=np.int64)
        self.alpha = alpha
        self.n_categories = int(self.categories.max()) + 1 if self.categories.size else 0

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        if history is None:
            raise ValueError("miscalibration needs the users' history (CSR aligned with top_items)")
        top = self._lists(top_items)
        hist = sp.csr_matrix(history)
        if hist.shape[0] != top.shape[0]:
            raise ValueError(f"history has {hist.shape[0]} rows for {top.shape[0]} lists")
        n_items = self.categories.size
        to_cat = sp.csr_matrix(
            (np.ones(n_items), (np.arange(n_items), self.categories)), shape=(n_items, self.n_categories)
        )
        total, n_users = 0.0, 0
        for start in range(0, top.shape[0], _BATCH):
            batch = top[start : start + _BATCH]
            p = np.asarray((hist[start : start + _BATCH] @ to_cat).todense(), dtype=np.float64)
            valid = batch >= 0
            rows = np.broadcast_to(np.arange(batch.shape[0])[:, None], batch.shape)[valid]
            q = np.zeros_like(p)
            np.add.at(q, (rows, self.categories[batch[valid]]), 1.0)
            p_sum, q_sum = p.sum(axis=1, keepdims=True), q.sum(axis=1, keepdims=True)
            ok = (p_sum[:, 0] > 0) & (q_sum[:, 0] > 0)
            p, q = p[ok] / p_sum[ok], q[ok] / q_sum[ok]
            q_tilde = (1.0 - self.alpha) * q + self.alpha * p
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(p > 0, q_tilde, 1.0)), 0.0)
            total += float(terms.sum())
            n_users += int(ok.sum())
        return total / n_users if n_users else float("nan")


class BrandExposure(ListMetric):
    """Exposure share per brand@k: ``{brand: slots showing the brand / all filled slots}``.

    ``brands`` gives each item's brand (``None`` -> ``"unknown"``). The result has no better direction;
    fairness summaries (e.g. :func:`gini_coefficient` over its values) are built from it.
    """

    base_name = "brand_exposure"

    def __init__(self, brands: Sequence[str | None] | np.ndarray, k: int = 10) -> None:
        super().__init__(k)
        names = np.array(["unknown" if b is None else str(b) for b in brands], dtype=object)
        self._names, self._codes = np.unique(names, return_inverse=True)

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> dict[str, float]:
        top = self._lists(top_items)
        items = top[top >= 0]
        if items.size == 0:
            return {}
        counts = np.bincount(self._codes[items], minlength=self._names.size)
        shown = np.flatnonzero(counts)
        order = shown[np.argsort(-counts[shown], kind="stable")]
        return {str(self._names[c]): float(counts[c] / items.size) for c in order}
