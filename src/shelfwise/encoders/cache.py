"""On-disk embedding cache keyed by content hash and model version.

Layout (no pickle; every file is JSON or a plain ``.npy``)::

    <root>/<model_version>/manifest.json      {"model_version", "dim", "format": 1}
    <root>/<model_version>/keys-000001.npy    (n,) |S40  hex sha1("query|document" + NUL + text)
    <root>/<model_version>/vecs-000001.npy    (n, dim) float32

New vectors are appended as a new shard (written to a temporary name, then renamed), so a crash never
leaves a half-written shard behind; :meth:`EmbeddingCache.compact` merges shards. A new model version
gets a new directory: vectors of different models never mix.

Example:
    >>> import tempfile
    >>> from shelfwise.encoders.cache import CachedEncoder
    >>> enc = CachedEncoder(my_encoder, tempfile.mkdtemp())  # doctest: +SKIP
    >>> _ = enc.encode_documents(texts)  # encodes everything  # doctest: +SKIP
    >>> _ = enc.encode_documents(texts)  # encodes nothing  # doctest: +SKIP
    >>> enc.last_misses  # doctest: +SKIP
    0
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shelfwise.encoders.base import Encoder, TextKind

logger = logging.getLogger(__name__)

_SHARD = re.compile(r"^keys-(\d{6})\.npy$")
_FORMAT = 1


def content_key(kind: TextKind, text: str) -> bytes:
    """The cache key of one text: the hex sha1 (40 ASCII bytes) of its kind and content."""
    return hashlib.sha1(f"{kind}\x00{text}".encode()).hexdigest().encode()


class EmbeddingCache:
    """Vectors of one model version, looked up by :func:`content_key`.

    Args:
        root: cache directory (shared by all model versions).
        model_version: the encoder's :attr:`~shelfwise.encoders.base.Encoder.model_version`.
        dim: vector width.
        max_shards: :meth:`put` compacts automatically past this many shards.
    """

    def __init__(self, root: str | Path, model_version: str, dim: int, *, max_shards: int = 32) -> None:
        self.dir = Path(root) / model_version
        self.dir.mkdir(parents=True, exist_ok=True)
        self.model_version, self.dim, self.max_shards = model_version, int(dim), max_shards
        manifest = self.dir / "manifest.json"
        if manifest.exists():
            meta = json.loads(manifest.read_text())
            if meta["dim"] != self.dim or meta["model_version"] != model_version:
                raise ValueError(f"cache {self.dir} holds {meta}, not dim={dim} version={model_version}")
        else:
            manifest.write_text(
                json.dumps({"model_version": model_version, "dim": self.dim, "format": _FORMAT})
            )
        self._index: dict[bytes, tuple[int, int]] = {}
        self._vectors: dict[int, np.ndarray] = {}
        for shard in self._shards():
            self._load_shard(shard)

    def __len__(self) -> int:
        return len(self._index)

    def _shards(self) -> list[int]:
        return sorted(int(m.group(1)) for f in self.dir.iterdir() if (m := _SHARD.match(f.name)))

    def _load_shard(self, shard: int) -> None:
        keys = np.load(self.dir / f"keys-{shard:06d}.npy", allow_pickle=False)
        vecs = np.load(self.dir / f"vecs-{shard:06d}.npy", allow_pickle=False, mmap_mode="r")
        self._vectors[shard] = vecs
        for row, key in enumerate(keys.tolist()):
            self._index[key] = (shard, row)

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Look keys up.

        Returns:
            ``(vectors, found)``: ``(n, dim)`` float32 (zeros where missing) and a boolean mask.
        """
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        for i, key in enumerate(keys):
            hit = self._index.get(key)
            if hit is not None:
                out[i] = self._vectors[hit[0]][hit[1]]
                found[i] = True
        return out, found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store new vectors (keys already present are skipped) as one new shard."""
        vectors = np.asarray(vectors, dtype=np.float32)
        fresh: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self._index and key not in fresh:
                fresh[key] = i
        if not fresh:
            return
        shard = (self._shards() or [0])[-1] + 1
        self._write_shard(shard, list(fresh), vectors[list(fresh.values())])
        self._load_shard(shard)
        if len(self._vectors) > self.max_shards:
            self.compact()

    def _write_shard(self, shard: int, keys: list[bytes], vectors: np.ndarray) -> None:
        tag = uuid.uuid4().hex
        for name, arr in (("vecs", vectors), ("keys", np.array(keys, dtype="S40"))):
            tmp = self.dir / f".{name}-{tag}.npy"
            np.save(tmp, arr, allow_pickle=False)
            os.replace(tmp, self.dir / f"{name}-{shard:06d}.npy")  # keys last: a shard counts once keys exist

    def compact(self) -> None:
        """Merge all shards into one."""
        shards = self._shards()
        if len(shards) <= 1:
            return
        keys = list(self._index)
        vectors, _ = self.get(keys)
        target = shards[-1] + 1
        self._write_shard(target, keys, vectors)
        self._vectors.clear()
        for shard in shards:
            for name in ("keys", "vecs"):
                (self.dir / f"{name}-{shard:06d}.npy").unlink(missing_ok=True)
        self._index.clear()
        self._load_shard(target)
        logger.info("compacted %d shards of %s into one (%d vectors)", len(shards), self.dir, len(keys))


class CachedEncoder(Encoder):
    """Wraps an encoder with an :class:`EmbeddingCache`; only texts never seen by this model are encoded.

    Args:
        encoder: the encoder to wrap.
        cache_dir: cache root; the model version picks the sub-directory.

    Attributes:
        last_misses: how many distinct texts the last call had to encode.
    """

    def __init__(self, encoder: Encoder, cache_dir: str | Path) -> None:
        self.encoder = encoder
        self.dim = encoder.dim
        self.model_version = encoder.model_version
        self.cache = EmbeddingCache(cache_dir, encoder.model_version, encoder.dim)
        self.last_misses = 0

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        keys = [content_key(kind, t) for t in texts]
        out, found = self.cache.get(keys)
        missing: dict[bytes, list[int]] = {}
        for i in np.flatnonzero(~found):
            missing.setdefault(keys[i], []).append(int(i))
        self.last_misses = len(missing)
        if missing:
            todo = [texts[rows[0]] for rows in missing.values()]
            logger.info(
                "embedding cache: %d hits, %d texts to encode", len(texts) - int((~found).sum()), len(todo)
            )
            encode = self.encoder.encode_queries if kind == "query" else self.encoder.encode_documents
            fresh = encode(todo, show_progress=show_progress)
            for vec, rows in zip(fresh, missing.values(), strict=True):
                out[rows] = vec
            self.cache.put(list(missing), fresh)
        return out
