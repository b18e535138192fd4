"""Persist profile states through :meth:`Store.upsert_profiles` / :meth:`Store.read_profiles`.

One row per user: ``user_id`` (the store's pseudonymous id), ``updated_at`` (last event time), ``profile``
(JSON: ``{"format": 1, "state": ..., "profile": readable snapshot or null}``) and ``vector`` (float32 list:
the long-term interest vector, so other components can search with it). The state JSON names categories,
brands and items by their external names, so it survives catalogue re-indexing; the anchored vector sum is
restored as ``vector * vec_weight``. Nothing in it is free text: no review text, no queries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.profiles.explain import profile_json
from shelfwise.profiles.reviews import ReviewStats
from shelfwise.profiles.state import ProfileUpdater, UserState
from shelfwise.profiles.view import ProfileReader

__all__ = ["FORMAT", "load_states", "save_states", "state_from_json", "state_to_json"]

log = logging.getLogger(__name__)
FORMAT = 1
_NONE = "(none)"


def state_to_json(st: UserState, updater: ProfileUpdater) -> dict[str, Any]:
    """JSON-ready state (names instead of codes; the vector sum goes in the ``vector`` column)."""
    cat = updater.catalog
    return {
        "n_events": st.n_events,
        "type_counts": st.type_counts,
        "first_ts": st.first_ts,
        "last_ts": st.last_ts,
        "last_session": st.last_session,
        "last_day": st.last_day,
        "sessions": st.sessions,
        "active_days": st.active_days,
        "anchor": st.anchor,
        "weight": st.weight,
        "vec_weight": st.vec_weight,
        "categories": {cat.categories[k]: v for k, v in st.categories.items()},
        "brands": {cat.brands[k]: v for k, v in st.brands.items()},
        "lifetime_categories": {cat.categories[k]: v for k, v in st.lifetime_categories.items()},
        "lifetime_brands": {cat.brands[k]: v for k, v in st.lifetime_brands.items()},
        "stages": {str(cat.ids[i]): v for i, v in st.stages.items()},
        "lifetime_price": {str(b): v for b, v in st.lifetime_price.items()},
        "price_hist": st.price_hist,
        "price_by_cat": {(cat.categories[k] if k >= 0 else _NONE): v for k, v in st.price_by_cat.items()},
        "activity": st.activity,
        "monetary": st.monetary,
        "priced_purchases": st.priced_purchases,
        "rating_sum": st.rating_sum,
        "rating_n": st.rating_n,
        "reviews": st.reviews.to_dict(),
        "recent": [[str(cat.ids[i]), t, ts] for i, t, ts in st.recent],
    }


def state_from_json(
    data: Mapping[str, Any], vector: Sequence[float] | None, updater: ProfileUpdater
) -> UserState:
    """Inverse of :func:`state_to_json`; names unknown to the current catalogue are dropped."""
    cat = updater.catalog
    cpos = {n: i for i, n in enumerate(cat.categories)}
    bpos = {n: i for i, n in enumerate(cat.brands)}
    st = updater.new_state()
    for key in (
        "n_events",
        "first_ts",
        "last_ts",
        "last_session",
        "last_day",
        "sessions",
        "active_days",
        "anchor",
        "weight",
        "vec_weight",
        "monetary",
        "priced_purchases",
        "rating_sum",
        "rating_n",
    ):
        setattr(st, key, data[key])
    st.type_counts = dict(data["type_counts"])
    st.categories = {cpos[n]: float(v) for n, v in data["categories"].items() if n in cpos}
    st.brands = {bpos[n]: float(v) for n, v in data["brands"].items() if n in bpos}
    # rows written before these existed: no lifetime sums (the reader then uses the decayed ones alone)
    st.lifetime_categories = {
        cpos[n]: float(v) for n, v in data.get("lifetime_categories", {}).items() if n in cpos
    }
    st.lifetime_brands = {bpos[n]: float(v) for n, v in data.get("lifetime_brands", {}).items() if n in bpos}
    stages = ((cat.index_of(i), int(v)) for i, v in data.get("stages", {}).items())
    st.stages = {i: v for i, v in stages if i >= 0}
    st.lifetime_price = {int(b): float(v) for b, v in data.get("lifetime_price", {}).items()}
    st.price_hist = [float(x) for x in data["price_hist"]]
    st.price_by_cat = {
        (-1 if n == _NONE else cpos[n]): list(v)
        for n, v in data["price_by_cat"].items()
        if n == _NONE or n in cpos
    }
    st.activity = [float(x) for x in data["activity"]]
    st.reviews = ReviewStats.from_dict(data["reviews"])
    recent = [(cat.index_of(i), str(t), float(ts)) for i, t, ts in data["recent"]]
    st.recent = deque([r for r in recent if r[0] >= 0], maxlen=updater.config.short_events)
    if vector is not None and len(vector) and st.vec_weight > 0:
        st.vec_sum = np.asarray(vector, dtype=np.float32) * np.float32(st.vec_weight)
    return st


def _ts(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


def save_states(
    store: Any,
    states: Mapping[str, UserState],
    updater: ProfileUpdater,
    reader: ProfileReader | None = None,
    *,
    batch_size: int = 5_000,
) -> int:
    """Upsert states (and, with a reader, their readable snapshot at the last event) into ``store``.

    Returns:
        Rows written.
    """
    ids = list(states)
    written = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        profiles, vectors, updated = [], [], []
        for uid in chunk:
            st = states[uid]
            snap = profile_json(reader.profile(uid, st)) if reader is not None else None
            profiles.append(
                json.dumps({"format": FORMAT, "state": state_to_json(st, updater), "profile": snap})
            )
            v = st.long_vector()
            vectors.append(None if v is None else v.tolist())
            updated.append(_ts(st.last_ts))
        table = pa.table(
            {
                "user_id": pa.array(chunk, pa.string()),
                "updated_at": pa.array(updated, pa.timestamp("us", tz="UTC")),
                "profile": pa.array(profiles, pa.string()),
                "vector": pa.array(vectors, pa.list_(pa.float32())),
            }
        )
        written += store.upsert_profiles(table)
    return written


def load_states(
    store: Any, updater: ProfileUpdater, user_ids: Sequence[str] | None = None
) -> dict[str, UserState]:
    """Read persisted states back (rows of another format are skipped with a warning)."""
    table = store.read_profiles(user_ids)
    out: dict[str, UserState] = {}
    for uid, raw, vec in zip(
        table.column("user_id").to_pylist(),
        table.column("profile").to_pylist(),
        table.column("vector").to_pylist(),
        strict=True,
    ):
        payload = json.loads(raw) if raw else {}
        if payload.get("format") != FORMAT:
            log.warning(
                "profile of %s has format %r, expected %d: skipped", uid, payload.get("format"), FORMAT
            )
            continue
        out[str(uid)] = state_from_json(payload["state"], vec, updater)
    return out
