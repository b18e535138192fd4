"""The recommender's versioned artifact: ``<store>/artifacts/recommender/vNNNN/`` (JSON + arrays, no pickle).

Layout::

    pipeline.json             settings, source names, sizes, training report
    item_ids.npy / user_ids.npy   external ids in the models' index order (unicode arrays)
    history_offsets.npy / history_items.npy   every shopper's items in time order
    sources/<name>/           each fitted source (its own save format + source.json)
    ranker/                   the LightGBM ranker (ranker.json, model.txt)
    state/                    the ranker's feature state (state.json, state.npz)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from shelfwise.config import Settings
from shelfwise.ranking.ranker import Ranker
from shelfwise.ranking.state import FeatureState
from shelfwise.recommend.pipeline import ShelfwisePipeline
from shelfwise.recommend.sources import load_source, save_source
from shelfwise.recommend.types import NotTrainedError
from shelfwise.storage import Artifact, ArtifactNotFoundError, ArtifactStore

__all__ = ["ARTIFACT_NAME", "LoadedArtifact", "load_pipeline", "save_pipeline"]

ARTIFACT_NAME = "recommender"


@dataclass
class LoadedArtifact:
    """What :func:`load_pipeline` returns."""

    pipeline: ShelfwisePipeline
    item_ids: list[str]
    user_ids: list[str]
    histories: list[np.ndarray]
    meta: dict[str, Any]
    artifact: Artifact


def save_pipeline(
    artifacts: ArtifactStore,
    pipeline: ShelfwisePipeline,
    item_ids: list[str],
    user_ids: list[str],
    histories: list[np.ndarray],
    settings: Settings,
    report: dict[str, Any],
) -> Artifact:
    """Write the next version of the recommender artifact."""
    config = {"recommend": settings.recommend.model_dump(mode="json"), "seed": settings.seed}
    with artifacts.writer(ARTIFACT_NAME, config=config, report=report) as folder:
        meta = {
            "sources": list(pipeline.names),
            "k_per_source": pipeline.k_per_source,
            "n_items": len(item_ids),
            "n_users": len(user_ids),
            "report": report,
        }
        (folder / "pipeline.json").write_text(json.dumps(meta, indent=2, default=str))
        np.save(folder / "item_ids.npy", np.asarray(item_ids, dtype=str), allow_pickle=False)
        np.save(folder / "user_ids.npy", np.asarray(user_ids, dtype=str), allow_pickle=False)
        lengths = np.asarray([len(h) for h in histories], dtype=np.int64)
        np.save(folder / "history_offsets.npy", np.concatenate([[0], np.cumsum(lengths)]), allow_pickle=False)
        flat = np.concatenate([np.asarray(h, np.int32) for h in histories]) if histories else np.zeros(0)
        np.save(folder / "history_items.npy", flat.astype(np.int32), allow_pickle=False)
        for source in pipeline.sources:
            save_source(source, folder / "sources" / source.name)
        pipeline.ranker.save(folder / "ranker")
        if pipeline.ranker.state is None:
            raise RuntimeError("the ranker has no feature state to save")
        pipeline.ranker.state.save(folder / "state")
    return artifacts.latest(ARTIFACT_NAME)


def load_pipeline(artifacts: ArtifactStore, settings: Settings, version: int | None = None) -> LoadedArtifact:
    """Load the newest (or a given) version.

    Raises:
        NotTrainedError: nothing was trained in this store yet.
        ValueError: the artifact's files do not match their checksums.
    """
    try:
        art = artifacts.latest(ARTIFACT_NAME) if version is None else artifacts.get(ARTIFACT_NAME, version)
    except ArtifactNotFoundError as exc:
        raise NotTrainedError(
            f"no trained recommender under {artifacts.root}: run `shelfwise train --store <store>` first"
        ) from exc
    bad = artifacts.verify(art)
    if bad:
        raise ValueError(f"recommender artifact v{art.version} is damaged: {bad[:5]}")
    folder = art.path
    meta = json.loads((folder / "pipeline.json").read_text())
    sources = [load_source(folder / "sources" / name, settings) for name in meta["sources"]]
    state = FeatureState.load(folder / "state")
    ranker = Ranker.load(folder / "ranker", state)
    pipeline = ShelfwisePipeline(sources, ranker, int(meta["k_per_source"]))
    offsets = np.load(folder / "history_offsets.npy", allow_pickle=False)
    flat = np.load(folder / "history_items.npy", allow_pickle=False)
    histories = [flat[offsets[k] : offsets[k + 1]].copy() for k in range(offsets.size - 1)]
    return LoadedArtifact(
        pipeline,
        np.load(folder / "item_ids.npy", allow_pickle=False).tolist(),
        np.load(folder / "user_ids.npy", allow_pickle=False).tolist(),
        histories,
        meta,
        art,
    )
