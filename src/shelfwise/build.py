"""``shelfwise build``: turn the catalogue into the artifacts search and recommendations read.

Artifacts (versioned folders in the store, see :mod:`shelfwise.storage.artifacts`):

- ``item-vectors``: float32 L2-normalised text vectors of every item (``vectors.npy``) and their ids
  (``ids.json``), made by the configured encoder from the documented item-text template; encodings are
  cached by content hash, so rebuilding an unchanged catalogue encodes nothing.
- ``vector-index``: the configured vector index over those vectors, with filterable metadata.
- ``lexical-index``: the configured BM25 index over title / brand / category / description / attributes.
- ``query-vocabulary``: the catalogue vocabulary of query understanding (brands, categories, colours).

:func:`load_item_artifacts` opens the latest of each for serving. Every manifest records ``catalogue_seq`` and
``event_seq``: the store state it was built from (changes after it are what serving catches up with).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.config import Settings
from shelfwise.storage import ArtifactNotFoundError, Store

log = logging.getLogger(__name__)

ITEM_VECTORS = "item-vectors"
VECTOR_INDEX = "vector-index"
LEXICAL_INDEX = "lexical-index"
QUERY_VOCABULARY = "query-vocabulary"

_ITEM_COLUMNS = ["item_id", "title", "description", "category", "brand", "price", "available", "attributes"]


@dataclass(frozen=True)
class ItemArtifacts:
    """What serving needs about items: vectors and ids, the two indexes, the query vocabulary."""

    ids: list[str]
    vectors: np.ndarray
    vector_index: Any
    lexical_index: Any
    vocabulary: Any
    encoder_config: dict[str, Any]
    catalogue_seq: int | None = None
    event_seq: int | None = None

    @property
    def cursor_recorded(self) -> bool:
        """Whether the artifacts name the store state they were built from (older builds do not)."""
        return self.catalogue_seq is not None

    def position(self) -> dict[str, int]:
        """``{item_id: row}`` of :attr:`vectors`."""
        return {i: n for n, i in enumerate(self.ids)}


def _encoder_settings(settings: Settings, store: Store) -> Any:
    cfg = settings.search.encoder
    folder = getattr(store, "folder", None)
    if cfg.cache_dir is None and folder is not None:
        cfg = cfg.model_copy(update={"cache_dir": Path(folder) / "cache" / "encoder"})
    return cfg


def encode_items(
    items: list[dict[str, Any]],
    settings: Settings,
    store: Store,
    report: dict[str, Any] | None = None,
    *,
    runner: Any = None,
) -> np.ndarray:
    """Text vectors of ``items`` through the configured encoder (cached by content in the store); with a Ray
    ``runner`` (``--ray``), the texts the cache misses are encoded on the cluster with Ray Data.

    When ``report`` is given, ``report["texts_encoded"]`` receives how many distinct texts missed the
    cache and went through the model (``len(items)``-ish on a first build, 0 on an unchanged rebuild).
    """
    from shelfwise.encoders import ItemTextTemplate, build_encoder

    cfg = _encoder_settings(settings, store)
    if getattr(runner, "name", None) == "ray":
        from shelfwise.distributed.encode import ray_encoder

        encoder = ray_encoder(cfg)
    else:
        encoder = build_encoder(cfg)
    template = ItemTextTemplate(settings.search.item_text)
    texts = [template.render(item) for item in items]
    vectors = np.asarray(encoder.encode_documents(texts, show_progress=True), dtype=np.float32)
    if report is not None:
        report["texts_encoded"] = int(getattr(encoder, "last_misses", len(set(texts))))
    return vectors


def build_item_artifacts(store: Store, settings: Settings, *, runner: Any = None) -> dict[str, Any]:
    """Encode the catalogue and (re)build every item artifact; returns a JSON-ready report.

    ``runner`` (a :class:`~shelfwise.distributed.JobRunner`): a Ray runner encodes on the cluster."""
    from shelfwise.index.registry import build_lexical_index, build_vector_index
    from shelfwise.search.query import CatalogueVocabulary

    report: dict[str, Any] = {}
    # read before the catalogue: a change racing with the build is replayed by catch-up, never lost
    cursors: dict[str, Any] = {
        "catalogue_seq": int(store.catalogue_seq()),
        "event_seq": int(store.max_event_seq()),
    }
    table = store.read_items(_ITEM_COLUMNS)
    if table.num_rows == 0:
        raise ValueError("the catalogue is empty; ingest items first (`shelfwise ingest FILE --kind items`)")
    items = table.to_pylist()
    for item in items:
        if isinstance(item.get("attributes"), str):
            item["attributes"] = json.loads(item["attributes"])
    ids = [str(i["item_id"]) for i in items]
    enc_cfg = _encoder_settings(settings, store)

    t0 = time.perf_counter()
    vectors = encode_items(items, settings, store, report, runner=runner)
    report["encode_seconds"] = round(time.perf_counter() - t0, 2)
    with store.artifacts.writer(
        ITEM_VECTORS, config=enc_cfg.model_dump(mode="json"), items=len(ids), **cursors
    ) as d:
        np.save(d / "vectors.npy", vectors)
        (d / "ids.json").write_text(json.dumps(ids))

    t0 = time.perf_counter()
    vindex = build_vector_index(vectors.shape[1], settings.search.vector)
    vindex.add(ids, vectors, items)
    with store.artifacts.writer(
        VECTOR_INDEX, config=settings.search.vector.model_dump(mode="json"), **cursors
    ) as d:
        vindex.save(d)
    report["vector_index_seconds"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    lindex = build_lexical_index(settings.search.lexical)
    lindex.add(items)
    with store.artifacts.writer(
        LEXICAL_INDEX, config=settings.search.lexical.model_dump(mode="json"), **cursors
    ) as d:
        lindex.save(d)
    report["lexical_index_seconds"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    vocab = CatalogueVocabulary.build(table)
    with store.artifacts.writer(QUERY_VOCABULARY, **cursors) as d:
        vocab.save(d / "vocabulary.json")
    report["vocabulary_seconds"] = round(time.perf_counter() - t0, 2)
    report.update(items=len(ids), dim=int(vectors.shape[1]), artifacts=store.artifacts.names(), **cursors)
    report["runner"] = getattr(runner, "name", "in-process")
    log.info("built item artifacts: %s", report)
    return report


def load_item_artifacts(store: Store) -> ItemArtifacts:
    """The latest item artifacts; raises :class:`ArtifactNotFoundError` saying to run ``shelfwise build``."""
    from shelfwise.index.registry import load_lexical_index, load_vector_index
    from shelfwise.search.query import CatalogueVocabulary

    try:
        vec = store.artifacts.latest(ITEM_VECTORS)
        vidx = store.artifacts.latest(VECTOR_INDEX)
        lidx = store.artifacts.latest(LEXICAL_INDEX)
        voc = store.artifacts.latest(QUERY_VOCABULARY)
    except ArtifactNotFoundError as exc:
        raise ArtifactNotFoundError(f"{exc}; run `shelfwise build` first") from None
    # the oldest cursor of the four: catching up from there brings every one of them up to date
    recorded = [a.manifest.get("catalogue_seq") for a in (vec, vidx, lidx, voc)]
    catalogue_seq = None if any(r is None for r in recorded) else min(int(str(r)) for r in recorded)
    if catalogue_seq is None:
        log.warning("item artifacts record no catalogue_seq (built before it existed): treated as 0")
    event_seq = vec.manifest.get("event_seq")
    return ItemArtifacts(
        ids=json.loads((vec.path / "ids.json").read_text()),
        vectors=np.load(vec.path / "vectors.npy"),
        vector_index=load_vector_index(vidx.path),
        lexical_index=load_lexical_index(lidx.path),
        vocabulary=CatalogueVocabulary.load(voc.path / "vocabulary.json"),
        encoder_config=vec.config,
        catalogue_seq=catalogue_seq,
        event_seq=None if event_seq is None else int(event_seq),
    )
