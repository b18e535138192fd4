"""The one-call training recipe and the ranker inside ``shelfwise evaluate``'s runner."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.encoded.data import RecommendData
from shelfwise.evaluation import registry
from shelfwise.evaluation.ranker_model import RankerEvalModel
from shelfwise.evaluation.registry import recommender_names
from shelfwise.evaluation.runner import run_recommend
from shelfwise.metrics import evaluate_ranking
from shelfwise.ranking import HarnessModel, baseline_sources, fit_ranked_pipeline
from shelfwise.storage import Store

from .conftest import make_sources, small_config


def test_fit_ranked_pipeline_serves_and_ranks(loo_data: RecommendData) -> None:
    pipeline = fit_ranked_pipeline(loo_data, make_sources, small_config(), max_users=80)
    r = loo_data.ranking
    model = HarnessModel(pipeline, loo_data.train_valid_sequences)
    res = evaluate_ranking(model, r.test_users, r.test_targets, r.train_valid[r.test_users], ["ndcg@10"])
    pop = evaluate_ranking(pipeline.sources[2].model, r.test_users, r.test_targets, None, ["ndcg@10"])  # type: ignore[attr-defined]
    assert res.metrics["ndcg@10"] > 2 * pop.metrics["ndcg@10"]
    assert pipeline.n_items == loo_data.n_items
    assert np.isfinite(model.score(r.test_users[:3])).all()


def test_runner_evaluates_the_ranker_on_test(
    store: Store, shop: SyntheticShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
    settings = load_settings(
        overrides=["models.als.factors=16", "models.als.iterations=5", "models.itemknn.k=50"], environ={}
    )
    assert "ranker" in recommender_names()  # registered with the default settings on import

    def _small(s: Settings) -> RankerEvalModel:
        return RankerEvalModel(baseline_sources(s), small_config(), name="ranker-test")

    monkeypatch.setitem(registry._RECOMMENDERS, "ranker-test", _small)  # this test only

    result = run_recommend(store, ["popularity", "ranker-test"], settings)
    table = result.table()
    assert table["ranker-test"]["ndcg@10"] > table["popularity"]["ndcg@10"]
    assert result.to_dict()["models"]["ranker-test"]["params"]["k_per_source"] == small_config().k_per_source


def test_the_retrieval_sources_plug_in(loo_data: RecommendData) -> None:
    """The concrete candidate sources of shelfwise.retrieval work as ranker inputs unchanged."""
    from shelfwise.retrieval.cf import ALSSource
    from shelfwise.retrieval.item2item import CoOccurrenceSource
    from shelfwise.retrieval.popular import PopularSource

    pipeline = fit_ranked_pipeline(
        loo_data, lambda: [ALSSource(), CoOccurrenceSource(), PopularSource()], small_config(), max_users=80
    )
    assert pipeline.scorer.sources == ("als", "item2item", "popular")  # type: ignore[attr-defined]
    r = loo_data.ranking
    res = evaluate_ranking(
        HarnessModel(pipeline, loo_data.train_valid_sequences),
        r.test_users,
        r.test_targets,
        r.train_valid[r.test_users],
        ["ndcg@10"],
    )
    popular = PopularSource().fit(loo_data)
    pop = evaluate_ranking(
        HarnessModel(popular, loo_data.train_valid_sequences), r.test_users, r.test_targets, None, ["ndcg@10"]
    )
    assert res.metrics["ndcg@10"] > 2 * pop.metrics["ndcg@10"]
