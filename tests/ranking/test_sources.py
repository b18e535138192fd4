"""Candidate generation: top-k per source with random tie-breaks, and baselines as candidate sources."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shelfwise.ranking import RecommenderSource, history_matrix, top_k_candidates
from shelfwise.retrieval.base import CandidateSource, UserContext
from shelfwise.retrieval.baselines import ALS, ItemKNN


class Fixed(CandidateSource):
    """A source returning the same scores for every context."""

    name = "fixed"

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores.astype(np.float32)

    def fit(self, data: object) -> Fixed:  # type: ignore[override]
        return self

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        return np.tile(self.scores, (len(contexts), 1))


def test_ties_at_the_cut_are_drawn_at_random_and_the_minimum_is_never_proposed() -> None:
    scores = np.array([5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 3.0])
    ctx = [UserContext(user_index=u) for u in range(200)]
    cands = top_k_candidates(Fixed(scores), ctx, k=4)
    firsts = {tuple(c.items[:2].tolist()) for c in cands}
    assert firsts == {(0, 9)}  # strictly better items always first, in score order
    picked = np.concatenate([c.items[2:] for c in cands])
    assert set(picked.tolist()) == {1, 2, 3, 4, 5, 6}  # every tied item gets drawn sometimes
    counts = np.bincount(picked, minlength=7)[1:7]
    assert counts.min() > 0.5 * counts.mean()  # roughly uniform, not by index
    assert all(not np.isin([7, 8], c.items).any() for c in cands)
    excluded = top_k_candidates(Fixed(scores), [UserContext(exclude=np.array([0], np.int32))], k=1)
    assert excluded[0].items.tolist() == [9]
    assert top_k_candidates(Fixed(np.ones(5)), ctx[:1], k=3)[0].items.size == 0  # flat row: no opinion


def test_recommender_sources_match_the_harness_inputs() -> None:
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1]], dtype=np.float32))
    knn = RecommenderSource(ItemKNN(k=4, similarity="cosine", num_threads=1))
    knn.model.fit(train)
    ctx = [UserContext(user_index=0, history=np.array([0, 1, 1], np.int32))]
    np.testing.assert_array_equal(history_matrix(ctx, 4).toarray(), [[1, 2, 0, 0]])
    np.testing.assert_allclose(knn.score_all(ctx), knn.model.score(np.array([0]), history_matrix(ctx, 4)))
    als = RecommenderSource(ALS(factors=2, iterations=2, num_threads=1))
    als.model.fit(train)
    cold = als.score_all([UserContext(user_index=-1, history=np.array([0], np.int32))])
    assert (cold == 0).all()  # no learned user vector: no opinion rather than someone else's
    assert top_k_candidates(als, [UserContext(user_index=-1)], k=2)[0].items.size == 0
