"""Taobao UserBehavior (Alibaba Tianchi 649), a prefix sample: view / cart / favourite / buy events.

File (read in place): ``UserBehavior_sample.csv``, no header: user_id, item_id, category_id, behavior
(``pv | cart | fav | buy``), Unix timestamp. Behaviours are mapped to canonical types (``pv`` -> ``view``,
``cart`` -> ``add_to_cart``, ``fav`` -> ``favorite``, ``buy`` -> ``purchase``); timestamps are real.
Items carry only ``category`` = the category id (a string; no names exist). Event ids are
``f"taobao-userbehavior:{user}:{position}"``, position = the row's rank among that user's rows in file
order (the file is time-ordered within each user).
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from pathlib import Path

from shelfwise.data.schema import Dataset, EventType
from shelfwise.data.tables import events_table, items_table, users_table
from shelfwise.data.textio import open_text

log = logging.getLogger(__name__)

NAME = "taobao-userbehavior"
FILE = "UserBehavior_sample.csv"


def load(data_dir: Path) -> Dataset:
    """Load the dataset from its folder (e.g. ``../shared/data/taobao-userbehavior``).

    Returns:
        Events (84,287; real Unix timestamps), users (814) and items (55,233, category id only).

    Raises:
        ValueError: on a row without five fields or with an unknown behaviour.
    """
    data_dir = Path(data_dir)
    cols: dict[str, list[object]] = {k: [] for k in ("event_id", "user_id", "item_id", "type", "timestamp")}
    next_pos: Counter[str] = Counter()
    item_cats: dict[str, Counter[str]] = {}
    types: dict[str, str] = {}
    with open_text(data_dir / FILE) as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row:
                continue
            if len(row) != 5:
                raise ValueError(f"{data_dir / FILE}:{lineno}: expected 5 fields, got {len(row)}")
            user, item, cat, behavior, ts = row
            if behavior not in types:
                types[behavior] = EventType.parse(behavior).value
            pos = next_pos[user]
            next_pos[user] += 1
            cols["event_id"].append(f"{NAME}:{user}:{pos}")
            cols["user_id"].append(user)
            cols["item_id"].append(item)
            cols["type"].append(types[behavior])
            cols["timestamp"].append(int(ts))
            item_cats.setdefault(item, Counter())[cat] += 1
    multi = sum(1 for c in item_cats.values() if len(c) > 1)
    if multi:
        log.info("%s: %d items appear under several categories; the most frequent is kept", NAME, multi)
    item_ids = list(item_cats)
    items = items_table(
        {"item_id": item_ids, "category": [item_cats[i].most_common(1)[0][0] for i in item_ids]}
    )
    return Dataset(
        name=NAME,
        items=items,
        users=users_table(next_pos),
        events=events_table(cols),
        metadata={
            "source": str(data_dir),
            "synthetic_timestamps": False,
            "multi_category_items": multi,
            "protocol": "time split; conversion funnel view -> add_to_cart -> purchase",
        },
    )
