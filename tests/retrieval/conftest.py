"""Fixtures of the candidate-source tests: the synthetic shop as RecommendData, tiny hand-made data, a fake encoder."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.encoded.data import RecommendData, load_recommend_data
from shelfwise.encoded.interactions import RankingData
from shelfwise.encoded.splits import Split
from shelfwise.encoders.base import Encoder, TextKind
from shelfwise.storage import Store, open_store


class BagOfWordsEncoder(Encoder):
    """A deterministic stand-in for a text encoder: hashed bag of words, L2-normalised (64 dims)."""

    dim = 64
    model_version = "test-bag-of-words"

    def __init__(self) -> None:
        self.calls = 0

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in text.lower().replace(".", " ").replace(",", " ").split():
                out[row, zlib.crc32(token.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture()
def encoder() -> BagOfWordsEncoder:
    return BagOfWordsEncoder()


@pytest.fixture(scope="session")
def shop_store(shop: SyntheticShop, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder filled with the synthetic shop through ingestion (once per session)."""
    folder = tmp_path_factory.mktemp("sources") / "store"
    with open_store(folder) as store:
        Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
    return folder


@pytest.fixture()
def filled_store(shop_store: Path) -> Iterator[Store]:
    with open_store(shop_store, create=False, read_only=True) as store:
        yield store


@pytest.fixture(scope="session")
def shop_data(shop_store: Path) -> RecommendData:
    """The synthetic shop, leave-one-out."""
    with open_store(shop_store, create=False, read_only=True) as store:
        return load_recommend_data(store)


def tiny_data(
    sequences: dict[str, Sequence[str]],
    *,
    times: dict[str, Sequence[float]] | None = None,
    titles: dict[str, str] | None = None,
    types: dict[str, Sequence[str]] | None = None,
) -> RecommendData:
    """RecommendData whose train part holds every given event (valid and test empty).

    Args:
        sequences: user -> items in time order.
        times: user -> Unix seconds per event (default: 1000 + 10 * position).
        titles: item -> title.
        types: user -> event type per event (default ``purchase``).
    """
    cols: dict[str, list[object]] = {k: [] for k in ("event_id", "user_id", "item_id", "type", "timestamp")}
    events = []
    for user, items in sequences.items():
        ts = times[user] if times else [1000.0 + 10 * p for p in range(len(items))]
        kinds = types[user] if types else ["purchase"] * len(items)
        events += [(t, user, item, kind) for item, t, kind in zip(items, ts, kinds, strict=True)]
    events.sort(key=lambda e: e[0])
    for n, (t, user, item, kind) in enumerate(events):
        cols["event_id"].append(f"e{n}")
        cols["user_id"].append(user)
        cols["item_id"].append(item)
        cols["type"].append(kind)
        cols["timestamp"].append(pa.scalar(int(t * 1e6), pa.timestamp("us", tz="UTC")).as_py())
    table = pa.table({**cols, "timestamp": pa.array(cols["timestamp"], pa.timestamp("us", tz="UTC"))})
    empty = np.zeros(0, dtype=np.int64)
    split = Split("all-train", table, np.arange(table.num_rows, dtype=np.int64), empty, empty)
    ranking = RankingData.from_split(split)
    ids = ranking.items.ids.astype(str).tolist()
    items = pa.table({"item_id": ids, "title": [(titles or {}).get(i, f"item {i}") for i in ids]})
    return RecommendData(split, ranking, items)
