"""Derive the shipped sample shop (``src/shelfwise/sample/``) from the amazon-scientific benchmark data.

The sample must let the demo run without ``../shared``: about a thousand products with titles, category
paths and brands, and a few thousand events from real shoppers' sequences. Whole users are kept: users
are picked greedily (round-robin over top-level categories, each time the user adding the fewest new
products), and at the end every user whose *full* sequence lies inside the picked products is added, so
no sequence is cut. Prices, availability and timestamps do not exist in the source and are SYNTHETIC,
drawn deterministically (seeded per category / item / user); see the generated SOURCE.md.

Usage (from the repository root, with the package importable, e.g. ``pip install -e .``)::

    python scripts/make_sample_shop.py --data-dir ../shared/data/amazon-scientific
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

from shelfwise.data.datasets import amazon_scientific
from shelfwise.data.schema import CATEGORY_SEPARATOR, EVENT_COLUMNS, ITEM_COLUMNS

log = logging.getLogger("make_sample_shop")

SEED = 20240601
MAX_ITEMS = 1200
UNAVAILABLE_SHARE = 0.03
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
COMMAND = "python scripts/make_sample_shop.py --data-dir ../shared/data/amazon-scientific"


def _rng(*keys: str) -> np.random.Generator:
    """A generator seeded by SEED and the CRC32 of each key: independent of selection order."""
    return np.random.default_rng([SEED, *(zlib.crc32(k.encode()) for k in keys)])


def _round_price(x: float) -> float:
    """Shop-like prices: 4.49, 12.99, 149.99 ..."""
    if x < 10:
        return max(1.99, round(round(x * 2) / 2 - 0.01, 2))
    return round(float(round(x)) - 0.01, 2)


def price_for(item_id: str, category: str) -> float:
    """SYNTHETIC price: lognormal around a per-category median (itself lognormal around $30)."""
    median = float(np.exp(_rng("category", category).normal(np.log(25.0), 0.6)))
    return _round_price(median * float(np.exp(_rng("price", item_id).normal(0.0, 0.45))))


def available_for(item_id: str) -> bool:
    """SYNTHETIC availability: false for about UNAVAILABLE_SHARE of items."""
    return bool(_rng("available", item_id).random() >= UNAVAILABLE_SHARE)


def event_times(user: str, n: int) -> list[dt.datetime]:
    """SYNTHETIC increasing times for a sequence of n events (start in 2024, gaps ~ lognormal days)."""
    rng = _rng("time", user)
    t = START + dt.timedelta(days=float(rng.uniform(0, 240)), seconds=int(rng.integers(8 * 3600, 22 * 3600)))
    out = [t]
    for _ in range(n - 1):
        t = t + dt.timedelta(
            days=float(np.exp(rng.normal(np.log(5.0), 1.0))), seconds=int(rng.integers(60, 3600))
        )
        out.append(t)
    return [x.replace(microsecond=0) for x in out]


def select_users(
    seqs: dict[str, list[str]], top: dict[str, str], max_items: int
) -> tuple[list[str], set[str]]:
    """Greedy whole-user selection; returns (users in selection order, their items)."""
    users_of: dict[str, list[str]] = defaultdict(list)
    cat_users: dict[str, list[str]] = defaultdict(list)
    for u, seq in seqs.items():
        for i in set(seq):
            users_of[i].append(u)
        for c in sorted({top[i] for i in seq}):
            cat_users[c].append(u)
    new = {u: len(set(seq)) for u, seq in seqs.items()}
    tie = {u: float(_rng("tie", u).random()) for u in seqs}
    cats = sorted(cat_users, key=lambda c: _rng("cat", c).random())
    chosen: list[str] = []
    items: set[str] = set()
    is_chosen: set[str] = set()
    progress = True
    while progress and len(items) < max_items:
        progress = False
        for c in cats:
            cands = [u for u in cat_users[c] if u not in is_chosen and len(items) + new[u] <= max_items]
            if not cands:
                continue
            u = min(cands, key=lambda v: (new[v], tie[v]))
            chosen.append(u)
            is_chosen.add(u)
            progress = True
            for i in set(seqs[u]) - items:
                items.add(i)
                for v in users_of[i]:
                    new[v] -= 1
    for u in sorted(seqs, key=lambda v: tie[v]):  # every other user already fully inside the sample
        if u not in is_chosen and new[u] == 0:
            chosen.append(u)
            is_chosen.add(u)
    return chosen, items


def main() -> None:
    """Build and write items.csv, events.csv and SOURCE.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data/amazon-scientific"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "src/shelfwise/sample")
    ap.add_argument("--max-items", type=int, default=MAX_ITEMS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    ds = amazon_scientific.load(args.data_dir)
    assert ds.items is not None and ds.events is not None
    items = {r["item_id"]: r for r in ds.items.to_pylist()}
    good = {i for i, r in items.items() if r["title"] and r["category"] and r["brand"]}
    seqs: dict[str, list[str]] = defaultdict(list)
    for u, i in zip(ds.events["user_id"].to_pylist(), ds.events["item_id"].to_pylist(), strict=True):
        seqs[u].append(i)  # events are in sequence order per user
    seqs = {
        u: s for u, s in seqs.items() if set(s) <= good
    }  # users touching untitled / uncategorised items out
    top = {
        i: CATEGORY_SEPARATOR.join(r["category"].split(CATEGORY_SEPARATOR)[:2])
        for i, r in items.items()
        if i in good
    }
    users, chosen_items = select_users(seqs, top, args.max_items)

    args.out.mkdir(parents=True, exist_ok=True)
    item_ids = sorted(chosen_items)
    with (args.out / "items.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ITEM_COLUMNS), lineterminator="\n")
        w.writeheader()
        for i in item_ids:
            r = items[i]
            w.writerow(
                {
                    **{k: "" for k in ITEM_COLUMNS},
                    "item_id": i,
                    "title": r["title"],
                    "category": r["category"],
                    "brand": r["brand"],
                    "price": f"{price_for(i, r['category']):.2f}",
                    "currency": "USD",
                    "available": "true" if available_for(i) else "false",
                }
            )
    n_events = 0
    with (args.out / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
        w.writeheader()
        for k, u in enumerate(users, start=1):
            pseudo = f"u{k:04d}"
            for pos, (i, t) in enumerate(zip(seqs[u], event_times(u, len(seqs[u])), strict=True)):
                w.writerow(
                    {
                        **{c: "" for c in EVENT_COLUMNS},
                        "event_id": f"sample:{pseudo}:{pos}",
                        "user_id": pseudo,
                        "item_id": i,
                        "type": "purchase",
                        "timestamp": t.isoformat().replace("+00:00", "Z"),
                    }
                )
                n_events += 1
    unavailable = sum(1 for i in item_ids if not available_for(i))
    n_cats = len({items[i]["category"] for i in item_ids})
    n_top = len({top[i] for i in item_ids})
    n_brands = len({items[i]["brand"] for i in item_ids})
    write_source_md(args.out, len(item_ids), len(users), n_events, unavailable, n_cats, n_top, n_brands)
    log.info("wrote %d items, %d users, %d events to %s", len(item_ids), len(users), n_events, args.out)


def write_source_md(
    out: Path,
    n_items: int,
    n_users: int,
    n_events: int,
    unavailable: int,
    n_cats: int,
    n_top: int,
    n_brands: int,
) -> None:
    """Write SOURCE.md: origin, derivation command and a note on every column."""
    text = f"""# Sample shop — where it comes from

A small shop shipped with the package so the demo runs without the benchmark data. **Products, their titles,
categories and brands, and every shopper's sequence of products are real; prices, availability, timestamps and
user ids are not** (see the column notes).

- Source: `amazon-scientific` benchmark folder (Amazon Review Data 2018 "Industrial_and_Scientific", Ni, Li,
  McAuley; research use), as obtained from repository ysh-1998/CoWPiRec, commit
  db47560c2364650d22afc77080717287daec5079, `dataset/Scientific/` (see `../shared/data/amazon-scientific/SOURCE.md`).
  Read with `shelfwise.data.datasets.amazon_scientific.load` (full sequences rebuilt from the train/valid/test
  files; category levels recovered from the space-joined source text, heuristically).
- Derived by: `{COMMAND}` (script `scripts/make_sample_shop.py`, seed {SEED}, `--max-items {MAX_ITEMS}`).
  Re-running it reproduces these files byte for byte.
- Selection: only users all of whose products have a title, a category and a brand; then users are picked
  greedily, round-robin over the top-level categories, each time the user adding the fewest new products,
  until {MAX_ITEMS} products; finally every other user whose whole sequence lies inside those products is added.
  Each user's **full** sequence is kept, in its original order; no sequence is cut.
- Size: {n_items} items ({n_top} top-level categories, {n_cats} category paths, {n_brands} brands), {n_users} users,
  {n_events} events.

## items.csv (canonical item columns)

| column | note |
|---|---|
| item_id | the product's ASIN (real) |
| title, brand | real, from the source text |
| category | real levels, joined by ` > `; level boundaries recovered heuristically |
| description, attributes, image, updated_at | empty (the source has none) |
| price | **SYNTHETIC — for the demo's price filters only.** Seeded lognormal: each category path gets a median (lognormal around $25, sigma 0.6), each item that median times lognormal noise (sigma 0.45), rounded to shop-like prices (x.99 / x.49). The real data has no prices. |
| currency | `USD` for every item (goes with the synthetic price) |
| available | **SYNTHETIC**: `false` for a seeded ~{UNAVAILABLE_SHARE:.0%} of items ({unavailable} of {n_items}), `true` otherwise |

## events.csv (canonical event columns)

| column | note |
|---|---|
| event_id | `sample:<user_id>:<position>`, position 0-based within the user |
| user_id | **pseudonymous** `u0001`...: the source reviewer ids are replaced, numbered in selection order |
| item_id | real: the products of the user's sequence, in the original order |
| type | `purchase` (the source events are reviews, taken as purchases as the benchmark does) |
| timestamp | **SYNTHETIC**, ISO 8601 UTC: the source has only order. Per user (seeded): a start in 2024, then gaps of lognormal days (median 5). Order within a user is the real order; times across users mean nothing. |
| value, query, session_id, request_id | empty |
"""
    (out / "SOURCE.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
