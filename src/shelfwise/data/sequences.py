"""Read the one-user-per-line sequence format (``user item1 item2 ...``) into a :class:`Dataset`.

This is the format of most sequential-recommendation benchmarks (SASRec, S3Rec, P5): whitespace
separated, items in time order, no timestamps. Timestamps are therefore synthetic order keys:
``epoch + position`` seconds within each user, and the dataset's metadata says so
(``synthetic_timestamps: True``). Event ids are ``f"{dataset}:{user}:{position}"`` (position 0-based
within the user), stable across runs so re-ingesting the same file dedupes.

An optional item-title file gives titles: ``item_id<TAB>title`` or ``item_id<TAB>asin<TAB>title``, with
or without a header line; in the three-column form the middle field is kept as ``attributes.asin``.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "seq.txt"
    >>> _ = p.write_text("u1 a b\\nu2 b\\n")
    >>> ds = read_sequences(p)
    >>> ds.events.num_rows, ds.events.column("event_id").to_pylist()[:2]
    (3, ['seq:u1:0', 'seq:u1:1'])
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from shelfwise.data.schema import Dataset, EventType
from shelfwise.data.tables import events_table, items_table, to_json, users_table
from shelfwise.data.textio import clean_text, open_text

log = logging.getLogger(__name__)

#: Start of synthetic order-key timestamps (2000-01-01T00:00:00Z): clearly not a real event time.
SYNTHETIC_EPOCH: Final[int] = 946_684_800

_HEADER_NAMES: Final[frozenset[str]] = frozenset({"item_id", "item", "id", "item_id:token", "itemid"})


def read_titles(
    path: Path, clean: Callable[[str | None], str | None] = clean_text
) -> dict[str, dict[str, Any]]:
    """Read an item-title file into ``{item_id: {"title": ..., "asin": ...}}``.

    Accepts ``item_id<TAB>title`` or ``item_id<TAB>asin<TAB>title`` lines, with or without a header
    (a first line whose first field is ``item_id`` / ``item`` / ``id``). Titles go through ``clean``
    (HTML entities decoded, whitespace collapsed; empty -> ``None``).

    Raises:
        ValueError: on a line with fewer than two or more than three tab-separated fields.
    """
    out: dict[str, dict[str, Any]] = {}
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if lineno == 1 and fields[0].strip().lower() in _HEADER_NAMES:
                continue
            if len(fields) == 2:
                item, title = fields
                out[item.strip()] = {"title": clean(title)}
            elif len(fields) == 3:
                item, asin, title = fields
                out[item.strip()] = {"title": clean(title), "asin": asin.strip() or None}
            else:
                raise ValueError(f"{path}:{lineno}: expected 2 or 3 tab-separated fields, got {len(fields)}")
    return out


def read_sequences(
    path: Path,
    *,
    titles_path: Path | None = None,
    event_type: str = "purchase",
    dataset: str = "seq",
    epoch: int = SYNTHETIC_EPOCH,
) -> Dataset:
    """Read ``user item1 item2 ...`` lines (``.gz`` / ``.zip`` read in place) into events, users, items.

    Args:
        path: the sequence file; blank lines are skipped; a user on several lines continues its positions.
        titles_path: optional item-title file (see :func:`read_titles`); items without a title get ``None``.
        event_type: event type of every interaction (any alias :meth:`EventType.parse` accepts).
        dataset: name of the dataset; prefix of the event ids.
        epoch: Unix seconds of each user's first event; later events follow one second apart.

    Returns:
        A :class:`Dataset` with events (``purchase`` by default, synthetic timestamps), users, and items
        (every item in the sequences plus any titled item that never occurs) with title and asin attribute.

    Raises:
        ValueError: on a line with a user but no items, or an unknown event type.
    """
    etype = EventType.parse(event_type).value
    event_ids: list[str] = []
    users: list[str] = []
    items: list[str] = []
    timestamps: list[int] = []
    next_pos: dict[str, int] = {}
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{lineno}: user {fields[0]!r} has no items")
            user, seq = fields[0], fields[1:]
            start = next_pos.get(user, 0)
            for offset, item in enumerate(seq):
                pos = start + offset
                event_ids.append(f"{dataset}:{user}:{pos}")
                users.append(user)
                items.append(item)
                timestamps.append(epoch + pos)
            next_pos[user] = start + len(seq)
    titles = read_titles(titles_path) if titles_path is not None else {}
    item_ids = list(dict.fromkeys([*items, *titles]))
    unknown_titled = len(item_ids) - len(set(items))
    if unknown_titled:
        log.info("%s: %d titled items never occur in the sequences", dataset, unknown_titled)
    meta = [titles.get(i, {}) for i in item_ids]
    item_table = items_table(
        {
            "item_id": item_ids,
            "title": [m.get("title") for m in meta],
            "attributes": [to_json({"asin": m["asin"]} if m.get("asin") else None) for m in meta],
        }
    )
    events = events_table(
        {
            "event_id": event_ids,
            "user_id": users,
            "item_id": items,
            "type": [etype] * len(items),
            "timestamp": timestamps,
        }
    )
    log.info("%s: %d users, %d items, %d events", dataset, len(next_pos), len(item_ids), len(items))
    return Dataset(
        name=dataset,
        items=item_table,
        users=users_table(next_pos),
        events=events,
        metadata={
            "synthetic_timestamps": True,
            "timestamp_note": f"order keys: {epoch} + position seconds within each user, not real times",
            "source": str(path),
        },
    )
