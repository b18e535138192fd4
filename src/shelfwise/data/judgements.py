"""Read graded search judgements (query, product title, description, relevance) from a CSV file.

The file may be plain, ``.gz`` or inside a ``.zip`` (read in place). A column mapping names the file's
columns for the canonical ones (canonical name -> file column). When the file has no item id column,
``item_id`` is a stable short hash of the raw title and description (:func:`product_id`), so the same
product judged for several queries is one catalogue item. Descriptions are stripped of HTML.

Duplicate judged pairs (the same query and item judged on several rows) are kept as separate rows:
whether to merge them (mean, median, first) is the consumer's decision. Their count is logged and put in
``Dataset.metadata`` (``duplicate_pairs``, ``duplicate_rows``, ``conflicting_pairs``).

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "j.csv"
    >>> _ = p.write_text("query,title,relevance\\nred shoes,Red Shoe,3\\n")
    >>> ds = read_judgements(p)
    >>> ds.judgements.column("relevance").to_pylist(), ds.items.num_rows
    ([3.0], 1)
"""

from __future__ import annotations

import csv
import hashlib
import logging
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from shelfwise.data.schema import Dataset
from shelfwise.data.tables import items_table, judgements_table
from shelfwise.data.textio import clean_text, open_text, strip_html

__all__ = ["product_id", "read_judgements", "strip_html"]

log = logging.getLogger(__name__)

_CANONICAL: Final[tuple[str, ...]] = ("query", "item_id", "title", "description", "relevance")


def product_id(title: str, description: str = "", length: int = 16) -> str:
    """Stable short id of a product from its raw title and description (hex of SHA-1, ``length`` chars).

    >>> product_id("Red Shoe", "")
    '154727686315e935'
    """
    digest = hashlib.sha1(f"{title}\x1f{description}".encode()).hexdigest()
    return digest[:length]


def read_judgements(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    member: str | None = None,
    dataset: str = "judgements",
    extra_columns: Sequence[str] = (),
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Dataset:
    """Read a judgements CSV into ``judgements`` and ``items`` tables.

    Args:
        path: the CSV (``.csv``, ``.csv.gz`` or a ``.zip`` holding it).
        columns: canonical name -> file column, for any of ``query``, ``item_id``, ``title``,
            ``description``, ``relevance``; unmapped names are looked up under their canonical name.
            ``query`` and ``relevance`` are required; ``item_id`` or ``title`` must be present.
        member: the file inside a ``.zip`` holding several.
        dataset: the dataset name.
        extra_columns: file columns carried into the judgements table unchanged (as strings).
        delimiter: CSV field delimiter.
        encoding: text encoding.

    Returns:
        A :class:`Dataset` with ``judgements`` (one row per file row, in file order) and ``items``
        (distinct item ids with the first title / plain-text description seen).

    Raises:
        ValueError: if a required column is missing or a relevance is not a number.
    """
    mapping = {name: name for name in _CANONICAL}
    mapping.update(columns or {})
    unknown = set(mapping) - set(_CANONICAL)
    if unknown:
        raise ValueError(f"unknown canonical column(s) {sorted(unknown)}; expected {list(_CANONICAL)}")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # product descriptions can be long
    queries: list[str] = []
    item_ids: list[str] = []
    relevances: list[float] = []
    extras: dict[str, list[str | None]] = {c: [] for c in extra_columns}
    item_title: dict[str, str | None] = {}
    item_desc: dict[str, str | None] = {}
    with open_text(path, member=member, encoding=encoding) as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = set(reader.fieldnames or ())
        present = {name: col for name, col in mapping.items() if col in header}
        for name in ("query", "relevance"):
            if name not in present:
                raise ValueError(
                    f"{path}: no {name!r} column (looked for {mapping[name]!r}; has {sorted(header)})"
                )
        if "item_id" not in present and "title" not in present:
            raise ValueError(f"{path}: needs an item id or a title column; has {sorted(header)}")
        missing_extra = [c for c in extra_columns if c not in header]
        if missing_extra:
            raise ValueError(f"{path}: extra column(s) {missing_extra} not in the file")
        for lineno, row in enumerate(reader, start=2):
            raw_title = row[present["title"]] if "title" in present else ""
            raw_desc = row[present["description"]] if "description" in present else ""
            raw_title, raw_desc = raw_title or "", raw_desc or ""
            if "item_id" in present and row[present["item_id"]]:
                item = row[present["item_id"]].strip()
            else:
                item = product_id(raw_title, raw_desc)
            try:
                relevance = float(row[present["relevance"]])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: row {lineno}: relevance {row[present['relevance']]!r} is not a number"
                ) from None
            queries.append(row[present["query"]].strip())
            item_ids.append(item)
            relevances.append(relevance)
            for c in extra_columns:
                extras[c].append(row[c])
            if item not in item_title:
                item_title[item] = clean_text(raw_title)
                item_desc[item] = strip_html(raw_desc) or None
    pairs: dict[tuple[str, str], list[float]] = defaultdict(list)
    for q, i, r in zip(queries, item_ids, relevances, strict=True):
        pairs[(q, i)].append(r)
    dup = [v for v in pairs.values() if len(v) > 1]
    meta = {
        "source": str(path),
        "duplicate_pairs": len(dup),
        "duplicate_rows": sum(len(v) - 1 for v in dup),
        "conflicting_pairs": sum(1 for v in dup if len(set(v)) > 1),
        "queries": len(set(queries)),
    }
    if dup:
        log.info(
            "%s: %d (query, item) pairs judged more than once (%d extra rows, %d with different labels); "
            "kept as separate rows",
            dataset,
            meta["duplicate_pairs"],
            meta["duplicate_rows"],
            meta["conflicting_pairs"],
        )
    judgements = judgements_table(
        {
            "query": queries,
            "item_id": item_ids,
            "title": [item_title[i] for i in item_ids],
            "description": [item_desc[i] for i in item_ids],
            "relevance": relevances,
            **extras,
        }
    )
    ids = list(item_title)
    items = items_table(
        {"item_id": ids, "title": [item_title[i] for i in ids], "description": [item_desc[i] for i in ids]}
    )
    return Dataset(name=dataset, items=items, judgements=judgements, metadata=meta)
