"""Build canonical-column Arrow tables for :class:`~shelfwise.data.schema.Dataset` from plain columns.

Loaders collect columns as Python lists and hand them here; this module orders the canonical columns
first, types them (ids as strings, ``timestamp`` / ``updated_at`` as int64 Unix seconds, ``price`` /
``value`` / ``relevance`` as float64, ``available`` as bool) and fills absent canonical columns with
nulls, so every table a loader returns has the full canonical set. Extra columns (e.g. review ``text``)
are appended after the canonical ones with their inferred type.

Example:
    >>> t = events_table({"event_id": ["e1"], "user_id": ["u"], "item_id": ["i"], "type": ["view"],
    ...                   "timestamp": [1]})
    >>> t.column_names[:4], t.schema.field("value").type
    (['event_id', 'user_id', 'item_id', 'type'], DataType(double))
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import pyarrow as pa

from shelfwise.data.schema import EVENT_COLUMNS, ITEM_COLUMNS, JUDGEMENT_COLUMNS, USER_COLUMNS

#: Arrow type of every canonical column as loaders hand them to ingestion.
COLUMN_TYPES: Final[dict[str, pa.DataType]] = {
    "event_id": pa.string(),
    "user_id": pa.string(),
    "item_id": pa.string(),
    "type": pa.string(),
    "value": pa.float64(),
    "query": pa.string(),
    "timestamp": pa.int64(),  # Unix seconds, UTC
    "session_id": pa.string(),
    "request_id": pa.string(),
    "title": pa.string(),
    "description": pa.string(),
    "category": pa.string(),
    "brand": pa.string(),
    "price": pa.float64(),
    "currency": pa.string(),
    "attributes": pa.string(),  # JSON object
    "image": pa.string(),
    "available": pa.bool_(),
    "updated_at": pa.int64(),  # Unix seconds, UTC
    "consent": pa.string(),  # JSON object
    "relevance": pa.float64(),
    # extra columns some loaders add (ignored by ingestion unless mapped)
    "text": pa.string(),  # review body
    "summary": pa.string(),  # review headline
    "verified": pa.bool_(),  # verified purchase
    "style": pa.string(),  # JSON object of the variant reviewed (size, colour ...)
}


def build_table(
    data: Mapping[str, Sequence[Any]],
    canonical: Sequence[str],
    defaults: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Return a table with ``canonical`` columns first (typed, nulls where absent), then extra columns.

    Args:
        data: column name -> values; all columns must have the same length.
        canonical: the canonical column names of the record kind, in order.
        defaults: value to fill an absent canonical column with (else null).

    Raises:
        ValueError: if the columns have different lengths or no column is given.
    """
    lengths = {name: len(values) for name, values in data.items()}
    if not lengths:
        raise ValueError("build_table needs at least one column")
    if len(set(lengths.values())) != 1:
        raise ValueError(f"columns have different lengths: {lengths}")
    n = next(iter(lengths.values()))
    defaults = defaults or {}
    arrays: list[pa.Array] = []
    names: list[str] = []
    for name in canonical:
        typ = COLUMN_TYPES[name]
        values = data[name] if name in data else [defaults.get(name)] * n
        arrays.append(pa.array(values, type=typ))
        names.append(name)
    for name, values in data.items():
        if name not in canonical:
            arrays.append(pa.array(values, type=COLUMN_TYPES.get(name)))
            names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def events_table(data: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Canonical events table (see :data:`~shelfwise.data.schema.EVENT_COLUMNS`) plus any extra columns."""
    return build_table(data, EVENT_COLUMNS)


def items_table(data: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Canonical items table; ``available`` defaults to true when not given."""
    return build_table(data, ITEM_COLUMNS, defaults={"available": True})


def users_table(user_ids: Iterable[str]) -> pa.Table:
    """Canonical users table of the given ids (attributes and consent null), in first-seen order."""
    unique = list(dict.fromkeys(user_ids))
    return build_table({"user_id": unique}, USER_COLUMNS)


def judgements_table(data: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Canonical judgements table (query, item_id, title, description, relevance) plus extra columns."""
    return build_table(data, JUDGEMENT_COLUMNS)


def to_json(obj: Mapping[str, Any] | None) -> str | None:
    """Serialise an attributes mapping to a compact JSON object string; ``None`` / empty -> ``None``."""
    if not obj:
        return None
    return json.dumps(dict(obj), ensure_ascii=False, separators=(",", ":"))
