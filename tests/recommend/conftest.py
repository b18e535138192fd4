"""Shared by the recommender tests: the demo shop loaded and trained with small, fast settings."""

from __future__ import annotations

from pathlib import Path

from shelfwise.config import Settings, load_settings

#: Fewer factors and a sampled ranker: the same pipeline, trained in seconds.
FAST = [
    'recommend.sources=["als", "itemknn", "item2item", "popular"]',
    "recommend.ranker_max_users=400",
    "models.als.factors=32",
    "models.als.iterations=5",
]


def fast_settings() -> Settings:
    """The settings of :data:`FAST`."""
    return load_settings(overrides=FAST, environ={})


def trained_demo(path: Path) -> Path:
    """The bundled sample shop loaded into ``path`` and the recommender trained with :func:`fast_settings`."""
    from shelfwise.demo import run_demo
    from shelfwise.recommend import train_recommender
    from shelfwise.storage import open_store

    run_demo(path)
    with open_store(path) as st:
        train_recommender(st, fast_settings(), show_progress=False)
    return path
