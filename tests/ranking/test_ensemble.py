"""The weighted ensemble: NDCG of candidate lists by hand, and coordinate ascent finding the useful source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.ranking import MergedCandidates, RequestSet, WeightedEnsemble, grouped_ndcg
from shelfwise.retrieval.base import UserContext


def test_grouped_ndcg_by_hand() -> None:
    # group 0: positive ranked 2nd -> 1/log2(3); group 1: positive tied with one other at the top -> rank 1.5
    scores = np.array([0.9, 0.5, 0.1, 0.7, 0.7, 0.2])
    labels = np.array([0, 1, 0, 1, 0, 0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    expected = 1 / np.log2(3) + 1 / np.log2(2.5)
    assert grouped_ndcg(scores, labels, groups, 2, k=10) == pytest.approx(expected)
    assert grouped_ndcg(scores, labels, groups, 2, k=1) == pytest.approx(0.0)  # rank 1.5 > 1
    # two positives in one group: ranks 1 and 3, IDCG = 1 + 1/log2(3)
    two = grouped_ndcg(np.array([3.0, 2.0, 1.0]), np.array([1, 0, 1]), np.zeros(3, int), 1, k=10)
    assert two == pytest.approx((1 + 0.5) / (1 + 1 / np.log2(3)))


def _requests(n: int = 150, m: int = 40, seed: int = 0) -> RequestSet:
    rng = np.random.default_rng(seed)
    merged, labels = [], []
    for _ in range(n):
        y = np.zeros(m, np.float32)
        y[rng.integers(m)] = 1.0
        good = y * 1.0 + rng.normal(0, 0.6, m)  # informative
        noise = rng.normal(0, 1, m)  # not
        scores = np.stack([noise, good], axis=1).astype(np.float32)
        ranks = (np.argsort(np.argsort(-scores, axis=0), axis=0) + 1).astype(np.float32)
        merged.append(
            MergedCandidates(np.arange(m, dtype=np.int32), ("noise", "good"), scores, ranks, np.full(m, -1))
        )
        labels.append(y)
    return RequestSet([UserContext(user_index=k) for k in range(n)], merged, labels, n)


@pytest.mark.parametrize("normalise", ["minmax", "rank"])
def test_coordinate_ascent_weights_the_informative_source(normalise: str, tmp_path: Path) -> None:
    from shelfwise.ranking import EnsembleConfig

    req = _requests()
    ens = WeightedEnsemble(EnsembleConfig(normalise=normalise)).fit(req)  # type: ignore[arg-type]
    assert ens.sources == ("noise", "good")
    assert ens.weights[1] > 0.8 and ens.weights[0] < 0.2
    good_only = WeightedEnsemble(ens.config, ens.sources, [0.0, 1.0])
    equal = WeightedEnsemble(ens.config, ens.sources, [1.0, 1.0])
    g = np.repeat(np.arange(len(req.merged)), 40)
    y = np.concatenate(req.labels)

    def ndcg(e: WeightedEnsemble) -> float:
        return grouped_ndcg(
            np.concatenate([e.score_merged(m) for m in req.merged]), y, g, len(req.merged), 10
        )

    assert ndcg(ens) >= ndcg(good_only) - 1e-9 and ndcg(ens) > ndcg(equal)
    ens.save(tmp_path)
    back = WeightedEnsemble.load(tmp_path)
    assert back.weights.tolist() == ens.weights.tolist() and back.sources == ens.sources
