"""Amazon Beauty (2014 review data, 5-core) as used by S3Rec / P5: purchase sequences with titles.

Files (read in place): ``Beauty.txt`` (``user item1 item2 ...``, time order), ``beauty_item_titles.tsv``
(``item_id<TAB>asin<TAB>title``), ``Beauty_item2attributes.json`` (``{item_id: [attribute ids]}``;
the ids are category / brand ids with no names).

Events are typed ``purchase``: they are really *reviews* (the 5-core review data), taken as purchases
the way the sequential-recommendation literature does. There are no timestamps, only order, so
timestamps are synthetic order keys (see :mod:`shelfwise.data.sequences`). Titles often begin with the
brand, but no brand field exists and none is guessed. Items keep ``asin`` and ``attribute_ids`` in
``attributes``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa

from shelfwise.data.schema import Dataset
from shelfwise.data.sequences import read_sequences
from shelfwise.data.tables import to_json

log = logging.getLogger(__name__)

NAME = "amazon-beauty"


def load(data_dir: Path) -> Dataset:
    """Load the dataset from its folder (e.g. ``../shared/data/amazon-beauty``).

    Returns:
        Events (22,363 users, 12,101 items, 198,502 ``purchase`` events with synthetic timestamps), users
        and items (title, ``attributes = {"asin", "attribute_ids"}``).
    """
    data_dir = Path(data_dir)
    ds = read_sequences(
        data_dir / "Beauty.txt",
        titles_path=data_dir / "beauty_item_titles.tsv",
        event_type="purchase",  # reviews-as-purchases: the 5-core review data, as the benchmarks treat it
        dataset=NAME,
    )
    assert ds.items is not None
    with (data_dir / "Beauty_item2attributes.json").open(encoding="utf-8") as fh:
        item_attrs: dict[str, list[int]] = json.load(fh)
    merged: list[str | None] = []
    for item, raw in zip(
        ds.items.column("item_id").to_pylist(), ds.items.column("attributes").to_pylist(), strict=True
    ):
        attrs = json.loads(raw) if raw else {}
        if item in item_attrs:
            attrs["attribute_ids"] = item_attrs[item]
        merged.append(to_json(attrs))
    idx = ds.items.schema.get_field_index("attributes")
    items = ds.items.set_column(idx, "attributes", pa.array(merged, type=pa.string()))
    return Dataset(
        name=NAME,
        items=items,
        users=ds.users,
        events=ds.events,
        metadata={
            **ds.metadata,
            "source": str(data_dir),
            "event_note": "purchase events are 5-core reviews taken as purchases",
            "protocol": "leave-one-out: last item test, second-to-last valid; full ranking",
        },
    )
