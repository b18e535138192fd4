"""The ranker end to end on the synthetic shop: trained on the validation period, evaluated on test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from shelfwise.encoded.data import RecommendData
from shelfwise.metrics import evaluate_ranking
from shelfwise.ranking import (
    FLOOR,
    HarnessModel,
    RankedPipeline,
    Ranker,
    RecommenderSource,
    RequestSet,
    WeightedEnsemble,
    contexts_for,
    fit_state,
    generate_requests,
    stacked_config,
    validation_view,
)
from shelfwise.retrieval.base import UserContext

from .conftest import K, make_sources, small_config


@dataclass
class Trained:
    data: RecommendData
    sources: list[RecommenderSource]
    requests: RequestSet
    ranker: Ranker
    pipeline: RankedPipeline


@pytest.fixture(scope="module")
def trained(loo_data: RecommendData) -> Trained:
    view = validation_view(loo_data)
    sources = make_sources()
    for s in sources:
        s.fit(view)
    requests = generate_requests(
        sources, contexts_for(view, view.ranking.test_users), view.ranking.test_targets, K
    )
    ranker = Ranker(small_config()).fit_requests(requests, fit_state(view))
    test_sources = make_sources()
    pipeline = RankedPipeline(test_sources, ranker, k_per_source=K).fit(loo_data)
    ranker.state = fit_state(loo_data)
    return Trained(loo_data, test_sources, requests, ranker, pipeline)


def _ndcg(model: object, data: RecommendData) -> float:
    r = data.ranking
    res = evaluate_ranking(model, r.test_users, r.test_targets, r.train_valid[r.test_users], ["ndcg@10"])  # type: ignore[arg-type]
    return res.metrics["ndcg@10"]


def test_ranker_beats_every_source_on_test(trained: Trained) -> None:
    data = trained.data
    ranker_ndcg = _ndcg(HarnessModel(trained.pipeline, data.train_valid_sequences), data)
    source_ndcg = {s.name: _ndcg(s.model, data) for s in trained.sources}
    assert ranker_ndcg > 1.2 * max(source_ndcg.values()), (ranker_ndcg, source_ndcg)
    # the synthetic shoppers' latent tastes are brand and price band: the ranker uses those affinities
    top = list(trained.ranker.model.importance())[:12]
    assert {"aff_brand", "aff_price_band"} & set(top), top


def test_score_all_puts_candidates_above_a_floor(trained: Trained) -> None:
    data = trained.data
    users = data.ranking.test_users[:5]
    contexts = [UserContext(user_index=int(u), history=data.train_valid_sequences[int(u)]) for u in users]
    scores = trained.pipeline.score_all(contexts)
    merged = trained.pipeline.merged(contexts)
    assert scores.shape == (5, data.n_items) and scores.dtype == np.float32
    for row, m in zip(scores, merged, strict=True):
        is_cand = np.isin(np.arange(data.n_items), m.items)
        assert (row[is_cand] >= 1.0).all() and (row[~is_cand] == FLOOR).all()
        ranked = trained.ranker.rank(contexts[0], merged[0], explain_top=0) if m is merged[0] else None
        if ranked is not None:  # the same order as rank()
            assert (np.diff(row[ranked.items]) <= 0).all()


def test_rank_explains_with_contributions_that_sum_to_the_score(trained: Trained) -> None:
    data = trained.data
    u = int(data.ranking.test_users[0])
    ctx = UserContext(user_index=u, history=data.train_valid_sequences[u])
    ranked = trained.ranker.rank(ctx, trained.pipeline.merged([ctx])[0], explain_top=5)
    assert ranked.contributions is not None and ranked.contributions.shape == (
        5,
        len(ranked.feature_names) + 1,
    )
    np.testing.assert_allclose(ranked.contributions.sum(axis=1), ranked.scores[:5], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError):
        ranked.reasons(5)
    assert (np.diff(ranked.scores) <= 0).all()
    reasons = ranked.reasons(0)
    assert reasons and all(name in ranked.feature_names and c > 0 for name, c, _ in reasons)
    excluded = UserContext(user_index=u, history=ctx.history, exclude=ranked.items[:2])
    again = trained.ranker.rank(excluded, trained.pipeline.merged([ctx])[0], explain_top=0)
    assert not np.isin(ranked.items[:2], again.items).any()
    # serving excludes at the sources too (their lists move up), and orders like rank() on that merge
    again = trained.ranker.rank(excluded, trained.pipeline.merged([excluded])[0], explain_top=0)
    served = trained.pipeline.candidates(excluded, 5)
    assert not np.isin(ranked.items[:2], served.items).any()
    assert served.items.tolist() == again.items[:5].tolist()


def test_save_load_gives_the_same_scores(trained: Trained, tmp_path: Path) -> None:
    trained.ranker.save(tmp_path / "ranker")
    trained.ranker.state.save(tmp_path / "state")  # type: ignore[union-attr]
    assert (tmp_path / "ranker" / "model.txt").read_text().startswith("tree")
    from shelfwise.ranking import FeatureState

    back = Ranker.load(tmp_path / "ranker", FeatureState.load(tmp_path / "state"))
    data = trained.data
    u = int(data.ranking.test_users[1])
    ctx = UserContext(user_index=u, history=data.train_valid_sequences[u])
    merged = trained.pipeline.merged([ctx])[0]
    a, b = trained.ranker.rank(ctx, merged), back.rank(ctx, merged)
    np.testing.assert_array_equal(a.items, b.items)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)


def test_ensembles_learn_from_validation(trained: Trained) -> None:
    ens = WeightedEnsemble().fit(trained.requests)
    assert ens.weights.sum() == pytest.approx(1.0) and (ens.weights >= 0).all()
    equal = WeightedEnsemble(sources=ens.sources)
    from shelfwise.ranking import grouped_ndcg

    def valid_ndcg(e: WeightedEnsemble) -> float:
        scores = np.concatenate([e.score_merged(m) for m in trained.requests.merged])
        labels = np.concatenate(trained.requests.labels)
        groups = np.repeat(np.arange(len(trained.requests.merged)), [len(m) for m in trained.requests.merged])
        return grouped_ndcg(scores, labels, groups, len(trained.requests.merged), 10)

    assert valid_ndcg(ens) >= valid_ndcg(equal)
    assert ens.valid_ndcg == pytest.approx(valid_ndcg(ens) / trained.requests.n_requests)
    stacked = Ranker(stacked_config(small_config()))
    view = validation_view(trained.data)
    stacked.fit_requests(trained.requests, fit_state(view))
    assert all(n.startswith(("als_", "itemknn_", "popularity_", "n_sources")) for n in stacked.features.names)  # type: ignore[union-attr]
