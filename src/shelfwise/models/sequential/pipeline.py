"""From a shop's store to a served sequential model: event sequences, training, versioned artifacts.

What ``shelfwise train`` and the API server call::

    model = train_from_tables(events, items, SequentialConfig(), encoder=EncoderConfig(cache_dir=...))
    artifact = save_artifact(model, store.artifacts)          # <root>/sequential/v0001/...
    model = load_artifact(store.artifacts)                     # newest complete version
    scores = model.score_sequences([model.encode_items(recent_item_ids)])

Training for serving uses every shopper's history but the last item, and stops early on that last item
(leave-one-out without a test part); the benchmark protocol (train / valid / test) is in
:func:`~shelfwise.models.sequential.train.fit_on_split`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.encoded import LeaveOneOut, RankingData, Split
from shelfwise.encoders import EncoderConfig
from shelfwise.models.sequential.config import SequentialConfig
from shelfwise.models.sequential.data import sequences_from_split
from shelfwise.models.sequential.recommender import SequentialRecommender
from shelfwise.models.sequential.text import item_text_vectors, item_texts, items_in_order
from shelfwise.models.sequential.train import fit_on_split
from shelfwise.storage.artifacts import Artifact, ArtifactStore

__all__ = ["ARTIFACT_NAME", "load_artifact", "save_artifact", "sequence_events", "train_from_tables"]

log = logging.getLogger(__name__)

#: Artifact folder name of the sequential model.
ARTIFACT_NAME = "sequential"


def sequence_events(
    events: pa.Table, types: Sequence[str] | None = None, collapse_repeats: bool = True
) -> pa.Table:
    """The events a sequence model reads: those with an item, of the given types, time-ordered.

    Args:
        events: events with ``user_id``, ``item_id``, ``type``, ``timestamp`` (and ``seq``), as
            :meth:`Store.read_events` returns them.
        types: event types to keep (``None``: all with an item).
        collapse_repeats: drop an event whose item equals the user's previous kept item (a view, then
            add-to-cart, then purchase of one item is one step of the sequence).

    Returns:
        The kept rows, ordered by ``(user_id, timestamp, seq)``.
    """
    table = events.filter(pc.is_valid(events.column("item_id")))
    if types is not None:
        table = table.filter(pc.is_in(table.column("type"), pa.array(list(types), pa.string())))
    keys = [("user_id", "ascending"), ("timestamp", "ascending")]
    if "seq" in table.column_names:
        keys.append(("seq", "ascending"))
    table = table.sort_by(keys)
    if collapse_repeats and table.num_rows:
        users = np.asarray(table.column("user_id").to_pylist(), dtype=object)
        items = np.asarray(table.column("item_id").to_pylist(), dtype=object)
        keep = np.ones(table.num_rows, dtype=bool)
        keep[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
        table = table.filter(pa.array(keep))
    return table


def _serving_split(events: pa.Table) -> Split:
    """Leave-one-out without a test part: the last item of each user is the validation target."""
    loo = LeaveOneOut().split(events)
    train = np.sort(np.concatenate([loo.train, loo.valid]))
    split = Split("serving[last item = valid]", loo.table, train, loo.test, np.zeros(0, dtype=np.int64))
    split.check_disjoint()
    return split


def train_from_tables(
    events: pa.Table,
    items: pa.Table | None,
    config: SequentialConfig | None = None,
    *,
    encoder: EncoderConfig | None = None,
    item_vectors: np.ndarray | None = None,
    types: Sequence[str] | None = None,
    show_progress: bool = True,
) -> SequentialRecommender:
    """Train a model for serving on a shop's events and catalogue.

    Args:
        events: the event log (see :func:`sequence_events`).
        items: the catalogue (titles, brands, categories) for the text vectors; items that never occur in
            the events are not scored (add them with :meth:`SequentialRecommender.add_items`).
        config: model settings (default :class:`SequentialConfig`).
        encoder: text-encoder settings (default ONNX all-MiniLM-L6-v2); set ``cache_dir`` to reuse vectors.
        item_vectors: precomputed text vectors in sorted-item-id order (skips encoding).
        types: event types that make the sequences (``None``: all with an item).
        show_progress: tqdm bars.

    Returns:
        The model, holding every user's full sequence, the external user ids and item ids.
    """
    config = config or SequentialConfig()
    table = sequence_events(events, types)
    split = _serving_split(table)
    data = RankingData.from_split(split)
    if config.uses_text and item_vectors is None:
        if items is None:
            raise ValueError(f"item_embedding={config.item_embedding!r} needs the catalogue (items)")
        texts = item_texts(items_in_order(items, [str(i) for i in data.items.ids]))
        item_vectors = item_text_vectors(texts, encoder, show_progress=show_progress)
    model = fit_on_split(config, split, data, item_vectors=item_vectors, show_progress=show_progress)
    everything = sequences_from_split(split, data.users, data.items, ("train", "valid"))
    return model.with_user_sequences(everything, user_ids=np.asarray(data.users.ids, dtype=str))


def save_artifact(
    model: SequentialRecommender, artifacts: ArtifactStore, name: str = ARTIFACT_NAME, **info: Any
) -> Artifact:
    """Save ``model`` as the next version of artifact ``name``; ``info`` goes into the manifest."""
    valid = model.report.get("best_valid", {})
    with artifacts.writer(name, config=model.config.model_dump(mode="json"), valid=valid, **info) as folder:
        model.save(folder)
    artifact = artifacts.latest(name)
    log.info("saved %s as %s v%d", model.name, name, artifact.version)
    return artifact


def load_artifact(
    artifacts: ArtifactStore, name: str = ARTIFACT_NAME, version: int | None = None
) -> SequentialRecommender:
    """Load the newest (or a given) version of artifact ``name``; checks file checksums first."""
    artifact = artifacts.latest(name) if version is None else artifacts.get(name, version)
    bad = artifacts.verify(artifact)
    if bad:
        raise ValueError(f"artifact {name} v{artifact.version} is damaged: {bad}")
    return SequentialRecommender.load(artifact.path)
