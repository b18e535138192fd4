"""What a recommendation model learns from, built from a store: one split of its events, encoded.

:class:`RecommendData` bundles the split of the store's events, its dense encoding
(:class:`~shelfwise.encoded.interactions.RankingData`), per-user item sequences in time order and the
catalogue rows aligned with the dense item index — so an ID-based model, a sequential model and a
text-based model all read the same thing. Training (``shelfwise train``) and the evaluation harness
build it the same way; :data:`Part` names which part of it a model is fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.encoded.interactions import RankingData
from shelfwise.encoded.splits import GivenSplit, LeaveOneOut, Split, TemporalSplit
from shelfwise.privacy.consent import ConsentDefaults, consented_events
from shelfwise.storage import Store

__all__ = [
    "SPLITS",
    "Part",
    "RecommendData",
    "SplitName",
    "aligned_vectors",
    "build_split",
    "load_recommend_data",
    "ordered_events",
]

SplitName = Literal["leave-one-out", "temporal", "given"]
SPLITS: tuple[str, ...] = ("leave-one-out", "temporal", "given")
Part = Literal["train", "train_valid"]
"""What a model is fitted on: ``train`` (validation-time fit) or ``train_valid`` (the test-time refit)."""


@dataclass(frozen=True, eq=False)
class RecommendData:
    """One split of a shop's events, encoded for models.

    Attributes:
        split: the split (row indices into ``split.table``, time-ordered events).
        ranking: dense ids, CSR matrices and held-out targets.
        items: catalogue rows aligned with ``ranking.items`` (nulls for items the catalogue lacks).
        meta: dataset facts from the store (e.g. synthetic timestamps).
        item_vectors: float32 text vectors aligned with ``ranking.items`` from the store's ``item-vectors``
            artifact (``shelfwise build``), zero rows for items it lacks; ``None`` when never built.
    """

    split: Split
    ranking: RankingData
    items: pa.Table
    meta: dict[str, object] = field(default_factory=dict)
    item_vectors: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        """Items in the ranked catalogue."""
        return len(self.ranking.items)

    @property
    def n_users(self) -> int:
        """Users in the split."""
        return len(self.ranking.users)

    def _sequences(self, rows: np.ndarray) -> list[np.ndarray]:
        table = self.split.table
        users = self.ranking.users.encode(table.column("user_id").take(rows).to_pylist())
        items = self.ranking.items.encode(table.column("item_id").take(rows).to_pylist(), unknown=-1)
        seq = np.asarray(rows, dtype=np.int64)  # table rows are in (timestamp, seq) order
        order = np.lexsort((seq, users))
        users, items = users[order], items[order]
        bounds = np.searchsorted(users, np.arange(self.n_users + 1))
        return [
            items[bounds[u] : bounds[u + 1]][items[bounds[u] : bounds[u + 1]] >= 0]
            for u in range(self.n_users)
        ]

    @cached_property
    def train_sequences(self) -> list[np.ndarray]:
        """Per user index: training item indices in time order (for validation-time fitting)."""
        return self._sequences(self.split.train)

    @cached_property
    def train_valid_sequences(self) -> list[np.ndarray]:
        """Per user index: train + valid item indices in time order (history for the test evaluation)."""
        return self._sequences(np.sort(np.concatenate([self.split.train, self.split.valid])))

    def item_text(self) -> list[str]:
        """A title-led text per item (empty string when the catalogue has none)."""
        titles = self.items.column("title").to_pylist()
        return [t or "" for t in titles]


def ordered_events(
    store: Store, event_types: list[str] | None, *, default_consent: ConsentDefaults | None = None
) -> pa.Table:
    """The store's events with an item, in time order (only ``event_types`` when given), without the events
    of shoppers who withhold training consent (:func:`~shelfwise.privacy.consent.consented_events`; their
    events stay stored): what every trained model learns from."""
    events = consented_events(
        store,
        "training",
        ["event_id", "user_id", "item_id", "type", "timestamp", "seq"],
        types=event_types,
        default=default_consent,
    )
    return events.filter(pc.is_valid(events.column("item_id")))


def build_split(store: Store, name: str, events: pa.Table, *, cut: str | None = None) -> Split:
    """Make the named split of ``events`` (time-ordered, with item ids)."""
    if name == "leave-one-out":
        return LeaveOneOut().split(events)
    if name == "temporal":
        if cut is None:
            ts = events.column("timestamp")
            cut_value = pc.quantile(pc.cast(ts, pa.int64()), q=0.8).to_pylist()[0]
            cut = str(pa.scalar(int(cut_value), type=pa.timestamp("us", tz="UTC")).as_py())
        return TemporalSplit(cut).split(events)
    if name == "given":
        splits = store.list_splits()
        if not splits:
            raise ValueError(
                "the store has no given split; ingest a dataset that ships one (e.g. amazon-scientific)"
            )
        return GivenSplit(store.read_split(splits[0])).split(events)
    raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")


def load_recommend_data(
    store: Store,
    split: str = "leave-one-out",
    *,
    event_types: list[str] | None = None,
    cut: str | None = None,
    default_consent: ConsentDefaults | None = None,
) -> RecommendData:
    """Read the store's events (those training consent allows) and catalogue and build :class:`RecommendData`."""
    events = ordered_events(store, event_types, default_consent=default_consent)
    if events.num_rows == 0:
        raise ValueError("the store has no events with items; ingest some first (`shelfwise ingest`)")
    sp = build_split(store, split, events, cut=cut)
    ranking = RankingData.from_split(sp)
    catalogue = store.read_items()
    ids = ranking.items.ids.astype(str).tolist()
    index = {i: k for k, i in enumerate(catalogue.column("item_id").to_pylist())}
    take = pa.array([index.get(i) for i in ids], pa.int64())
    items = (
        catalogue.take(take) if catalogue.num_rows else pa.table({"item_id": ids, "title": [None] * len(ids)})
    )
    items = items.set_column(0, "item_id", pa.array(ids, pa.string()))
    meta = {k: v for k, v in ((n, store.get_meta(n)) for n in ("pseudonymise",)) if v is not None}
    return RecommendData(sp, ranking, items, meta, aligned_vectors(store, ids))


def aligned_vectors(store: Store, ids: list[str]) -> np.ndarray | None:
    """The built item vectors in the order of ``ids`` (zero rows for items not built), or None."""
    import json

    from shelfwise.storage import ArtifactNotFoundError

    try:
        art = store.artifacts.latest("item-vectors")
    except ArtifactNotFoundError:
        return None
    vectors = np.load(art.path / "vectors.npy")
    pos = {i: n for n, i in enumerate(json.loads((art.path / "ids.json").read_text()))}
    out = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    rows = np.array([pos.get(i, -1) for i in ids], dtype=np.int64)
    out[rows >= 0] = vectors[rows[rows >= 0]]
    return out
