"""Amazon "Industrial_and_Scientific" (2018 review data) in RecBole atomic files, as used by UniSRec.

Files (tab-separated, header ``field:type``, read in place):

- ``Scientific.text``: ``ASIN<TAB>"title. categories. brand. "`` — parsed into title, a category path and
  brand (see :func:`parse_text`); the source joined category levels with spaces, so levels are recovered
  heuristically (:func:`split_categories`) and the unsegmented string is kept as
  ``attributes.category_text``.
- ``Scientific.item2index`` / ``Scientific.user2index``: ASIN / reviewer id -> integer used in ``.inter``.
- ``Scientific.{train,valid,test}.inter``: ``user<TAB>history<TAB>target``; histories are cut to the last
  50 items.

Each user's full sequence is rebuilt from all three files: the test row alone (history + target) loses
the oldest items of the few users with more than 51 interactions. Events are ``purchase`` (reviews taken
as purchases) with synthetic order-key timestamps; ``splits["given"]`` marks each user's test target
``test``, valid target ``valid``, the rest ``train``, and is checked against every ``.inter`` row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import Final

import pyarrow as pa

from shelfwise.data.schema import CATEGORY_SEPARATOR, Dataset
from shelfwise.data.sequences import SYNTHETIC_EPOCH
from shelfwise.data.tables import events_table, items_table, to_json, users_table
from shelfwise.data.textio import clean_text, open_text

log = logging.getLogger(__name__)

NAME = "amazon-scientific"
ROOT_CATEGORY: Final[str] = "Industrial & Scientific"
#: Amazon's top-level departments under the root (public category names): anchors for level splitting.
TOP_LEVELS: Final[frozenset[str]] = frozenset(
    {
        "Abrasive & Finishing Products",
        "Additive Manufacturing Products",
        "Commercial Door Products",
        "Cutting Tools",
        "Fasteners",
        "Filtration",
        "Food Service Equipment & Supplies",
        "Hydraulics, Pneumatics & Plumbing",
        "Industrial Electrical",
        "Industrial Hardware",
        "Industrial Power & Hand Tools",
        "Janitorial & Sanitation Supplies",
        "Lab & Scientific Products",
        "Material Handling Products",
        "Occupational Health & Safety Products",
        "Packaging & Shipping Supplies",
        "Power Transmission Products",
        "Professional Dental Supplies",
        "Professional Medical Supplies",
        "Raw Materials",
        "Retail Store Fixtures & Equipment",
        "Robotics",
        "Science Education",
        "Tapes, Adhesives & Sealants",
        "Test, Measure & Inspect",
    }
)
_BROKEN_TITLES: Final[frozenset[str]] = frozenset({"Industrial & Scientific />"})

Row = tuple[list[str], str]  # (history item indices, target item index)


def _plural(word: str) -> bool:
    return len(word) > 2 and word.endswith("s") and not word.endswith("ss") and not word.endswith(",")


def split_categories(
    strings: Collection[str],
    root: str = ROOT_CATEGORY,
    max_words: int = 20,
    known: Collection[str] = TOP_LEVELS,
) -> dict[str, list[str]]:
    """Recover category levels from space-joined paths, using the whole collection of paths.

    A level boundary is put before word ``k`` when: the current level's words are a ``known`` level name
    (e.g. a top-level department); the words before it are another item's full path;
    or paths branch there and the previous word looks like a plural noun ("Washers | Flat Washers" vs
    "Sanding Rolls", "Sanding Pads" staying whole); or word ``k`` repeats the first word of the current
    level ("Copper | Copper Rods"); or the previous word is a plural equal to the path's last word
    ("Lock Washers | Spring Lock Washers"). ``root`` is always its own first level. A path longer than
    ``max_words`` words (product text leaked into it) is cut to its longest prefix that is another
    item's full path. Heuristic: a leaf may stay merged or split wrongly; the raw string should be kept
    beside the result.
    """
    tokens = {s: s.split() for s in strings if s.strip()}
    ends = {tuple(w) for w in tokens.values()}
    children: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for w in tokens.values():
        for k in range(1, len(w)):
            children[tuple(w[:k])].add(w[k])
    root_words = root.split()
    out: dict[str, list[str]] = {}
    for s, w in tokens.items():
        if len(w) > max_words:  # product text leaked into the path: keep its longest known prefix
            cuts = [k for k in range(1, max_words + 1) if tuple(w[:k]) in ends]
            w = w[: cuts[-1]] if cuts else w[:max_words]
        start = len(root_words) if w[: len(root_words)] == root_words else 0
        levels = [root] if start else []
        for k in range(start + 1, len(w)):
            prev, nxt = w[k - 1], w[k]
            if nxt == "&" or prev == "&" or prev.endswith(","):  # never inside "A, B & C"
                continue
            if (
                " ".join(w[start:k]) in known
                or tuple(w[:k]) in ends
                or (len(children[tuple(w[:k])]) > 1 and _plural(prev))
                or nxt == w[start]
                or (_plural(prev) and prev == w[-1])
            ):
                levels.append(" ".join(w[start:k]))
                start = k
        if start < len(w):
            levels.append(" ".join(w[start:]))
        out[s] = levels
    return out


def parse_text(text: str, root: str = ROOT_CATEGORY) -> tuple[str, str, str]:
    """Split ``"title. categories. brand. "`` into (title, raw category string, brand); parts may be "".

    The category part starts with ``root`` or is empty (``"title. . brand. "``); titles and brands may
    themselves contain ". " ("Mr. Heater"), so the split anchors on the category part.

    >>> parse_text("Gorilla Glue, 8 oz. Industrial & Scientific Tapes. Gorilla. ")
    ('Gorilla Glue, 8 oz', 'Industrial & Scientific Tapes', 'Gorilla')
    >>> parse_text("Fan, 120 Volt. . TPI. ")
    ('Fan, 120 Volt', '', 'TPI')
    """
    body = text[:-2] if text.endswith(". ") else text.rstrip(". ")
    i = body.rfind(". " + root)
    if i >= 0:
        title, rest = body[:i], body[i + 2 :]
        cat, sep, brand = rest.partition(". ")
        return title, cat, brand if sep else ""
    i = body.rfind(". . ")
    if i >= 0:
        return body[:i], "", body[i + 4 :]
    return body, "", ""


def _read_map(path: Path) -> dict[str, str]:
    """``external id<TAB>index`` -> ``{index: external id}``."""
    out: dict[str, str] = {}
    with open_text(path) as fh:
        for line in fh:
            if line.strip():
                ext, idx = line.rstrip("\r\n").split("\t")
                out[idx] = ext
    return out


def _read_inter(path: Path) -> dict[str, list[Row]]:
    """``user<TAB>history<TAB>target`` rows (after the header) grouped by user, in file order."""
    out: dict[str, list[Row]] = defaultdict(list)
    with open_text(path) as fh:
        next(fh)
        for line in fh:
            if line.strip():
                user, hist, target = line.rstrip("\r\n").split("\t")
                out[user].append((hist.split(), target))
    return out


def _rebuild(rows: list[Row], max_hist: int) -> list[str] | None:
    """Full sequence from a user's rows in time order, or ``None`` if the rows disagree."""
    seq = list(rows[0][0])
    for _, target in rows:
        seq.append(target)
    for pos, (hist, _target) in enumerate(rows, start=len(rows[0][0])):
        if hist != seq[max(0, pos - max_hist) : pos]:
            return None
    return seq


def _load_items(data_dir: Path) -> pa.Table:
    raw: list[tuple[str, str, str, str]] = []
    with open_text(data_dir / "Scientific.text") as fh:
        next(fh)
        for line in fh:
            if line.strip():
                asin, text = line.rstrip("\r\n").split("\t", 1)
                raw.append((asin, *parse_text(text)))
    paths = split_categories({cat for _, _, cat, _ in raw})
    broken = 0
    cols: dict[str, list[object]] = {
        "item_id": [],
        "title": [],
        "category": [],
        "brand": [],
        "attributes": [],
    }
    for asin, title, cat, brand in raw:
        clean_title = clean_text(title)
        if clean_title in _BROKEN_TITLES:  # an HTML fragment instead of a title in the source
            clean_title, broken = None, broken + 1
        cols["item_id"].append(asin)
        cols["title"].append(clean_title)
        cols["category"].append(CATEGORY_SEPARATOR.join(paths[cat]) if cat.strip() else None)
        cols["brand"].append(clean_text(brand))
        cols["attributes"].append(to_json({"category_text": cat} if cat.strip() else None))
    if broken:
        log.info("%s: %d items have a broken title in the source (left null)", NAME, broken)
    return items_table(cols)


def load(data_dir: Path) -> Dataset:
    """Load the dataset from its folder (e.g. ``../shared/data/amazon-scientific``).

    Returns:
        Items (ASIN ids, title, category path, brand), users (reviewer ids), ``purchase`` events with
        synthetic order timestamps, and ``splits["given"]`` (event_id, part).

    Raises:
        ValueError: if the split files do not describe one consistent sequence per user.
    """
    data_dir = Path(data_dir)
    items_by_idx = _read_map(data_dir / "Scientific.item2index")
    users_by_idx = _read_map(data_dir / "Scientific.user2index")
    train = _read_inter(data_dir / "Scientific.train.inter")
    valid = _read_inter(data_dir / "Scientific.valid.inter")
    test = _read_inter(data_dir / "Scientific.test.inter")
    max_hist = max(
        len(h) for rows in (train, valid, test) for user_rows in rows.values() for h, _ in user_rows
    )
    cols: dict[str, list[object]] = {k: [] for k in ("event_id", "user_id", "item_id", "type", "timestamp")}
    split_ids: list[str] = []
    parts: list[str] = []
    test_file_events = 0
    for uidx, test_rows in test.items():
        if len(test_rows) != 1 or len(valid.get(uidx, [])) != 1:
            raise ValueError(f"{NAME}: user index {uidx} needs one test and one valid row")
        test_file_events += len(test_rows[0][0]) + 1
        rows = list(reversed(train.get(uidx, []))) + valid[uidx] + test_rows  # train file is newest-first
        seq = _rebuild(rows, max_hist)
        if seq is None:
            raise ValueError(f"{NAME}: the train/valid/test rows of user index {uidx} disagree")
        user = users_by_idx[uidx]
        for pos, iidx in enumerate(seq):
            eid = f"{NAME}:{user}:{pos}"
            cols["event_id"].append(eid)
            cols["user_id"].append(user)
            cols["item_id"].append(items_by_idx[iidx])
            cols["type"].append("purchase")  # reviews taken as purchases, as the benchmark does
            cols["timestamp"].append(SYNTHETIC_EPOCH + pos)
            split_ids.append(eid)
            parts.append("test" if pos == len(seq) - 1 else "valid" if pos == len(seq) - 2 else "train")
    n_events = len(split_ids)
    if n_events != test_file_events:
        log.info(
            "%s: %d interactions; the test file alone holds %d (histories cut to %d items)",
            NAME,
            n_events,
            test_file_events,
            max_hist,
        )
    split = pa.table({"event_id": pa.array(split_ids, pa.string()), "part": pa.array(parts, pa.string())})
    return Dataset(
        name=NAME,
        items=_load_items(data_dir),
        users=users_table(users_by_idx[u] for u in test),
        events=events_table(cols),
        splits={"given": split},
        metadata={
            "source": str(data_dir),
            "synthetic_timestamps": True,
            "timestamp_note": f"order keys: {SYNTHETIC_EPOCH} + position seconds within each user",
            "event_note": "purchase events are reviews taken as purchases",
            "interactions_in_test_file": test_file_events,
            "category_note": "levels recovered heuristically; raw string in attributes.category_text",
            "protocol": "given train/valid/test split, full ranking, Recall@10/50 and NDCG@10/50",
        },
    )
