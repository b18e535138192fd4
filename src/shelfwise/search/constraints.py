"""Constraint bookkeeping of a search request: grouping filter keys, merging, describing what was relaxed.

A *constraint group* is what a shopper sees as one chip: ``price`` holds ``price_min`` / ``price_max``,
``brand`` holds ``brand`` and so on; relaxation drops whole groups.

Example:
    >>> groups = constraint_groups({"brand": ["Nike"], "price_max": 50, "currency": "USD"})
    >>> groups
    {'brand': {'brand': ['Nike']}, 'price': {'price_max': 50}}
    >>> merge([groups]), describe(groups["price"]), describe(groups["brand"])
    ({'brand': ['Nike'], 'price_max': 50}, 'under 50', 'Nike')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Constraints checked on the candidates (the indexes filter category, price, stock and exclusions).
POST_KEYS = ("brand", "colour", "colour_exclude", "size")
#: How each constraint group is named in a relaxation message.
LABELS = {
    "brand": "brand",
    "category": "category",
    "colour": "colour",
    "colour_exclude": "excluded colour",
    "size": "size",
    "price": "price range",
    "in_stock": "in-stock only",
}


def constraint_groups(filters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Group filter keys by the constraint they belong to (``price_min``/``price_max`` -> ``price``)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in filters.items():
        if value is None or value == [] or key == "currency":
            continue
        group = "price" if key in ("price_min", "price_max", "price_band") else key
        out.setdefault(group, {})[key] = value
    return out


def merge(groups: Iterable[Mapping[str, dict[str, Any]]]) -> dict[str, Any]:
    """One filter mapping from several grouped ones."""
    out: dict[str, Any] = {}
    for g in groups:
        for part in g.values():
            out.update(part)
    return out


def describe(values: Mapping[str, Any]) -> str:
    """Human text of one constraint group ("Gorilla", "under 20", "10-20")."""
    low, high = values.get("price_min"), values.get("price_max")
    if low is not None and high is not None:
        return f"{low:g}-{high:g}"
    if high is not None:
        return f"under {high:g}"
    if low is not None:
        return f"over {low:g}"
    parts: list[str] = []
    for v in values.values():
        parts.extend(str(x) for x in (v if isinstance(v, (list, tuple)) else [v]))
    return " or ".join(parts)
