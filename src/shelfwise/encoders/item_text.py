"""The text an encoder sees for one item.

Template (parts that are empty are left out, together with their label)::

    {title}. Brand: {brand}. Category: {category}. {attr1}: {value1}; {attr2}: {value2}. {description}

Rules, in order of importance (an encoder reads at most ``max_length`` tokens, ~4 characters each,
so what matters most goes first):

* **title** first, whitespace collapsed, cut at ``max_title_chars``.
* **brand** unless the title already contains it (it would only spend tokens).
* **category**: the last ``category_levels`` levels of the path ("Beauty > Makeup > Nails" -> "Makeup >
  Nails" with 2 levels): the leaf says most, the root is shared by too many items.
* **attributes**: the keys listed in ``attribute_keys`` first, then the others in their order, at most
  ``max_attributes``, each value cut at ``max_value_chars``; lists are joined with ", ".
* **description**: HTML tags and entities removed, whitespace collapsed, then cut at a word boundary so
  that the whole text fits ``max_chars`` (~256 tokens by default).

Example:
    >>> item = {"title": "Air Zoom Pegasus 40", "brand": "Nike", "category": "Shoes > Running",
    ...         "attributes": {"colour": "red", "size": [42, 43]},
    ...         "description": "<p>Light &amp; springy.</p>"}
    >>> ItemTextTemplate().render(item)
    'Air Zoom Pegasus 40. Brand: Nike. Category: Shoes > Running. colour: red; size: 42, 43. Light & springy.'
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from pydantic import Field

from shelfwise.config_base import Section

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CATEGORY_SPLIT = re.compile(r"\s*(?:>|/|\|)\s*")


class ItemTextConfig(Section):
    """Settings of :class:`ItemTextTemplate` (see the module docstring for the rules).

    ``title_vector_weight`` is used by :func:`shelfwise.encoders.item_vectors.encode_items`: the item vector
    is ``normalise(v(full text) + w * v(title))``; 0 gives the full-text vector alone.
    """

    max_chars: int = Field(default=1000, ge=32)
    max_title_chars: int = Field(default=200, ge=8)
    category_levels: int = Field(default=2, ge=1)
    attribute_keys: list[str] = Field(
        default_factory=lambda: ["color", "colour", "size", "material", "gender"]
    )
    max_attributes: int = Field(default=6, ge=0)
    max_value_chars: int = Field(default=40, ge=4)
    include_brand: bool = True
    include_category: bool = True
    include_description: bool = True
    title_vector_weight: float = Field(default=1.0, ge=0)


def clean_text(text: Any) -> str:
    """Strip HTML tags and entities and collapse whitespace; ``None``/NaN become ``""``."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = html.unescape(_TAG.sub(" ", str(text)))
    return _SPACE.sub(" ", text).strip()


def cut(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, at a word boundary when there is one nearby."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit * 0.6 else head


def as_mapping(item: Any) -> Mapping[str, Any]:
    """Accept a dict, a dataclass (e.g. :class:`shelfwise.data.schema.Item`) or a pandas row."""
    if isinstance(item, Mapping):
        return item
    if is_dataclass(item) and not isinstance(item, type):
        return asdict(item)
    if hasattr(item, "to_dict"):
        return item.to_dict()
    raise TypeError(f"cannot read an item from {type(item).__name__}")


def parse_attributes(raw: Any) -> dict[str, Any]:
    """Attributes as a dict, from a dict, a JSON object string, or nothing."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def category_tail(path: Any, levels: int) -> str:
    """The last ``levels`` levels of a category path, joined by " > "."""
    parts = [p for p in _CATEGORY_SPLIT.split(clean_text(path)) if p]
    return " > ".join(parts[-levels:])


class ItemTextTemplate:
    """Renders items into encoder text.

    Args:
        config: template settings.
    """

    def __init__(self, config: ItemTextConfig | None = None) -> None:
        self.config = config or ItemTextConfig()

    def attributes_text(self, attributes: Mapping[str, Any]) -> str:
        """``"k1: v1; k2: v2"`` of the key attributes first, then the rest, capped."""
        cfg = self.config
        order = [k for k in cfg.attribute_keys if k in attributes]
        order += [k for k in attributes if k not in order]
        parts = []
        for key in order[: cfg.max_attributes]:
            value = attributes[key]
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value)
            value = cut(clean_text(value), cfg.max_value_chars)
            if value:
                parts.append(f"{clean_text(key)}: {value}")
        return "; ".join(parts)

    def render(self, item: Any) -> str:
        """The encoder text of one item (dict, :class:`~shelfwise.data.schema.Item` or row)."""
        cfg = self.config
        data = as_mapping(item)
        title = cut(clean_text(data.get("title")), cfg.max_title_chars)
        parts = [title] if title else []
        brand = clean_text(data.get("brand")) if cfg.include_brand else ""
        if brand and brand.lower() not in title.lower():
            parts.append(f"Brand: {brand}")
        category = category_tail(data.get("category"), cfg.category_levels) if cfg.include_category else ""
        if category:
            parts.append(f"Category: {category}")
        attrs = self.attributes_text(parse_attributes(data.get("attributes")))
        if attrs:
            parts.append(attrs)
        head = ". ".join(p.rstrip(". ") for p in parts)
        if cfg.include_description:
            room = cfg.max_chars - len(head) - 2
            description = clean_text(data.get("description"))
            if description and room > 16:
                head = f"{head}. {cut(description, room)}" if head else cut(description, room)
            elif head:
                head += "."
        elif head:
            head += "."
        return cut(head, cfg.max_chars)

    def render_title(self, item: Any) -> str:
        """The title alone, cleaned and cut (the second text of a two-vector item)."""
        return cut(clean_text(as_mapping(item).get("title")), self.config.max_title_chars)

    def render_many(self, items: Iterable[Any]) -> list[str]:
        """Batch form of :meth:`render`."""
        return [self.render(item) for item in items]
