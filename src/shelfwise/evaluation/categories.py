"""One category code per item for the category-based list metrics and re-ranking (calibration, xQuAD).

The catalogue's ``category`` column is used when it has values. Catalogues without one but with an
attribute path (Amazon Beauty: ``attributes.attribute_ids`` = an optional brand id followed by the
category path, ids without names) get a **proxy**: the first ``levels`` ids of the path. An id is a
category id when it appears after position 0 in any item's list; a leading id never seen there is the
brand and is skipped. On Beauty the two-level proxy gives 48 groups (e.g. "Makeup > Nails").

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"category": [None, None], "attributes": ['{"attribute_ids": [9, 1, 2]}',
    ...                                                          '{"attribute_ids": [1, 3]}']})
    >>> item_categories(t).tolist()
    [0, 1]
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

__all__ = ["attribute_path_categories", "item_categories"]


def attribute_path_categories(attributes: list[str | None], levels: int = 2) -> np.ndarray | None:
    """Dense codes of the first ``levels`` ids of each item's attribute path (``None``: no paths at all)."""
    paths_raw = [json.loads(a).get("attribute_ids", []) if a else [] for a in attributes]
    if not any(paths_raw):
        return None
    cat_ids = {a for ids in paths_raw for a in ids[1:]}
    paths = []
    for ids in paths_raw:
        path = ids[1:] if ids and ids[0] not in cat_ids else ids
        paths.append(tuple(path[:levels]))
    codes = {p: n for n, p in enumerate(sorted(set(paths)))}
    return np.array([codes[p] for p in paths], dtype=np.int32)


def item_categories(items: pa.Table) -> np.ndarray | None:
    """int32 category code per catalogue row (``-1`` unknown), or ``None`` when there is nothing to use."""
    cats = items.column("category").to_pylist() if "category" in items.column_names else []
    if cats and any(c is not None for c in cats):
        codes: dict[str, int] = {}
        return np.array([codes.setdefault(c, len(codes)) if c else -1 for c in cats], dtype=np.int32)
    if "attributes" in items.column_names:
        return attribute_path_categories(items.column("attributes").to_pylist())
    return None
