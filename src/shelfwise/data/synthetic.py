"""A synthetic shop whose right answers are known: users with latent category, brand and price tastes.

Each user prefers one or two categories, one brand and a price band; each of their sessions picks an item
from a preferred category with probability ``focus`` (else any item), from the preferred brand with a
boost, within the preferred price band with a boost, and walks the funnel view -> add_to_cart -> purchase
with fixed conversion rates. Tests check that profiles and models recover these tastes.

Example:
    >>> shop = make_shop(n_users=50, n_items=200, n_events=2_000, seed=0)
    >>> shop.dataset.events.num_rows >= 2_000, len(shop.truth)
    (True, 50)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shelfwise.data.schema import Dataset

CATEGORIES = (
    "Beauty > Skincare > Moisturisers",
    "Beauty > Skincare > Cleansers",
    "Beauty > Makeup > Lipstick",
    "Beauty > Nails > Nail Polish",
    "Home > Kitchen > Cookware",
    "Home > Bedding > Pillows",
    "Sports > Running > Shoes",
    "Sports > Yoga > Mats",
    "Electronics > Audio > Headphones",
    "Electronics > Phones > Cases",
)
BRANDS = ("Acme", "Lumen", "Northwind", "Orchid", "Pioneer", "Quill", "Riviera", "Sable")
COLOURS = ("red", "blue", "black", "white", "green", "pink")
PRICE_BANDS = ((5.0, 20.0), (20.0, 60.0), (60.0, 200.0))
BAND_NAMES = ("budget", "mid", "premium")
BASE_TIME = 1_700_000_000  # 2023-11-14, Unix seconds


@dataclass(frozen=True)
class UserTruth:
    """The latent tastes a user was generated with."""

    categories: tuple[str, ...]
    brand: str
    price_band: int  # index into PRICE_BANDS


@dataclass(frozen=True)
class SyntheticShop:
    """The generated data and the truth behind it."""

    dataset: Dataset
    truth: dict[str, UserTruth]


def make_items(n_items: int, rng: np.random.Generator) -> pa.Table:
    """A catalogue spread over categories, brands, colours and price bands."""
    cat = rng.integers(0, len(CATEGORIES), n_items)
    brand = rng.integers(0, len(BRANDS), n_items)
    band = rng.integers(0, len(PRICE_BANDS), n_items)
    colour = rng.integers(0, len(COLOURS), n_items)
    lo = np.array([b[0] for b in PRICE_BANDS])[band]
    hi = np.array([b[1] for b in PRICE_BANDS])[band]
    price = np.round(lo + rng.random(n_items) * (hi - lo), 2)
    leaf = [CATEGORIES[c].split(" > ")[-1] for c in cat]
    titles = [
        f"{BRANDS[b]} {COLOURS[c]} {leaf[i].rstrip('s').lower()} {i}"
        for i, (b, c) in enumerate(zip(brand, colour, strict=True))
    ]
    return pa.table(
        {
            "item_id": [f"i{i}" for i in range(n_items)],
            "title": titles,
            "description": [
                f"A {COLOURS[c]} {leaf[i].lower()} by {BRANDS[b]}."
                for i, (b, c) in enumerate(zip(brand, colour, strict=True))
            ],
            "category": [CATEGORIES[c] for c in cat],
            "brand": [BRANDS[b] for b in brand],
            "price": price,
            "currency": ["USD"] * n_items,
            "attributes": [f'{{"colour": "{COLOURS[c]}"}}' for c in colour],
            "image": [None] * n_items,
            "available": rng.random(n_items) > 0.03,
        }
    )


def make_shop(
    n_users: int = 500,
    n_items: int = 2_000,
    n_events: int = 50_000,
    *,
    focus: float = 0.85,
    brand_boost: float = 4.0,
    band_boost: float = 4.0,
    seed: int = 0,
) -> SyntheticShop:
    """Generate a shop. ``n_events`` counts views; carts and purchases come on top of them."""
    rng = np.random.default_rng(seed)
    items = make_items(n_items, rng)
    cat_of = np.array([CATEGORIES.index(c) for c in items.column("category").to_pylist()])
    brand_of = np.array([BRANDS.index(b) for b in items.column("brand").to_pylist()])
    price = items.column("price").to_numpy()
    band_of = np.digitize(price, [PRICE_BANDS[1][0], PRICE_BANDS[2][0]])

    truth: dict[str, UserTruth] = {}
    user_ids, item_ids, types, times, sessions = [], [], [], [], []
    views_per_user = rng.multinomial(n_events, np.full(n_users, 1.0 / n_users))
    for u in range(n_users):
        n_cats = 1 + int(rng.random() < 0.5)
        cats = rng.choice(len(CATEGORIES), n_cats, replace=False)
        brand = int(rng.integers(len(BRANDS)))
        band = int(rng.integers(len(PRICE_BANDS)))
        uid = f"u{u}"
        truth[uid] = UserTruth(tuple(CATEGORIES[c] for c in cats), BRANDS[brand], band)
        weight = np.where(
            np.isin(cat_of, cats), focus / max(np.isin(cat_of, cats).sum(), 1), (1 - focus) / n_items
        )
        weight = (
            weight
            * np.where(brand_of == brand, brand_boost, 1.0)
            * np.where(band_of == band, band_boost, 1.0)
        )
        weight /= weight.sum()
        n_views = max(int(views_per_user[u]), 3)
        chosen = rng.choice(n_items, n_views, p=weight)
        t = BASE_TIME + u * 7 + np.cumsum(rng.integers(30, 3_600, n_views))
        session = np.cumsum(np.r_[0, np.diff(t) > 1_800])
        for i, ts, s in zip(chosen, t, session, strict=True):
            user_ids.append(uid)
            item_ids.append(f"i{i}")
            types.append("view")
            times.append(int(ts))
            sessions.append(f"{uid}-s{s}")
            if rng.random() < 0.15:
                user_ids.append(uid)
                item_ids.append(f"i{i}")
                types.append("add_to_cart")
                times.append(int(ts) + 5)
                sessions.append(f"{uid}-s{s}")
                if rng.random() < 0.4:
                    user_ids.append(uid)
                    item_ids.append(f"i{i}")
                    types.append("purchase")
                    times.append(int(ts) + 10)
                    sessions.append(f"{uid}-s{s}")
    n = len(user_ids)
    events = pa.table(
        {
            "event_id": [f"e{k}" for k in range(n)],
            "user_id": user_ids,
            "item_id": item_ids,
            "type": types,
            "value": pa.nulls(n, pa.float64()),
            "query": pa.nulls(n, pa.string()),
            "timestamp": pa.array(times, pa.int64()),
            "session_id": sessions,
            "request_id": pa.nulls(n, pa.string()),
        }
    )
    dataset = Dataset(
        name="synthetic", items=items, events=events, metadata={"seed": seed, "generator": "make_shop"}
    )
    return SyntheticShop(dataset, truth)


def make_event_table(
    n_events: int, *, n_users: int = 50_000, n_items: int = 20_000, seed: int = 0
) -> pa.Table:
    """A large, fast-to-make event table in canonical columns (timestamps as ISO text), for benchmarks."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_events)
    items = rng.zipf(1.3, n_events) % n_items
    kinds = np.array(["view", "click", "add_to_cart", "purchase"])[
        rng.choice(4, n_events, p=[0.7, 0.2, 0.07, 0.03])
    ]
    ts = BASE_TIME + np.sort(rng.integers(0, 30 * 86_400, n_events))
    iso = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")
    return pa.table(
        {
            "event_id": pa.array(np.char.add("e", np.arange(n_events).astype(str))),
            "user_id": pa.array(np.char.add("u", users.astype(str))),
            "item_id": pa.array(np.char.add("i", items.astype(str))),
            "type": pa.array(kinds),
            "value": pa.array(np.round(rng.random(n_events) * 100, 2), mask=kinds != "purchase"),
            "query": pa.nulls(n_events, pa.string()),
            "timestamp": pa.array(np.char.add(iso, "Z")),
            "session_id": pa.array(np.char.add("s", (users * 10 + ts // 86_400 % 10).astype(str))),
            "request_id": pa.nulls(n_events, pa.string()),
        }
    )
