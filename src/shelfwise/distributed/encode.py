"""Catalogue encoding on a Ray cluster with Ray Data: texts in, unit vectors out, in input order.

Each Ray Data actor loads the configured encoder once (``map_batches`` with a callable class) and encodes
batches of item texts; the driver gathers the vectors in input order. Actors read the driver's ONNX export
(``<cache_dir>/onnx``, built by the driver first), so a node must see that folder (one machine, or a shared
volume); a node that does not exports the model itself. The embedding cache of the in-process path
lives in the store folder, which cluster nodes may not share: here the driver asks the cache first and sends only
the texts it misses, then writes the new vectors back, so a rebuild of an unchanged catalogue encodes nothing
(:func:`ray_encoder`: the cache wrapped around a :class:`RayEncoder`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from shelfwise.encoders.base import Encoder, TextKind

log = logging.getLogger(__name__)


class RayEncoder(Encoder):
    """An encoder whose document encoding runs on the Ray cluster (queries stay local: one at a time).

    Args:
        local: the same encoder built in this process (its ``dim`` and ``model_version`` name the vectors;
            it encodes queries).
        config: the encoder's :class:`~shelfwise.encoders.base.EncoderConfig`, rebuilt by each actor.
        batch_size: texts per Ray Data batch.
    """

    def __init__(self, local: Encoder, config: Any, batch_size: int = 128) -> None:
        self.local = local
        self.config = config
        self.batch_size = batch_size
        self.dim = local.dim
        self.model_version = local.model_version

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        if kind == "query":
            return self.local.encode_queries(texts, show_progress=show_progress)
        plan = getattr(self.local, "batch_plan", None)  # the local batches: the very same vectors
        groups = plan(texts, "document") if plan is not None else None
        return encode_texts_on_ray(texts, self.config, batch_size=self.batch_size, groups=groups)


def ray_encoder(config: Any) -> Encoder:
    """The encoder ``config`` names, encoding documents on the connected Ray cluster, behind the embedding
    cache of ``config.cache_dir`` when set (the driver reads and writes the cache; actors only encode)."""
    from shelfwise.encoders import build_encoder

    encoder: Encoder = RayEncoder(build_encoder(config, use_cache=False), config)
    if config.cache_dir is not None:
        from shelfwise.encoders.cache import CachedEncoder

        encoder = CachedEncoder(encoder, config.cache_dir / "embeddings")
    return encoder


class _EncodeBatch:
    """A Ray Data actor: one encoder, many groups of texts (each group encoded as one call)."""

    def __init__(self, config: dict[str, Any]) -> None:
        from shelfwise.encoders import build_encoder
        from shelfwise.encoders.base import EncoderConfig

        self.encoder = build_encoder(EncoderConfig.model_validate(config), use_cache=False)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows: list[int] = []
        vectors = []
        for group_rows, group_texts in zip(batch["rows"], batch["texts"], strict=True):
            vectors.append(self.encoder.encode_documents([str(t) for t in group_texts]))
            rows.extend(int(r) for r in group_rows)
        return {"row": np.asarray(rows, dtype=np.int64), "vector": np.concatenate(vectors).astype(np.float32)}


def encode_texts_on_ray(
    texts: Sequence[str],
    config: Any,
    *,
    actors: int | None = None,
    batch_size: int = 128,
    groups: Sequence[Sequence[int]] | None = None,
) -> np.ndarray:
    """Encode ``texts`` with the encoder ``config`` (an :class:`~shelfwise.encoders.base.EncoderConfig`) on the
    connected Ray cluster (call :func:`~shelfwise.distributed.open_runner` first). Returns float32 rows in input
    order.

    ``groups``: row indices encoded together in one call (default: consecutive runs of ``batch_size``). Give
    the encoder's own batch plan (``OnnxEncoder.batch_plan``) to get exactly the in-process vectors: int8
    activations are quantised per batch."""
    import ray

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    # the actors use the driver's ONNX export (``<cache_dir>/onnx``: the same int8 model, not one exported
    # elsewhere) but no embedding cache: the driver already asked it for these texts
    cfg = config.model_dump(mode="json")
    plan = (
        [list(map(int, g)) for g in groups]
        if groups is not None
        else [list(range(i, min(i + batch_size, len(texts)))) for i in range(0, len(texts), batch_size)]
    )
    cpus = int(ray.cluster_resources().get("CPU", 1))
    n_actors = actors or max(1, min(cpus, len(plan)))
    ds = ray.data.from_items([{"rows": g, "texts": [texts[i] for i in g]} for g in plan])
    out = ds.map_batches(
        _EncodeBatch,
        fn_constructor_kwargs={"config": cfg},
        batch_size=4,
        concurrency=n_actors,
        num_cpus=1,
        batch_format="numpy",
    )
    rows: list[int] = []
    vectors: list[np.ndarray] = []
    for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
        rows.extend(int(r) for r in batch["row"])
        vectors.append(np.asarray(batch["vector"], dtype=np.float32))
    matrix = np.concatenate(vectors)
    ordered = np.empty_like(matrix)
    ordered[np.asarray(rows)] = matrix
    log.info("encoded %d texts in %d groups on ray with %d actors", len(texts), len(plan), n_actors)
    return ordered
