"""Texts of the two towers: one per item (document side) and one per shopper history (query side).

The item text is :class:`~shelfwise.encoders.item_text.ItemTextTemplate` without attributes (opaque ids in
the benchmark catalogues), so the frozen tower sees what the other text sources see. A history is its most
recent items' short texts (title, brand, leaf category), newest first, joined by a separator: when the
token cap cuts, it cuts the oldest item.

Example:
    >>> r = HistoryRenderer(["Red lipstick", "Nail polish, pink", "Face mask"], RenderConfig(history_items=2))
    >>> r.render(np.array([0, 1, 2]))
    'Face mask | Nail polish, pink'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from shelfwise.encoders.item_text import ItemTextConfig, ItemTextTemplate, cut
from shelfwise.models.finetune.config import RenderConfig

__all__ = ["HistoryRenderer", "item_documents", "item_labels"]


def item_documents(items: pa.Table) -> list[str]:
    """The document text of every catalogue row (title, brand, category, description; no attributes)."""
    template = ItemTextTemplate(ItemTextConfig(max_attributes=0))
    return template.render_many(items.to_pylist())


def item_labels(items: pa.Table) -> list[str]:
    """The short text of every catalogue row used inside history texts (title, brand, leaf category)."""
    template = ItemTextTemplate(
        ItemTextConfig(max_attributes=0, include_description=False, category_levels=1)
    )
    return [t.rstrip(".") for t in template.render_many(items.to_pylist())]


class HistoryRenderer:
    """Renders a history (item indices, oldest first) as the query text of the user tower.

    Args:
        labels: short text per item index (:func:`item_labels`).
        config: how many items and characters.
    """

    def __init__(self, labels: Sequence[str], config: RenderConfig | None = None) -> None:
        self.config = config or RenderConfig()
        self.labels = [cut(label, self.config.item_chars) for label in labels]

    def recent(self, history: np.ndarray) -> list[int]:
        """The distinct most recent items of ``history`` (newest first, at most ``history_items``)."""
        out: list[int] = []
        for item in np.asarray(history, dtype=np.int64)[::-1]:
            i = int(item)
            if 0 <= i < len(self.labels) and i not in out:
                out.append(i)
                if len(out) == self.config.history_items:
                    break
        return out

    def render(self, history: np.ndarray) -> str:
        """The history's text ("" for an empty history)."""
        parts = [self.labels[i] for i in self.recent(history)]
        return self.config.separator.join(p for p in parts if p)

    def render_many(self, histories: Sequence[np.ndarray]) -> list[str]:
        """Batch form of :meth:`render`."""
        return [self.render(h) for h in histories]
