"""Exposure across shoppers (coverage-aware re-ranking) and rank-scaled relevance."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.metrics.beyond_accuracy import Coverage
from shelfwise.rerank import (
    CandidateList,
    ExposureCounter,
    ItemCatalog,
    RerankConfig,
    RerankPipeline,
    UserContext,
    rerank_top_items,
    scale_relevance,
)


def test_counter_counts_lists_and_bonus_falls_with_exposure() -> None:
    c = ExposureCounter(5)
    c.record(np.array([0, 1, -1]))
    c.record(np.array([1, 2]))
    np.testing.assert_allclose(c.bonus(np.array([0, 1, 2, 3])), [1 / 2, 1 / 3, 1 / 2, 1.0])
    c.decay(0.5)
    np.testing.assert_allclose(c.counts, [0.5, 1.0, 0.5, 0.0, 0.0])
    with pytest.raises(ValueError):
        c.decay(1.5)


def test_rank_relevance_keeps_order_shares_ties_and_ignores_scale() -> None:
    scores = np.array([5.0, 9.0, 5.0, -3.0])
    rel = scale_relevance(scores, RerankConfig(relevance="rank", relevance_power=2.0))
    np.testing.assert_allclose(rel, [1 / 4, 1.0, 1 / 4, 1 / 16])
    same = scale_relevance(1000.0 * scores + 7.0, RerankConfig(relevance="rank", relevance_power=2.0))
    np.testing.assert_allclose(rel, same)
    np.testing.assert_allclose(scale_relevance(scores, RerankConfig()), [8 / 12, 1.0, 8 / 12, 0.0])
    soft = scale_relevance(scores, RerankConfig(relevance="softmax", relevance_temperature=2.0))
    np.testing.assert_allclose(soft, np.exp((scores - 9.0) / 2.0))
    np.testing.assert_allclose(
        soft, scale_relevance(scores + 50.0, RerankConfig(relevance="softmax", relevance_temperature=2.0))
    )
    assert scale_relevance(np.zeros(0), RerankConfig(relevance="rank")).size == 0


def _identical_lists(n_users: int = 60, n_cand: int = 50) -> tuple[np.ndarray, np.ndarray, ItemCatalog]:
    rng = np.random.default_rng(0)
    items = np.tile(np.arange(n_cand), (n_users, 1))
    scores = np.tile(np.sort(rng.random(n_cand))[::-1], (n_users, 1)).astype(np.float32)
    emb = rng.normal(size=(n_cand, 8)).astype(np.float32)
    return items, scores, ItemCatalog(embeddings=emb, categories=np.zeros(n_cand, dtype=np.int32))


@pytest.mark.parametrize(
    "config",
    [
        RerankConfig(method="coverage", diversity=0.5),
        RerankConfig(method="mmr", diversity=0.2, coverage=2.0),
        RerankConfig(method="dpp", diversity=0.2, coverage=2.0, relevance="rank"),
    ],
)
def test_exposure_spreads_identical_candidate_lists_over_the_catalogue(config: RerankConfig) -> None:
    items, scores, cat = _identical_lists()
    cov = Coverage(n_items=items.shape[1], k=10)
    none = rerank_top_items(RerankPipeline(), items, scores, cat)
    plain = config.with_knob(coverage=0.0) if config.method != "coverage" else RerankConfig()
    without = rerank_top_items(RerankPipeline(), items, scores, cat, config=plain)
    spread = rerank_top_items(RerankPipeline(), items, scores, cat, config=config)
    assert cov.compute(none) == pytest.approx(0.2)  # everyone gets the same top 10
    assert cov.compute(spread) > cov.compute(without) + 0.3
    assert cov.compute(spread) > cov.compute(none) + 0.3
    assert all(len(set(row.tolist())) == 10 for row in spread)


def test_exposure_is_off_at_zero_diversity_and_for_method_none() -> None:
    items, scores, cat = _identical_lists()
    for cfg in (RerankConfig(method="coverage", diversity=0.0), RerankConfig(method="none", coverage=5.0)):
        out = rerank_top_items(RerankPipeline(), items, scores, cat, config=cfg)
        np.testing.assert_array_equal(out, items[:, :10])


def test_the_caller_owns_the_counter_and_the_batch_records_every_list() -> None:
    items, scores, cat = _identical_lists(n_users=5)
    counter = ExposureCounter(cat.n_items)
    out = rerank_top_items(
        RerankPipeline(),
        items,
        scores,
        cat,
        config=RerankConfig(method="coverage", diversity=0.5),
        exposure=counter,
    )
    np.testing.assert_array_equal(counter.counts, np.bincount(out.ravel(), minlength=cat.n_items))


def test_items_placed_for_low_exposure_are_explained_as_variety() -> None:
    n = 30
    cat = ItemCatalog(categories=np.zeros(n, dtype=np.int32), item_names=[f"P{i}" for i in range(n)])
    counter = ExposureCounter(n)
    for _ in range(50):
        counter.record(np.arange(10))  # the relevance top 10 was shown to everyone already
    cands = CandidateList(np.arange(n), np.linspace(1.0, 0.5, n).astype(np.float32), cat, UserContext())
    ranked = RerankPipeline(RerankConfig(method="coverage", diversity=0.5), exposure=counter).rerank(cands)
    placed = {r.item: r.breakdown["placed_by"] for r in ranked}
    swapped_in = [i for i in placed if i >= 10]
    assert swapped_in, "over-exposed items should have been swapped out"
    for i in swapped_in:
        assert placed[i] == "diversity"
        r = next(r for r in ranked if r.item == i)
        assert "variety" in r.reason.lower()
        assert r.breakdown["score_parts"]["coverage_exposure_bonus"] == pytest.approx(1.0)
