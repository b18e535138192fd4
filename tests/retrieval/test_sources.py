"""Every candidate source of issue #5 against one contract, on the synthetic shop whose tastes are known."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shelfwise.config import load_settings
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.encoded.data import RecommendData
from shelfwise.evaluation.registry import recommender_names
from shelfwise.evaluation.runner import run_recommend
from shelfwise.evaluation.source_models import SourceModel
from shelfwise.retrieval.base import CandidateSource, UserContext
from shelfwise.retrieval.cf import ALSSource, ALSSourceConfig
from shelfwise.retrieval.content import ContentConfig, ContentSource, ProfileSource, TextProfileConfig
from shelfwise.retrieval.history import EventLog
from shelfwise.retrieval.item2item import (
    CoOccurrenceConfig,
    CoOccurrenceSource,
    TextSimilarityConfig,
    TextSimilaritySource,
)
from shelfwise.retrieval.popular import PopularSource, TrendingSource
from shelfwise.retrieval.sources_registry import SOURCE_NAMES
from shelfwise.retrieval.text_vectors import TextVectorConfig
from shelfwise.storage import Store
from tests.retrieval.conftest import BagOfWordsEncoder

NO_CACHE = TextVectorConfig(cache_dir=None)

FACTORIES: dict[str, Callable[[], CandidateSource]] = {
    "popular": PopularSource,
    "trending": TrendingSource,
    "item2item": CoOccurrenceSource,
    "item2item_knn": lambda: CoOccurrenceSource(CoOccurrenceConfig(window=None, neighbours=50)),
    "item2item_text": lambda: TextSimilaritySource(TextSimilarityConfig(text=NO_CACHE), BagOfWordsEncoder()),
    "als": lambda: ALSSource(ALSSourceConfig(factors=16, iterations=4, regularization=1.0, alpha=10.0)),
    "profile_text": lambda: ProfileSource(TextProfileConfig(text=NO_CACHE), BagOfWordsEncoder()),
    "content": lambda: ContentSource(ContentConfig(text=NO_CACHE), BagOfWordsEncoder()),
}
PERSONAL = ("item2item", "item2item_knn", "item2item_text", "als", "profile_text", "content")


@pytest.fixture(scope="module")
def fitted(shop_data: RecommendData) -> dict[str, CandidateSource]:
    return {name: make().fit(shop_data) for name, make in FACTORIES.items()}


@pytest.fixture(scope="module")
def events(shop_data: RecommendData) -> EventLog:
    return EventLog.from_data(shop_data)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_score_all_is_float32_full_width_and_reproducible(
    name: str, fitted: dict[str, CandidateSource], events: EventLog, shop_data: RecommendData
) -> None:
    contexts = events.contexts(np.arange(12))
    scores = fitted[name].score_all(list(contexts))
    assert scores.shape == (12, shop_data.n_items) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    again = FACTORIES[name]().fit(shop_data).score_all(list(contexts))
    np.testing.assert_allclose(scores, again, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_candidates_are_ranked_unique_named_and_respect_exclude(
    name: str, fitted: dict[str, CandidateSource], events: EventLog
) -> None:
    src = fitted[name]
    ctx = events.context(3)
    first = src.candidates(ctx, 30)
    assert first.source == src.name and first.items.dtype == np.int32 and first.scores.dtype == np.float32
    assert 0 < first.items.size <= 30 and np.unique(first.items).size == first.items.size
    assert np.all(np.diff(first.scores) <= 0)
    banned = first.items[:5]
    ctx_excl = UserContext(ctx.user_index, ctx.history, ctx.weights, ctx.session, None, banned)
    second = src.candidates(ctx_excl, 30)
    assert not np.isin(second.items, banned).any()
    np.testing.assert_array_equal(second.items[:10], first.items[5:15])


@pytest.mark.parametrize("name", list(FACTORIES))
def test_save_and_load_give_the_same_scores(
    name: str, fitted: dict[str, CandidateSource], events: EventLog, tmp_path: Path
) -> None:
    src = fitted[name]
    src.save(tmp_path / name)
    assert (tmp_path / name / "manifest.json").exists()
    assert not list((tmp_path / name).glob("*.pkl"))
    kwargs: dict[str, Any] = (
        {"encoder": BagOfWordsEncoder()} if name in ("item2item_text", "profile_text", "content") else {}
    )
    loaded = type(src).load(tmp_path / name, **kwargs)  # type: ignore[attr-defined]
    contexts = list(events.contexts(np.arange(8)))
    np.testing.assert_allclose(loaded.score_all(contexts), src.score_all(contexts), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        loaded.candidates(contexts[0], 20).items, src.candidates(contexts[0], 20).items
    )


@pytest.mark.parametrize("name", ["item2item", "item2item_knn", "item2item_text"])
def test_item_to_item_candidates_carry_history_anchors(
    name: str, fitted: dict[str, CandidateSource], events: EventLog
) -> None:
    ctx = events.context(5)
    cand = fitted[name].candidates(ctx, 25)
    assert cand.anchors is not None and cand.anchors.shape == cand.items.shape
    assert np.isin(cand.anchors, ctx.history).all()
    assert (cand.scores > 0).all()  # sparse sources propose only neighbours of the history


def _category_share(
    shop: SyntheticShop, data: RecommendData, src: CandidateSource, events: EventLog, users: np.ndarray
) -> float:
    cats = np.asarray(data.items.column("category").to_pylist(), dtype=object)
    ids = data.ranking.users.decode(users)
    shares = []
    for u, uid in zip(users, ids, strict=True):
        cand = src.candidates(events.context(int(u)), 20)
        shares.append(np.isin(cats[cand.items], shop.truth[str(uid)].categories).mean())
    return float(np.mean(shares))


def test_personal_sources_recover_the_users_known_categories(
    shop: SyntheticShop, shop_data: RecommendData, fitted: dict[str, CandidateSource], events: EventLog
) -> None:
    users = np.arange(0, shop_data.n_users, 3)
    baseline = _category_share(shop, shop_data, fitted["popular"], events, users)
    assert baseline < 0.4  # popular items are spread over the 10 categories
    for name in PERSONAL:
        share = _category_share(shop, shop_data, fitted[name], events, users)
        assert share > 0.6 and share > baseline + 0.3, (name, share, baseline)


def test_unknown_user_is_served_from_the_request_history(
    fitted: dict[str, CandidateSource], events: EventLog
) -> None:
    known = events.context(7)
    anonymous = dataclasses.replace(known, user_index=-1)  # same request, a user no model saw
    for name in ("item2item", "item2item_text", "profile_text", "content"):
        np.testing.assert_allclose(
            fitted[name].score_all([anonymous])[0], fitted[name].score_all([known])[0], rtol=1e-5, atol=1e-6
        )
    als = fitted["als"].candidates(anonymous, 20)
    assert als.items.size == 20  # folded in, not an error


def test_sources_are_registered_and_run_through_the_harness(filled_store: Store) -> None:
    assert set(SOURCE_NAMES) <= set(recommender_names())
    settings = load_settings(overrides=["models.als.factors=16", "models.als.iterations=4"], environ={})
    result = run_recommend(
        filled_store, ["popularity", "popular", "item2item", "als_source", "als_foldin"], settings
    )
    table = result.table()
    assert set(table) == {"popularity", "popular", "item2item", "als_source", "als_foldin"}
    # the event-weighted popular source is the popularity baseline up to event weights: same ballpark
    assert abs(table["popular"]["hr@10"] - table["popularity"]["hr@10"]) < 0.1
    assert table["item2item"]["hr@20"] > table["popular"]["hr@20"]
    assert table["als_foldin"]["hr@20"] > table["popular"]["hr@20"]
    assert result.to_dict()["models"]["item2item"]["params"]["window"] == CoOccurrenceConfig().window


def test_adapter_fits_on_train_only_for_validation(shop_data: RecommendData) -> None:
    model = SourceModel(PopularSource(), "popular")
    model.fit(shop_data, "train")
    assert model.events is not None
    assert model.events.items.size == shop_data.split.train.size
    model.fit(shop_data, "train_valid")
    assert model.events.items.size == shop_data.split.train.size + shop_data.split.valid.size
