"""Pretrained text vectors of the items: what the sequential model's item embeddings start from.

The text of an item is rendered by :class:`~shelfwise.encoders.ItemTextTemplate` (title first; brand,
category, description when present) and encoded once by a configured text encoder. With
``EncoderConfig.cache_dir`` set, vectors are cached on disk by content hash and model version, so a
retrain re-encodes nothing.

Example:
    >>> texts = item_texts([{"title": "Red lipstick", "brand": "Acme"}], ItemTextConfig())
    >>> texts
    ['Red lipstick. Brand: Acme.']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.encoders import EncoderConfig, ItemTextConfig, ItemTextTemplate, build_encoder

__all__ = ["item_text_vectors", "item_texts", "items_in_order"]

log = logging.getLogger(__name__)

#: Item text for the sequential model: title, brand, category; no free attributes (ids, asins are noise).
TITLE_TEXT = ItemTextConfig(max_attributes=0, include_description=False)


def items_in_order(items: pa.Table, item_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of a catalogue table as dicts, in the order of ``item_ids`` (``{}`` for unknown items).

    Args:
        items: a catalogue table with at least ``item_id`` (and ideally ``title``, ``brand``, ``category``).
        item_ids: external ids in dense-index order (e.g. ``RankingData.items.ids``).
    """
    cols = [c for c in ("item_id", "title", "brand", "category", "description") if c in items.column_names]
    rows = items.select(cols).to_pylist()
    by_id = {str(r["item_id"]): r for r in rows}
    missing = sum(1 for i in item_ids if str(i) not in by_id)
    if missing:
        log.warning("%d of %d items have no catalogue row: their text is empty", missing, len(item_ids))
    return [by_id.get(str(i), {}) for i in item_ids]


def item_texts(items: Iterable[Mapping[str, Any]], config: ItemTextConfig = TITLE_TEXT) -> list[str]:
    """Encoder texts of ``items`` (dicts with title / brand / category ...)."""
    return ItemTextTemplate(config).render_many(items)


def item_text_vectors(
    texts: Sequence[str], encoder: EncoderConfig | None = None, *, show_progress: bool = True
) -> np.ndarray:
    """Encode item texts into float32 unit vectors ``(len(texts), dim)``.

    Args:
        texts: one text per item, in dense-index order (an empty text gets an all-zero vector).
        encoder: encoder settings (default: the ONNX int8 all-MiniLM-L6-v2, 384-d); set ``cache_dir``
            to cache the vectors on disk.
        show_progress: tqdm bar while encoding.
    """
    enc = build_encoder(encoder or EncoderConfig())
    vectors = np.array(enc.encode_documents(list(texts), show_progress=show_progress), dtype=np.float32)
    empty = np.array([not t.strip() for t in texts], dtype=bool)
    vectors[empty] = 0.0  # no text: no text neighbours, and the projection sees nothing
    log.info(
        "encoded %d item texts (%d empty) -> %s (%s)",
        len(texts),
        int(empty.sum()),
        vectors.shape,
        enc.model_version,
    )
    return vectors
