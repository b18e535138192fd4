"""Item text vectors: the full item text plus, by default, the title on its own.

A product's title says what it is; a long description dilutes it in a mean-pooled sentence vector. The
item vector is therefore ``normalise(v(full text) + w * v(title))`` (``ItemTextConfig.title_vector_weight``,
default 1; 0 = the full-text vector alone). Titles are short, so the second pass costs ~10% of the first.

Measured on CrowdFlower retrieval (all 261 queries, 9,913 products, ONNX int8 MiniLM, default vector index):
item template alone NDCG@10 0.777 / Recall@50 0.798; title alone 0.795 / 0.813; template + title 0.800 /
0.828. The choice among these three was made on those same queries (no held-out split), so read the gain
as indicative; ``benchmarks/bench_encoders.py --dense-only`` reproduces it.

Example:
    >>> vecs = encode_items(encoder, [{"title": "Red shoe", "description": "..."}])  # doctest: +SKIP
    >>> vecs.shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shelfwise.encoders.base import Encoder, normalize_rows
from shelfwise.encoders.item_text import ItemTextConfig, ItemTextTemplate


def encode_items(
    encoder: Encoder,
    items: Sequence[Any],
    config: ItemTextConfig | None = None,
    *,
    show_progress: bool = False,
) -> np.ndarray:
    """Unit item vectors from the full item text and the title.

    Args:
        encoder: any text encoder (wrap it in a cache to make re-encoding free).
        items: dicts / :class:`~shelfwise.data.schema.Item` / rows.
        config: template settings, including ``title_vector_weight``.
        show_progress: progress bars.

    Returns:
        ``(len(items), encoder.dim)`` float32 unit vectors.
    """
    template = ItemTextTemplate(config)
    full = encoder.encode_documents(template.render_many(items), show_progress=show_progress)
    weight = template.config.title_vector_weight
    if weight == 0 or len(items) == 0:
        return full
    titles = [template.render_title(item) for item in items]
    has_title = np.array([bool(t) for t in titles])
    title_vecs = np.zeros_like(full)
    if has_title.any():
        title_vecs[has_title] = encoder.encode_documents(
            [t for t in titles if t], show_progress=show_progress
        )
    return normalize_rows(full + weight * title_vecs)
