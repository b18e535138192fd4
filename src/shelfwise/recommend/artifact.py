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
import logging
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

__all__ = [
    "ARTIFACT_NAME",
    "LoadedArtifact",
    "StoreCursors",
    "artifact_cursors",
    "load_pipeline",
    "save_pipeline",
    "store_cursors",
]

log = logging.getLogger(__name__)

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

    @property
    def cursors(self) -> StoreCursors:
        """The store state the artifact was trained from (see :func:`artifact_cursors`)."""
        return artifact_cursors(self.artifact.manifest, self.pipeline.ranker.state)


@dataclass(frozen=True)
class StoreCursors:
    """Where in the store's logs an artifact stands.

    Attributes:
        event_seq: events with ``seq`` above this came after training (``None``: an old artifact that
            did not record it; use ``events_after`` instead).
        catalogue_seq: catalogue change log entries above this came after training.
        deletion_seq: deletion log entries above this are not reflected in the artifact's files.
        events_after: Unix seconds; for an old artifact, events later than this came after training.
    """

    event_seq: int | None
    catalogue_seq: int
    deletion_seq: int
    events_after: float | None = None


def store_cursors(store: Any) -> dict[str, int]:
    """The store's current cursors, as recorded in manifests (``event_seq``, ``catalogue_seq``,
    ``deletion_seq``)."""
    return {
        "event_seq": int(store.max_event_seq()),
        "catalogue_seq": int(store.catalogue_seq()),
        "deletion_seq": int(store.deletion_seq()),
    }


def artifact_cursors(manifest: dict[str, Any], state: Any = None) -> StoreCursors:
    """Cursors recorded in a manifest; an old manifest without them falls back to catalogue 0 and, for
    events, the newest event time of the feature state (logged)."""
    if "event_seq" in manifest:
        return StoreCursors(
            int(manifest["event_seq"]),
            int(manifest.get("catalogue_seq", 0)),
            int(manifest.get("deletion_seq", 0)),
        )
    now = getattr(state, "now", None)
    after = float(now) if now is not None and np.isfinite(now) else None
    log.warning(
        "artifact %s v%s records no store cursors (trained before they existed): catalogue changes are "
        "replayed from the start and events after %s",
        manifest.get("name"),
        manifest.get("version"),
        "the beginning" if after is None else f"t={after:.0f}",
    )
    return StoreCursors(None, 0, 0, after)


def save_pipeline(
    artifacts: ArtifactStore,
    pipeline: ShelfwisePipeline,
    item_ids: list[str],
    user_ids: list[str],
    histories: list[np.ndarray],
    settings: Settings,
    report: dict[str, Any],
    cursors: dict[str, int] | None = None,
) -> Artifact:
    """Write the next version of the recommender artifact.

    ``cursors`` (``event_seq``, ``catalogue_seq``, ``deletion_seq``: see :func:`store_cursors`) name the
    store state the models were fitted on; they go into the manifest so serving can catch up from there.
    """
    config = {"recommend": settings.recommend.model_dump(mode="json"), "seed": settings.seed}
    with artifacts.writer(ARTIFACT_NAME, config=config, report=report, **(cursors or {})) as folder:
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
