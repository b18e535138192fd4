"""Full ranking: exact counts, the random tie-break, history masking, sampled negatives, protocols."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from shelfwise.metrics import NDCG, HitRate
from shelfwise.metrics.ranking import Protocol, rank_targets, sample_negatives, top_k_items


def test_rank_is_one_plus_greater_plus_uniform_tie_position() -> None:
    # target item 0 scores 0.5; one item above (0.9), two more tied at 0.5 -> rank uniform on {2, 3, 4}
    row = np.array([0.5, 0.9, 0.5, 0.5, 0.1], dtype=np.float32)
    n = 30_000
    res = rank_targets(np.tile(row, (n, 1)), np.arange(n), np.zeros(n, dtype=np.int64))
    values, counts = np.unique(res.ranks, return_counts=True)
    assert values.tolist() == [2, 3, 4]
    assert np.allclose(counts / n, 1 / 3, atol=0.015)


def test_no_ties_gives_exact_rank() -> None:
    scores = np.array([[0.1, 0.4, 0.3, 0.2], [4.0, 3.0, 2.0, 1.0]], dtype=np.float32)
    res = rank_targets(scores, np.arange(2), np.array([2, 3]))
    assert res.ranks.tolist() == [2, 4]


def test_random_tie_break_vs_item_id_order_on_tie_heavy_scores() -> None:
    # A popularity-like model: scores take only 4 levels, so most items tie. Each user's target is the
    # item with the smallest id in its tie group, which an id-order tie-break would put first in the group.
    rng = np.random.default_rng(1)
    n_users, n_items = 4000, 60
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(np.float32)
    targets = np.array([np.flatnonzero(s == s[0])[0] for s in scores])  # = 0, smallest id in its group
    greater = (scores > scores[np.arange(n_users), targets][:, None]).sum(axis=1)
    tied = (scores == scores[np.arange(n_users), targets][:, None]).sum(axis=1)  # incl. the target
    id_order_ranks = 1 + greater

    # Expected NDCG@10 under a uniformly random position among the tied items:
    #   E[u] = (1 / tied) * sum_{r = greater+1}^{greater+tied} [r <= 10] / log2(r + 1)
    expected = np.mean(
        [
            sum(1 / math.log2(r + 1) for r in range(g + 1, g + t + 1) if r <= 10) / t
            for g, t in zip(greater, tied, strict=True)
        ]
    )
    random_ranks = rank_targets(scores, np.arange(n_users), targets, tie_break_seed=0).ranks
    ndcg = NDCG(10)
    id_value, random_value = ndcg.compute(id_order_ranks), ndcg.compute(random_ranks)
    per_user_sd = ndcg.per_user(random_ranks).std()
    assert id_value > 1.5 * random_value  # the id order inflates the figure
    assert random_value == pytest.approx(expected, abs=4 * per_user_sd / math.sqrt(n_users))


def test_result_independent_of_batch_size_and_seeded() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(50, 20)).astype(np.float32)
    targets = rng.integers(0, 20, size=50)
    a = rank_targets(scores, np.arange(50), targets, batch_size=7, tie_break_seed=3).ranks
    b = rank_targets(scores, np.arange(50), targets, batch_size=1000, tie_break_seed=3).ranks
    c = rank_targets(scores, np.arange(50), targets, batch_size=1000, tie_break_seed=4).ranks
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_callable_scorer_receives_users_and_history_batches() -> None:
    seen: list[tuple[list[int], int]] = []

    def scorer(users: np.ndarray, history: sp.csr_matrix | None) -> np.ndarray:
        assert history is not None
        seen.append((users.tolist(), history.shape[0]))
        return np.tile(np.arange(5, dtype=np.float32), (users.size, 1))  # item 4 best

    hist = sp.csr_matrix(np.eye(3, 5, dtype=np.float32))
    res = rank_targets(scorer, np.array([7, 8, 9]), np.array([4, 3, 0]), history=hist, batch_size=2)
    assert seen == [([7, 8], 2), ([9], 1)]
    assert res.ranks.tolist() == [1, 2, 5]
    assert res.users.tolist() == [7, 8, 9]


def test_exclude_history_masks_all_but_target() -> None:
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]], dtype=np.float32)
    hist = sp.csr_matrix(np.array([[1, 1, 0, 1, 0]], dtype=np.float32))  # target 3 is in the history too
    rankable = rank_targets(scores, np.array([0]), np.array([3]), history=hist)
    excluded = rank_targets(scores, np.array([0]), np.array([3]), history=hist, exclude_history=True)
    assert rankable.ranks.tolist() == [4]
    assert excluded.ranks.tolist() == [2]  # items 0 and 1 masked; only item 2 (3.0) is above
    assert excluded.protocol.history == "excluded" and rankable.protocol.history == "rankable"
    assert scores[0, 0] == 5.0  # a precomputed matrix is not modified


def test_multi_target_ties_get_distinct_positions() -> None:
    n = 3000
    scores = np.zeros((n, 6), dtype=np.float32)  # everything tied
    targets = np.tile(np.array([0, 1, 2, -1]), (n, 1))
    ranks = rank_targets(scores, np.arange(n), targets).ranks
    assert (ranks[:, 3] == 0).all()
    real = ranks[:, :3]
    assert ((real >= 1) & (real <= 6)).all()
    assert all(len(set(r)) == 3 for r in real.tolist())
    assert real.mean() == pytest.approx(3.5, abs=0.05)  # uniform positions among 6
    assert 0.0 < HitRate(1).compute(ranks) < 1.0


def test_protocol_record_and_label() -> None:
    res = rank_targets(np.zeros((2, 3), dtype=np.float32), np.arange(2), np.array([0, 1]), split="valid")
    assert res.protocol == Protocol(split="valid", ranking="full", history="rankable", tie_break_seed=0)
    assert res.protocol.label() == "valid, full ranking, history rankable, random ties (seed 0)"
    assert res.n_candidates == 3


def test_sampled_protocol() -> None:
    n_items = 50
    scores = np.tile(np.arange(n_items, dtype=np.float32), (200, 1))  # item 49 best
    targets = np.full(200, 40)
    res = rank_targets(scores, np.arange(200), targets, sampled=10, tie_break_seed=5)
    assert res.protocol.ranking == "sampled:10" and res.n_candidates == 11
    assert ((res.ranks >= 1) & (res.ranks <= 11)).all()
    # 9 of the 49 other items beat the target; rank - 1 ~ hypergeometric(49, 9, 10): mean 10 * 9 / 49
    assert res.ranks.mean() - 1 == pytest.approx(90 / 49, abs=0.25)
    with pytest.raises(ValueError):
        rank_targets(scores[:2], np.arange(2), np.array([[1, 2], [3, 4]]), sampled=10)


def test_sample_negatives_avoids_forbidden_and_is_distinct() -> None:
    rng = np.random.default_rng(0)
    forbidden = np.array([0, 3, 4, 9])
    seen = np.zeros(10, dtype=int)
    for _ in range(500):
        neg = sample_negatives(10, 4, forbidden, rng)
        assert len(set(neg.tolist())) == 4
        assert not np.isin(neg, forbidden).any()
        seen[neg] += 1
    free = np.setdiff1d(np.arange(10), forbidden)
    assert np.allclose(seen[free] / 500, 4 / 6, atol=0.08)  # each free item equally likely
    with pytest.raises(ValueError):
        sample_negatives(10, 7, forbidden, rng)


def test_nan_target_score_and_bad_inputs_raise() -> None:
    scores = np.array([[np.nan, 1.0]], dtype=np.float32)
    with pytest.raises(ValueError, match="NaN"):
        rank_targets(scores, np.array([0]), np.array([0]))
    with pytest.raises(ValueError, match="distinct"):
        rank_targets(np.zeros((1, 3), np.float32), np.array([0]), np.array([[1, 1]]))
    with pytest.raises(ValueError, match="history"):
        rank_targets(np.zeros((1, 3), np.float32), np.array([0]), np.array([1]), exclude_history=True)


def test_top_k_items_orders_scores_and_breaks_ties_randomly() -> None:
    scores = np.array([[0.1, 3.0, 2.0, 2.0, 2.0, -1.0]], dtype=np.float32)
    n = 3000
    tops = top_k_items(np.tile(scores, (n, 1)), np.arange(n), k=3)
    assert (tops[:, 0] == 1).all()  # the single best item always first
    assert np.isin(tops[:, 1:], [2, 3, 4]).all()  # then two of the three tied items
    firsts = np.bincount(tops[:, 1], minlength=5)[2:]
    assert np.allclose(firsts / n, 1 / 3, atol=0.03)
    # adjacent float32 values are never swapped by the tie-break noise
    close = np.array([[1.0, np.nextafter(np.float32(1.0), np.float32(2.0))]], dtype=np.float32)
    assert (top_k_items(np.tile(close, (200, 1)), np.arange(200), k=2)[:, 0] == 1).all()
    # masked history comes back as padding when the list cannot be filled
    hist = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 0]], dtype=np.float32))
    assert top_k_items(scores, np.array([0]), k=2, history=hist, exclude_history=True).tolist() == [[5, -1]]


def test_top_k_items_can_return_the_scores_of_the_listed_items() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(7, 30)).astype(np.float32)
    history = sp.csr_matrix((np.ones(7), (np.arange(7), np.arange(7))), shape=(7, 30))
    out = np.full((7, 5), np.nan, dtype=np.float32)
    top = top_k_items(
        scores, np.arange(7), 5, history=history, exclude_history=True, scores_out=out, batch_size=3
    )
    np.testing.assert_array_equal(out, np.take_along_axis(scores, top, axis=1))
    np.testing.assert_array_equal(
        top, top_k_items(scores, np.arange(7), 5, history=history, exclude_history=True)
    )
