"""The candidate sources of the served pipeline: built by name, saved and loaded, explained by kind.

Names (``recommend.sources``) and what they are:

=============  =====================================================================  ================
name           source                                                                 kind
=============  =====================================================================  ================
``als``        :class:`~shelfwise.retrieval.cf.ALSSource`, every user folded in from    collaborative
               the request's history (so a new event counts at once; same scores as the
               learned factors on Beauty, ``benchmarks/results/sources.md``)
``itemknn``    item-kNN (BM25) over whole histories, as an item-to-item source            item2item
``item2item``  :class:`~shelfwise.retrieval.item2item.CoOccurrenceSource` (sequences)     item2item
``popular``    :class:`~shelfwise.retrieval.popular.PopularSource`                        popularity
``trending``   :class:`~shelfwise.retrieval.popular.TrendingSource`                       popularity
``sequential`` :class:`~shelfwise.recommend.sequential.SequentialSource` (SASRec)         sequential
=============  =====================================================================  ================

The kind decides the explanation (:mod:`shelfwise.rerank.explain`): item-to-item sources carry the history
item a candidate came from (its anchor), so "similar to X you viewed" is said only when X is in the history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shelfwise.config import Settings
from shelfwise.recommend.config import SOURCE_CHOICES
from shelfwise.retrieval.base import CandidateSource
from shelfwise.retrieval.cf import ALSSource
from shelfwise.retrieval.history import RecencyConfig
from shelfwise.retrieval.item2item import CoOccurrenceConfig, CoOccurrenceSource
from shelfwise.retrieval.popular import PopularConfig, PopularSource, TrendingConfig, TrendingSource
from shelfwise.retrieval.sources_registry import build_source as build_registered

__all__ = ["SOURCE_KIND", "build_source", "load_source", "save_source"]

#: Explanation kind of each source name.
SOURCE_KIND: dict[str, str] = {
    "als": "collaborative",
    "itemknn": "item2item",
    "item2item": "item2item",
    "popular": "popularity",
    "trending": "popularity",
    "sequential": "sequential",
}


def build_source(name: str, settings: Settings) -> CandidateSource:
    """A fresh, unfitted source called ``name`` (see the module table)."""
    seed = settings.seed
    if name == "als":
        return build_registered("als_foldin", settings)
    if name == "itemknn":
        knn = settings.models.itemknn
        src = CoOccurrenceSource(
            CoOccurrenceConfig(
                window=None,
                knn_similarity=knn.similarity,
                neighbours=max(knn.k, 100),
                recency=RecencyConfig(half_life_events=None, event_weights=False),
                seed=seed,
            )
        )
        src.name = "itemknn"
        return src
    if name == "item2item":
        return CoOccurrenceSource(CoOccurrenceConfig(seed=seed))
    if name == "popular":
        return PopularSource(PopularConfig(seed=seed))
    if name == "trending":
        return TrendingSource(TrendingConfig(seed=seed))
    if name == "sequential":
        from shelfwise.recommend.sequential import SequentialSource

        return SequentialSource(settings)
    raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCE_CHOICES)}")


def save_source(source: CandidateSource, folder: Path) -> None:
    """Write a fitted source into ``folder`` with a ``source.json`` naming its class."""
    folder.mkdir(parents=True, exist_ok=True)
    source.save(folder)
    meta: dict[str, Any] = {"name": source.name, "class": type(source).__name__}
    (folder / "source.json").write_text(json.dumps(meta))


def load_source(folder: Path, settings: Settings) -> CandidateSource:
    """Read what :func:`save_source` wrote."""
    meta = json.loads((folder / "source.json").read_text())
    classes: dict[str, Any] = {
        "ALSSource": ALSSource,
        "CoOccurrenceSource": CoOccurrenceSource,
        "PopularSource": PopularSource,
        "TrendingSource": TrendingSource,
    }
    if meta["class"] == "SequentialSource":
        from shelfwise.recommend.sequential import SequentialSource

        return SequentialSource.load(folder, settings)
    if meta["class"] not in classes:
        raise ValueError(f"{folder}: unknown source class {meta['class']!r}")
    source: CandidateSource = classes[meta["class"]].load(folder)
    source.name = meta["name"]
    return source
