"""Fixtures of the ranking tests: the synthetic shop in a store, its leave-one-out data, small sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.encoded.data import RecommendData, load_recommend_data
from shelfwise.ranking import LGBMConfig, RankerConfig, RecommenderSource
from shelfwise.retrieval.baselines import ALS, ItemKNN, Popularity
from shelfwise.storage import open_store

K = 50


@pytest.fixture(scope="session")
def loo_data(shop: SyntheticShop, tmp_path_factory: pytest.TempPathFactory) -> RecommendData:
    """The synthetic shop's events split leave-one-out (all event types count)."""
    folder: Path = tmp_path_factory.mktemp("ranking") / "store"
    with open_store(folder) as store:
        Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
        return load_recommend_data(store, "leave-one-out")


def make_sources() -> list[RecommenderSource]:
    """ALS, item-kNN and popularity, small and single-threaded."""
    return [
        RecommenderSource(ALS(factors=16, iterations=5, num_threads=1, seed=0)),
        RecommenderSource(ItemKNN(k=50, num_threads=1)),
        RecommenderSource(Popularity()),
    ]


def small_config(**updates: object) -> RankerConfig:
    """A ranker configuration sized for the tiny synthetic shop."""
    lgbm = LGBMConfig(min_child_samples=5, n_estimators=120, num_threads=1)
    return RankerConfig(k_per_source=K, negatives_per_group=30, lgbm=lgbm).model_copy(update=updates)
