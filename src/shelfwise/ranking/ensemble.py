"""Ensembles of candidate sources: a weighted blend learned by coordinate ascent, and the stacked variant.

* :class:`WeightedEnsemble` — ``score = sum_s w_s * norm_s(item)`` where ``norm_s`` is source ``s``'s score
  normalised within the request (min-max, or reciprocal rank) and 0 when ``s`` did not propose the item.
  The weights maximise NDCG@k of the held-out items on validation requests, one coordinate at a time over a
  grid (coordinate ascent, as in RankLib's linear ranker), starting from equal weights.
* :func:`stacked_config` — the stacked ensemble: a LightGBM lambdarank :class:`~shelfwise.ranking.ranker.Ranker`
  whose only features are the sources' scores and ranks; the full ranker is the same model with more
  features.

Example:
    >>> import numpy as np
    >>> from shelfwise.ranking.merge import MergedCandidates
    >>> m = MergedCandidates(np.array([1, 2], np.int32), ("a", "b"),
    ...                      np.array([[1.0, 0.0], [0.0, 1.0]], np.float32),
    ...                      np.array([[1.0, 2.0], [2.0, 1.0]], np.float32), np.full(2, -1, np.int32))
    >>> ens = WeightedEnsemble(sources=("a", "b"), weights=[0.2, 0.8])
    >>> ens.score_merged(m).tolist()
    [0.20000000298023224, 0.800000011920929]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shelfwise.ranking.config import EnsembleConfig, RankerConfig
from shelfwise.ranking.dataset import RequestSet
from shelfwise.ranking.features import FeatureRequest
from shelfwise.ranking.merge import MergedCandidates

__all__ = ["WeightedEnsemble", "grouped_ndcg", "stacked_config"]

log = logging.getLogger(__name__)


def stacked_config(base: RankerConfig | None = None) -> RankerConfig:
    """A ranker configuration whose features are only the sources' scores (the stacked ensemble)."""
    base = base or RankerConfig()
    return base.model_copy(update={"features": base.features.model_copy(update={"groups": ["sources"]})})


def grouped_ndcg(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray, n_groups: int, k: int) -> float:
    """Sum over groups of NDCG@k (binary labels), ties taking their expected (middle) rank.

    Args:
        scores: float ``(n,)``.
        labels: 0/1 ``(n,)``.
        groups: int group of each row, ``0..n_groups-1``.
        n_groups: number of groups.
        k: cut-off.
    """
    pos = np.flatnonzero(labels > 0)
    if not pos.size:
        return 0.0
    pg = groups[pos]
    order = np.argsort(pg, kind="stable")
    pos, pg = pos[order], pg[order]
    slot = np.arange(pos.size) - np.searchsorted(
        pg, pg
    )  # 0 for a group's first positive, 1 for its second...
    dcg = np.zeros(n_groups)
    for j in range(int(slot.max()) + 1):
        mine = slot == j
        ref = np.full(n_groups, np.nan)
        ref[pg[mine]] = scores[pos[mine]]
        r = ref[groups]
        greater = np.bincount(groups, weights=scores > r, minlength=n_groups)
        ties = np.bincount(groups, weights=scores == r, minlength=n_groups)
        rank = 1.0 + greater + (ties - 1.0) / 2.0
        gain = np.where(rank <= k, 1.0 / np.log2(rank + 1.0), 0.0)
        dcg[pg[mine]] += gain[pg[mine]]
    n_pos = np.bincount(pg, minlength=n_groups)
    idcg = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.minimum(np.maximum(n_pos, 1), k) - 1]
    return float((dcg / idcg).sum())


class WeightedEnsemble:
    """Weighted sum of per-request normalised source scores.

    Attributes:
        sources: source names in column order.
        weights: float32 weight per source (non-negative, summing to 1 after fitting).
        valid_ndcg: NDCG@k on the validation requests after fitting (mean over all requests asked).
    """

    name = "ensemble"

    def __init__(
        self,
        config: EnsembleConfig | None = None,
        sources: Sequence[str] = (),
        weights: Sequence[float] | None = None,
    ) -> None:
        self.config = config or EnsembleConfig()
        self.sources = tuple(sources)
        w = np.ones(len(self.sources)) if weights is None else np.asarray(weights, dtype=np.float64)
        self.weights = w.astype(np.float32)
        self.valid_ndcg = float("nan")

    def _norm(self, merged: MergedCandidates) -> np.ndarray:
        if merged.sources != self.sources:
            raise ValueError(f"candidates come from {merged.sources}, the ensemble expects {self.sources}")
        return merged.normalised(self.config.normalise, self.config.rank_offset)

    def score_merged(self, merged: MergedCandidates) -> np.ndarray:
        """float32 blended score of each candidate."""
        return (self._norm(merged) @ self.weights).astype(np.float32)

    def score_requests(self, requests: Sequence[FeatureRequest]) -> list[np.ndarray]:
        """Scores of each request's candidates (the scorer interface shared with the ranker)."""
        return [self.score_merged(r.candidates) for r in requests]

    def fit(self, requests: RequestSet) -> WeightedEnsemble:
        """Learn the weights on labelled validation requests by coordinate ascent on NDCG@k."""
        if not requests.merged:
            raise ValueError("no validation requests with a positive candidate")
        self.sources = requests.merged[0].sources
        x = np.concatenate([self._norm(m) for m in requests.merged]).astype(np.float64)
        y = np.concatenate(requests.labels)
        g = np.repeat(np.arange(len(requests.merged)), [len(m) for m in requests.merged])
        n_groups, k = len(requests.merged), self.config.k

        def objective(w: np.ndarray) -> float:
            return grouped_ndcg(x @ w, y, g, n_groups, k)

        w = np.ones(len(self.sources))
        best = objective(w)
        for sweep in range(self.config.max_sweeps):
            improved = False
            for j in range(w.size):
                for value in self.config.grid:
                    trial = w.copy()
                    trial[j] = value
                    if not trial.any():
                        continue
                    score = objective(trial)
                    if score > best + 1e-12:
                        best, w, improved = score, trial, True
            log.info(
                "ensemble sweep %d: ndcg@%d %.5f weights %s", sweep + 1, k, best / requests.n_requests, w
            )
            if not improved:
                break
        self.weights = (w / w.sum()).astype(np.float32)
        self.valid_ndcg = best / max(requests.n_requests, 1)
        return self

    def save(self, folder: Path) -> None:
        """Write ``ensemble.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": self.config.model_dump(),
            "sources": list(self.sources),
            "weights": self.weights.tolist(),
            "valid_ndcg": self.valid_ndcg,
        }
        (folder / "ensemble.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> WeightedEnsemble:
        """Read what :meth:`save` wrote."""
        meta = json.loads((Path(folder) / "ensemble.json").read_text())
        ens = cls(EnsembleConfig(**meta["config"]), meta["sources"], meta["weights"])
        ens.valid_ndcg = float(meta["valid_ndcg"])
        return ens
