from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.encoders.base import Encoder, normalize_rows
from shelfwise.encoders.cache import CachedEncoder, EmbeddingCache, content_key


class CountingEncoder(Encoder):
    """Deterministic fake: a vector from the text's hash; counts how many texts it really encoded."""

    def __init__(self, version: str = "fake-1", dim: int = 8) -> None:
        self.dim, self.model_version, self.encoded = dim, version, 0

    def _encode(self, texts, kind, show_progress):
        self.encoded += len(texts)
        rows = [np.random.default_rng(abs(hash((kind, t))) % 2**32).normal(size=self.dim) for t in texts]
        return normalize_rows(np.array(rows))


def test_unchanged_catalogue_encodes_nothing(tmp_path: Path) -> None:
    texts = [f"item {i}" for i in range(50)]
    inner = CountingEncoder()
    enc = CachedEncoder(inner, tmp_path)
    first = enc.encode_documents(texts)
    assert inner.encoded == 50 and enc.last_misses == 50
    again = CachedEncoder(inner, tmp_path).encode_documents(texts)  # a new process, same directory
    assert inner.encoded == 50
    np.testing.assert_array_equal(first, again)
    changed = [*texts[:49], "item 49 (new title)"]
    enc.encode_documents(changed)
    assert inner.encoded == 51 and enc.last_misses == 1


def test_duplicates_queries_and_versions_are_kept_apart(tmp_path: Path) -> None:
    inner = CountingEncoder()
    enc = CachedEncoder(inner, tmp_path)
    out = enc.encode_documents(["a", "b", "a", "a"])
    assert inner.encoded == 2
    np.testing.assert_array_equal(out[0], out[2])
    enc.encode_queries(["a"])  # a query is not a document (prefixes may differ)
    assert inner.encoded == 3
    other = CountingEncoder(version="fake-2")
    CachedEncoder(other, tmp_path).encode_documents(["a"])
    assert other.encoded == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-1", "fake-2"]
    assert enc.encode_documents([]).shape == (0, 8)


def test_compaction_and_no_pickle(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "v", 4, max_shards=3)
    rng = np.random.default_rng(0)
    stored = {}
    for i in range(5):
        keys = [content_key("document", f"t{i}-{j}") for j in range(3)]
        vecs = rng.normal(size=(3, 4)).astype(np.float32)
        cache.put(keys, vecs)
        stored.update(zip(keys, vecs, strict=True))
    shards = list((tmp_path / "v").glob("keys-*.npy"))
    assert len(shards) <= 3
    reopened = EmbeddingCache(tmp_path, "v", 4)
    keys = list(stored)
    vecs, found = reopened.get([*keys, content_key("document", "absent")])
    assert found.tolist() == [True] * len(keys) + [False]
    np.testing.assert_array_equal(vecs[:-1], np.array([stored[k] for k in keys]))
    for f in (tmp_path / "v").glob("*.npy"):
        np.load(f, allow_pickle=False)
    with pytest.raises(ValueError):
        EmbeddingCache(tmp_path, "v", 5)


def test_encode_items_mixes_full_text_and_title(tmp_path: Path) -> None:
    from shelfwise.encoders import ItemTextConfig, encode_items
    from shelfwise.encoders.item_text import ItemTextTemplate

    items = [{"title": "Red shoe", "description": "light and fast"}, {"description": "no title here"}]
    enc = CountingEncoder()
    mixed = encode_items(enc, items)
    tmpl = ItemTextTemplate()
    full = enc.encode_documents(tmpl.render_many(items))
    title = enc.encode_documents(["Red shoe"])[0]
    expected0 = (full[0] + title) / np.linalg.norm(full[0] + title)
    np.testing.assert_allclose(mixed[0], expected0, atol=1e-6)
    np.testing.assert_allclose(mixed[1], full[1], atol=1e-6)  # no title: the full-text vector alone
    np.testing.assert_allclose(
        encode_items(enc, items, ItemTextConfig(title_vector_weight=0)), full, atol=1e-6
    )
    assert encode_items(enc, []).shape == (0, 8)
