"""Batch build of every user's :class:`~shelfwise.profiles.state.UserState`, vectorised, and replay.

:func:`build_states` computes, for all users at once with numpy / scipy group sums, exactly the state that
replaying each user's events through :meth:`ProfileUpdater.apply` gives (:func:`replay_states`); the
tests check the two agree. Batch states are anchored at each user's last event, so live updates can
continue from them.

Events are read in ``(timestamp, seq)`` order (the store's order; row order stands in for a missing
``seq``). The store keeps no review text and no query vectors: pass review signals by ``event_id``
(:func:`review_signals_from_dataset`); search events count with their weight but add no vector.

Example:
    >>> from shelfwise.data.synthetic import make_shop
    >>> shop = make_shop(n_users=5, n_items=30, n_events=100, seed=1)
    >>> up = ProfileUpdater(ItemCatalog.from_items(shop.dataset.items))
    >>> states = build_states(shop.dataset.events, up)
    >>> len(states), states["u0"].n_events == replay_states(shop.dataset.events, up)["u0"].n_events
    (5, True)
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from tqdm.auto import tqdm

from shelfwise.data.schema import Dataset
from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.reviews import ReviewSignal, ReviewStats, analyse_review
from shelfwise.profiles.state import FUNNEL_STAGE, RATING_TYPES, ProfileEvent, ProfileUpdater, UserState

__all__ = ["DecodedEvents", "build_states", "decode_events", "replay_states", "review_signals_from_dataset"]

log = logging.getLogger(__name__)
_DAY = 86_400.0


def seconds(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Unix seconds (float64) of a timestamp column (Arrow timestamp or numeric seconds)."""
    if pa.types.is_timestamp(col.type):
        us = col.cast(pa.timestamp("us", tz=col.type.tz or "UTC")).cast(pa.int64())
        return us.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class DecodedEvents:
    """Events in dense form, sorted by (user, timestamp, seq).

    Attributes:
        user_ids: external id per user code; ``user``: int64 user code per event.
        item / type / ts / value / session / event_id: per event (value NaN and session None if absent).
        starts: first row of each user (``len(user_ids) + 1`` entries, last = number of events).
    """

    user_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    type: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    session: np.ndarray
    event_id: np.ndarray | None
    starts: np.ndarray


def decode_events(events: pa.Table, catalog: ItemCatalog, until: float | None = None) -> DecodedEvents:
    """Sort and encode an events table (canonical columns; ``seq`` / ``value`` / ``session_id`` optional).

    Args:
        events: the events.
        catalog: maps item ids to catalogue indices (unknown -> -1).
        until: keep only events with ``timestamp < until`` (Unix seconds).
    """
    cols = set(events.column_names)
    ts = seconds(events.column("timestamp"))
    keep = np.ones(ts.size, dtype=bool) if until is None else ts < until
    rows = np.flatnonzero(keep)
    users = np.asarray(events.column("user_id").to_pylist(), dtype=object)[rows]
    codes, user_ids = pd.factorize(users, sort=True)
    seq = events.column("seq").to_numpy().astype(np.int64)[rows] if "seq" in cols else rows
    order = np.lexsort((seq, ts[rows], codes))
    take = rows[order]

    def opt(name: str, fill: object) -> np.ndarray:
        if name not in cols:
            return np.full(take.size, fill, dtype=object if fill is None else np.float64)
        arr = events.column(name).take(pa.array(take))
        if name == "value":
            return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
        return np.asarray(arr.to_pylist(), dtype=object)

    user = codes[order].astype(np.int64)
    counts = np.bincount(user, minlength=len(user_ids))
    return DecodedEvents(
        user_ids=np.asarray(user_ids, dtype=object),
        user=user,
        item=catalog.encode(events.column("item_id").take(pa.array(take)).to_pylist()).astype(np.int64),
        type=np.asarray(events.column("type").take(pa.array(take)).to_pylist(), dtype=object),
        ts=ts[take],
        value=opt("value", np.nan),
        session=opt("session_id", None),
        event_id=opt("event_id", None) if "event_id" in cols else None,
        starts=np.concatenate([[0], np.cumsum(counts)]),
    )


def _row_dicts(
    u: np.ndarray, key: np.ndarray, val: np.ndarray, n_users: int, n_keys: int
) -> list[dict[int, float]]:
    m = sp.csr_matrix((val, (u, key)), shape=(n_users, max(n_keys, 1)), dtype=np.float64)
    m.sum_duplicates()
    ind, dat, ptr = m.indices.tolist(), m.data.tolist(), m.indptr.tolist()
    return [
        dict(zip(ind[ptr[r] : ptr[r + 1]], dat[ptr[r] : ptr[r + 1]], strict=True)) for r in range(n_users)
    ]


def _row_max(u: np.ndarray, key: np.ndarray, val: np.ndarray, n_users: int) -> list[dict[int, int]]:
    """Per user, ``key -> max(val)``."""
    out: list[dict[int, int]] = [{} for _ in range(n_users)]
    order = np.lexsort((val, key, u))
    u, key, val = u[order], key[order], val[order]
    last = np.r_[(u[1:] != u[:-1]) | (key[1:] != key[:-1]), True] if u.size else np.zeros(0, bool)
    for user, k, v in zip(u[last].tolist(), key[last].tolist(), val[last].tolist(), strict=True):
        out[user][k] = v
    return out


def build_states(
    events: pa.Table,
    updater: ProfileUpdater,
    review_signals: Mapping[str, ReviewSignal] | None = None,
    *,
    until: float | None = None,
    show_progress: bool = False,
) -> dict[str, UserState]:
    """Every user's state from an events table, computed with group sums (see the module doc).

    Args:
        events: events with canonical columns (a store's ``read_events()`` or a loader's table).
        updater: catalogue and config (the same object the online path uses).
        review_signals: ``event_id -> ReviewSignal`` for events with review text.
        until: only events before this time (Unix seconds), e.g. for a time split.
        show_progress: tqdm bar over users while the state objects are assembled.

    Returns:
        ``{user_id: UserState}``.
    """
    cfg, cat = updater.config, updater.catalog
    ev = decode_events(events, cat, until)
    n_users, n = len(ev.user_ids), ev.ts.size
    u, item, ts, value = ev.user, ev.item, ev.ts, ev.value
    first = np.zeros(n, dtype=bool)
    first[ev.starts[:-1][np.diff(ev.starts) > 0]] = True
    last_row = ev.starts[1:] - 1
    anchor = np.where(np.diff(ev.starts) > 0, ts[np.maximum(last_row, 0)], 0.0)
    dt = ts - anchor[u]
    types, tcode = (
        np.unique(ev.type.astype(str), return_inverse=True) if n else (np.array([]), np.zeros(0, int))
    )
    w = np.array([cfg.event_weight(t) for t in types], dtype=np.float64)[tcode] if n else np.zeros(0)
    is_rating = np.isin(ev.type.astype(str), list(RATING_TYPES))
    w = np.where(is_rating & np.isfinite(value) & (value < cfg.min_positive_rating), 0.0, w)
    c = w * np.exp2(dt / cfg.long_half_life_seconds)
    pos = w > 0
    known = pos & (item >= 0)
    safe_item = np.maximum(item, 0)
    # sessions and days, as the online rule: in sorted order, compare with the previous event
    prev_ts = np.r_[-np.inf, ts[:-1]]
    sess = pd.Series(ev.session)
    prev_sid = sess.groupby(u).ffill().groupby(u).shift(1)
    new_sid = (sess.notna() & (sess != prev_sid)).to_numpy()
    new_session = first | new_sid | (ts - prev_ts > cfg.session_gap_minutes * 60.0)
    day = np.floor(ts / _DAY)
    new_day = first | (day != np.r_[np.nan, day[:-1]])
    # group sums
    sessions = np.bincount(u, new_session, n_users).astype(int)
    days = np.bincount(u, new_day, n_users).astype(int)
    weight = np.bincount(u, c, n_users)
    activity = [np.bincount(u, np.exp2(dt / (h * _DAY)), n_users) for h in cfg.activity_half_lives_days]
    type_counts = _row_dicts(u, tcode, np.ones(n), n_users, len(types))
    vec_sum = None
    vec_weight: np.ndarray = np.zeros(n_users)
    if cat.vectors is not None:
        has_vec = (np.abs(cat.vectors).sum(axis=1) > 0)[safe_item] & known
        m = sp.csr_matrix(
            (c[has_vec], (u[has_vec], item[has_vec])), shape=(n_users, len(cat)), dtype=np.float32
        )
        vec_sum = np.asarray(m @ cat.vectors, dtype=np.float32)
        vec_weight = np.bincount(u[has_vec], c[has_vec], n_users)
        has_user_vec = np.bincount(u[has_vec], minlength=n_users) > 0
    icat = cat.category[safe_item]
    sel = known & (icat >= 0)
    categories = _row_dicts(u[sel], icat[sel], c[sel], n_users, len(cat.categories))
    lifetime_categories = _row_dicts(u[sel], icat[sel], w[sel], n_users, len(cat.categories))
    ibrand = cat.brand[safe_item]
    sel = known & (ibrand >= 0)
    brands = _row_dicts(u[sel], ibrand[sel], c[sel], n_users, len(cat.brands))
    lifetime_brands = _row_dicts(u[sel], ibrand[sel], w[sel], n_users, len(cat.brands))
    stage = (
        np.array([FUNNEL_STAGE.get(str(t), 0) for t in types], dtype=np.int64)[tcode]
        if n
        else np.zeros(0, int)
    )
    sel = (stage > 0) & (item >= 0)
    stages = _row_max(u[sel], item[sel], stage[sel], n_users)
    pct = cat.price_pct[safe_item].astype(np.float64)
    sel = known & np.isfinite(pct)
    bins = np.minimum((pct[sel] * cfg.price_bins / 100.0).astype(np.int64), cfg.price_bins - 1)
    hist = sp.csr_matrix((c[sel], (u[sel], bins)), shape=(n_users, cfg.price_bins)).toarray()
    lifetime_price = _row_dicts(u[sel], bins, w[sel], n_users, cfg.price_bins)
    pc_w = _row_dicts(u[sel], icat[sel] + 1, c[sel], n_users, len(cat.categories) + 1)
    pc_s = _row_dicts(u[sel], icat[sel] + 1, c[sel] * pct[sel], n_users, len(cat.categories) + 1)
    # money and ratings
    price = cat.price[safe_item]
    paid = np.where(np.isfinite(value) & (value > 0), value, np.where(item >= 0, price, np.nan))
    buy = (ev.type == "purchase") & np.isfinite(paid)
    monetary = np.bincount(u[buy], paid[buy], n_users)
    priced = np.bincount(u[buy], minlength=n_users)
    rated = is_rating & np.isfinite(value)
    rating_sum = np.bincount(u[rated], value[rated], n_users)
    rating_n = np.bincount(u[rated], minlength=n_users)
    # recent window: the last `short_events` positive item events per user
    kr = np.flatnonzero(known)
    from_end = np.zeros(kr.size, dtype=np.int64)
    if kr.size:
        ku = u[kr]
        kcount = np.bincount(ku, minlength=n_users)
        kend = np.cumsum(kcount)[ku]
        from_end = kend - np.arange(kr.size) - 1
    recent_rows = kr[from_end < cfg.short_events]
    recent_bounds = np.searchsorted(u[recent_rows], np.arange(n_users + 1))
    reviews: dict[int, ReviewStats] = {}
    if review_signals and ev.event_id is not None:
        for r in range(n):
            sig = review_signals.get(ev.event_id[r])
            if sig is not None:
                reviews.setdefault(int(u[r]), ReviewStats()).add(sig)
    last_sid = sess.groupby(u).last()
    types_l, items_l, ts_l = ev.type.tolist(), item.tolist(), ts.tolist()
    out: dict[str, UserState] = {}
    for k in tqdm(range(n_users), desc="profiles", disable=not show_progress, unit="user"):
        lo, hi = int(ev.starts[k]), int(ev.starts[k + 1])
        st = updater.new_state()
        st.n_events = hi - lo
        st.type_counts = {str(types[t]): int(v) for t, v in type_counts[k].items()}
        st.first_ts, st.last_ts, st.anchor = ts_l[lo], ts_l[hi - 1], ts_l[hi - 1]
        sid = last_sid.get(k) if k in last_sid.index else None
        st.last_session = None if sid is None or pd.isna(sid) else str(sid)
        st.last_day = int(day[hi - 1])
        st.sessions, st.active_days = int(sessions[k]), int(days[k])
        st.weight, st.vec_weight = float(weight[k]), float(vec_weight[k])
        if vec_sum is not None and has_user_vec[k]:
            st.vec_sum = vec_sum[k]  # a row view: one (n_users, d) block, no per-user copy
        st.categories, st.brands = categories[k], brands[k]
        st.lifetime_categories, st.lifetime_brands = lifetime_categories[k], lifetime_brands[k]
        st.stages = stages[k]
        st.lifetime_price = lifetime_price[k]
        st.price_hist = hist[k].tolist()
        st.price_by_cat = {key - 1: [pc_s[k][key], wsum] for key, wsum in pc_w[k].items()}
        st.activity = [float(a[k]) for a in activity]
        st.monetary, st.priced_purchases = float(monetary[k]), int(priced[k])
        st.rating_sum, st.rating_n = float(rating_sum[k]), int(rating_n[k])
        st.reviews = reviews.get(k, ReviewStats())
        rr = recent_rows[recent_bounds[k] : recent_bounds[k + 1]].tolist()
        st.recent = deque(((items_l[r], str(types_l[r]), ts_l[r]) for r in rr), maxlen=cfg.short_events)
        out[str(ev.user_ids[k])] = st
    log.info("built %d profiles from %d events", n_users, n)
    return out


def iter_events(
    ev: DecodedEvents, review_signals: Mapping[str, ReviewSignal] | None = None
) -> list[tuple[str, ProfileEvent]]:
    """``(user_id, ProfileEvent)`` pairs in store order (by time then seq across all users)."""
    order = np.lexsort((np.arange(ev.ts.size), ev.ts))
    out = []
    for r in order.tolist():
        v = ev.value[r]
        sid = ev.session[r]
        eid = ev.event_id[r] if ev.event_id is not None else None
        out.append(
            (
                str(ev.user_ids[ev.user[r]]),
                ProfileEvent(
                    item=int(ev.item[r]),
                    type=str(ev.type[r]),
                    timestamp=float(ev.ts[r]),
                    value=None if np.isnan(v) else float(v),
                    session_id=None
                    if sid is None or (isinstance(sid, float) and np.isnan(sid))
                    else str(sid),
                    review=review_signals.get(eid) if review_signals and eid is not None else None,
                ),
            )
        )
    return out


def replay_states(
    events: pa.Table,
    updater: ProfileUpdater,
    review_signals: Mapping[str, ReviewSignal] | None = None,
    *,
    until: float | None = None,
    states: dict[str, UserState] | None = None,
    show_progress: bool = False,
) -> dict[str, UserState]:
    """Apply events one by one, in time order, to (a copy-free dict of) states: the online path in bulk.

    Args:
        events: events with canonical columns.
        updater: catalogue and config.
        review_signals: ``event_id -> ReviewSignal``.
        until: only events before this time.
        states: existing states to continue (updated in place); new users get fresh states.
        show_progress: tqdm bar over events.
    """
    out = {} if states is None else states
    pairs = iter_events(decode_events(events, updater.catalog, until), review_signals)
    for user_id, event in tqdm(pairs, desc="replay", disable=not show_progress, unit="event"):
        st = out.get(user_id)
        if st is None:
            st = out[user_id] = updater.new_state()
        updater.apply(st, event)
    return out


def review_signals_from_dataset(dataset: Dataset) -> dict[str, ReviewSignal]:
    """Analyse the review text a loader keeps beside the canonical columns (``summary`` + ``text``).

    The store keeps only canonical columns, so review text is read from the loader's :class:`Dataset`;
    only the derived :class:`ReviewSignal` is kept.
    """
    ev = dataset.events
    if ev is None or "event_id" not in ev.column_names or not {"text", "summary"} & set(ev.column_names):
        return {}
    ids = ev.column("event_id").to_pylist()
    text = ev.column("text").to_pylist() if "text" in ev.column_names else [None] * len(ids)
    summ = ev.column("summary").to_pylist() if "summary" in ev.column_names else [None] * len(ids)
    out = {}
    for eid, s, t in zip(ids, summ, text, strict=True):
        joined = ". ".join(p for p in (s, t) if p)
        if joined:
            out[str(eid)] = analyse_review(joined)
    return out
