"""The pipeline's API: the knob mapping, per-request overrides, batch re-ranking, JSON output, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

import shelfwise.rerank as rerank
from shelfwise.metrics import CategoryILD, IntraListDiversity, Miscalibration
from shelfwise.rerank import (
    CandidateList,
    ItemCatalog,
    RerankConfig,
    RerankPipeline,
    UserContext,
    rerank_top_items,
)

from .conftest import candidates_for, make_catalog

CATALOG = make_catalog(n_items=200, n_cats=10, seed=9)


def test_public_api_is_all() -> None:
    public = {n for n in dir(rerank) if not n.startswith("_")}
    modules = {
        "base",
        "batch",
        "calibration",
        "catalog",
        "config",
        "dpp",
        "explain",
        "exploration",
        "exposure",
        "fair",
        "fair_shared",
        "greedy",
        "mmr",
        "pipeline",
        "quotas",
        "registry",
        "rules",
    }
    assert public - modules - {"annotations"} == set(rerank.__all__)


@pytest.mark.parametrize(
    ("method", "expected"),
    [("none", {}), ("mmr", {"lambda": 0.7}), ("calibrated", {"lambda": 0.3}), ("xquad", {"lambda": 0.3})],
)
def test_knob_mapping(method: str, expected: dict[str, float]) -> None:
    assert RerankConfig(method=method, diversity=0.3).trade_off() == expected  # type: ignore[arg-type]


def test_dpp_knob_maps_to_chen_alpha() -> None:
    t = RerankConfig(method="dpp", diversity=0.25).trade_off()
    assert t["theta"] == 0.75 and t["alpha"] == pytest.approx(0.75 / 0.5)


def test_with_knob_validates_and_leaves_the_original_alone() -> None:
    cfg = RerankConfig(method="mmr", diversity=0.2)
    new = cfg.with_knob(diversity=0.9, method="dpp")
    assert (new.method, new.diversity, cfg.diversity) == ("dpp", 0.9, 0.2)
    with pytest.raises(ValueError):
        cfg.with_knob(diversity=-0.1)


def test_the_knob_alone_diversifies_and_an_explicit_none_stays_off() -> None:
    from shelfwise.config import load_settings

    assert load_settings(overrides=["rerank.diversity=0.3"], environ={}).rerank.method == "mmr"
    assert load_settings(overrides=["rerank.diversity=0"], environ={}).rerank.method == "none"
    assert RerankConfig().with_knob(diversity=0.5).method == "mmr"  # a request's knob on the defaults
    assert RerankConfig(method="none").with_knob(diversity=0.5).method == "none"  # the shop turned it off
    assert RerankConfig(method="dpp", diversity=0.4).with_knob(method="none").method == "none"
    cands = candidates_for(CATALOG, n=50, seed=4, user=UserContext(history=np.arange(0, 200, 17)))
    relevance = cands.items[np.argsort(-cands.scores, kind="stable")[:10]]
    varied = RerankPipeline(RerankConfig()).rerank(cands, config=RerankConfig().with_knob(diversity=0.9))
    assert set(varied.indices().tolist()) != set(relevance.tolist())


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated", "xquad"])
def test_zero_diversity_is_the_relevance_order_end_to_end(method: str) -> None:
    cands = candidates_for(CATALOG, n=50, seed=4, user=UserContext(history=np.arange(0, 200, 17)))
    out = RerankPipeline(RerankConfig(method=method, diversity=0.0)).rerank(cands)
    np.testing.assert_array_equal(out.indices(), cands.items[np.argsort(-cands.scores, kind="stable")[:10]])
    assert all(r.breakdown["placed_by"] == "relevance" for r in out)


def test_ranked_list_is_json_ready_and_explain_false_gives_the_same_order() -> None:
    cands = candidates_for(CATALOG, n=50, seed=2, user=UserContext(history=np.arange(5)))
    pipe = RerankPipeline(RerankConfig(method="dpp", diversity=0.5))
    full, fast = pipe.rerank(cands), pipe.rerank(cands, explain=False)
    np.testing.assert_array_equal(full.indices(), fast.indices())
    doc = json.loads(json.dumps(full.to_dict()))
    assert doc["method"] == "dpp" and len(doc["items"]) == 10 and doc["trade_off"]["theta"] == 0.5
    assert [r.position for r in full] == list(range(1, 11))


def test_batch_rerank_raises_harness_diversity_and_lowers_miscalibration() -> None:
    rng = np.random.default_rng(0)
    n_users = 60
    assert CATALOG.categories is not None and CATALOG.embeddings is not None
    items = np.stack([rng.permutation(200)[:100] for _ in range(n_users)])
    # relevance concentrated on one category per user, history spread over three
    fav = rng.integers(0, 10, n_users)
    scores = rng.random((n_users, 100)) + 1.5 * (CATALOG.categories[items] == fav[:, None])
    rows, cols = [], []
    for u in range(n_users):
        liked = np.flatnonzero(np.isin(CATALOG.categories, [fav[u], (fav[u] + 1) % 10, (fav[u] + 2) % 10]))
        pick = rng.choice(liked, 9, replace=False)
        rows += [u] * 9
        cols += pick.tolist()
    hist = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, 200))
    base = rerank_top_items(RerankPipeline(), items, scores, CATALOG, hist)
    ild = IntraListDiversity(CATALOG.embeddings, k=10)
    cild, mis = CategoryILD(CATALOG.categories, k=10), Miscalibration(CATALOG.categories, k=10)
    for method in ("mmr", "dpp"):
        out = rerank_top_items(
            RerankPipeline(RerankConfig(method=method, diversity=0.5)), items, scores, CATALOG, hist
        )
        assert ild.compute(out) > 1.2 * ild.compute(base)
        assert cild.compute(out) > cild.compute(base)
    cal = rerank_top_items(
        RerankPipeline(RerankConfig(method="calibrated", diversity=0.5)), items, scores, CATALOG, hist
    )
    assert mis.compute(cal, hist) < 0.6 * mis.compute(base, hist)
    assert base.shape == (n_users, 10) and base.dtype == np.int32


def test_candidate_list_validation() -> None:
    cat = ItemCatalog(categories=np.zeros(5, dtype=np.int32))
    with pytest.raises(ValueError, match="distinct"):
        CandidateList(np.array([1, 1]), np.array([0.5, 0.4]), cat)
    with pytest.raises(ValueError, match="finite"):
        CandidateList(np.array([1, 2]), np.array([np.nan, 0.4]), cat)
    with pytest.raises(ValueError, match="outside"):
        CandidateList(np.array([1, 9]), np.array([0.5, 0.4]), cat)


def test_catalog_normalises_embeddings_and_builds_the_user_mix() -> None:
    cat = ItemCatalog(
        embeddings=np.array([[3.0, 4.0], [0.0, 0.0]]), categories=np.array([0, 2], dtype=np.int32)
    )
    assert cat.embeddings is not None
    np.testing.assert_allclose(cat.embeddings, [[0.6, 0.8], [0.0, 0.0]])
    mix = UserContext(history=np.array([0, 1, 1]), history_weights=np.array([2.0, 1.0, 1.0])).mix(cat)
    assert mix is not None
    np.testing.assert_allclose(mix, [0.5, 0.0, 0.5])


@pytest.mark.parametrize("method", ["mmr", "dpp", "calibrated", "xquad"])
def test_relevance_order_shows_the_same_diversified_set_most_relevant_first(method: str) -> None:
    cat = make_catalog(seed=5)
    cands = candidates_for(cat, n=60, seed=5, user=UserContext(history=np.arange(8)))
    cfg = RerankConfig(method=method, diversity=0.7)
    chosen = RerankPipeline(cfg).rerank(cands, explain=False)
    shown = RerankPipeline(cfg.with_knob(order="relevance")).rerank(cands, explain=False)
    assert set(shown.indices().tolist()) == set(chosen.indices().tolist())
    scores = [r.score for r in shown]
    assert scores == sorted(scores, reverse=True)
    assert [r.score for r in chosen] != scores  # at 0.7 the methods do reorder here
