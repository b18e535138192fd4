"""Users' histories as candidate sources read them: time-ordered items with event weights and times.

:class:`EventLog` is the training part of a :class:`~shelfwise.encoded.data.RecommendData` as flat,
user-sorted arrays (dense int32 items, float32 event weights from
:data:`~shelfwise.data.schema.EVENT_WEIGHTS`, float64 times in seconds). It gives each source the same
view of the data and builds the :class:`TimedContext` requests the offline harness sends to a source.

:func:`weigh_history` turns one request's history into ``(unique items, weights)``: the newest
``max_history`` events, each weighted by its event weight and by recency (a half-life in events, and
optionally one in days), summed per item.

About time on order-only data (Amazon Beauty): its timestamps are synthetic order keys (``2000-01-01 +
position`` seconds within each user, see :mod:`shelfwise.data.sequences`), so differences between users'
times mean nothing and a half-life in days never decays. :meth:`EventLog.order_keys` detects such data;
sources then measure age in events (how many of the user's events came after), not in seconds.

Example:
    >>> ctx = TimedContext(history=np.array([4, 7, 4], dtype=np.int32))
    >>> items, w = weigh_history(ctx, RecencyConfig(half_life_events=1.0))
    >>> items.tolist(), w.round(2).tolist()
    [[4, 7], [1.25, 0.5]]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.data.schema import EVENT_WEIGHTS
from shelfwise.data.sequences import SYNTHETIC_EPOCH
from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import UserContext

__all__ = ["EventLog", "RecencyConfig", "TimedContext", "train_only", "weigh_history"]

DAY = 86_400.0


@dataclass(frozen=True)
class TimedContext(UserContext):
    """A :class:`~shelfwise.retrieval.base.UserContext` that also knows when each history event happened.

    Attributes:
        times: float64 seconds (Unix time) per history event, aligned with ``history``; ``None`` when
            unknown (sources then weigh recency by position only).
    """

    times: np.ndarray | None = None


class RecencyConfig(BaseModel):
    """How a history is weighted when a source scores from it.

    Attributes:
        half_life_events: an event's weight halves for every this many later events of the user
            (``None`` = no decay by position). Works on order-only data.
        half_life_days: an event's weight halves for every this many days between it and the user's
            newest event (``None`` = no decay by time; ignored when the context has no ``times``).
        event_weights: multiply by the context's per-event ``weights`` (event type) when given.
        max_history: only the newest this many events count.
    """

    model_config = ConfigDict(extra="forbid")

    half_life_events: float | None = Field(default=5.0, gt=0)
    half_life_days: float | None = Field(default=None, gt=0)
    event_weights: bool = True
    max_history: int = Field(default=50, ge=1)


def weigh_history(context: UserContext, config: RecencyConfig) -> tuple[np.ndarray, np.ndarray]:
    """The distinct history items of ``context`` and their float32 weights (see the module doc).

    Args:
        context: the request; ``history`` oldest first.
        config: recency settings.

    Returns:
        ``(items int32 (m,), weights float32 (m,))``, items in order of first appearance in the window.
    """
    items = np.asarray(context.history, dtype=np.int32)[-config.max_history :]
    n = items.size
    if n == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    w = np.ones(n, dtype=np.float64)
    if config.event_weights and context.weights is not None:
        w *= np.asarray(context.weights, dtype=np.float64)[-n:]
    if config.half_life_events is not None:
        w *= np.exp2(-np.arange(n - 1, -1, -1, dtype=np.float64) / config.half_life_events)
    times = getattr(context, "times", None)
    if config.half_life_days is not None and times is not None:
        t = np.asarray(times, dtype=np.float64)[-n:]
        w *= np.exp2(-(t.max() - t) / (config.half_life_days * DAY))
    uniq, first, inverse = np.unique(items, return_index=True, return_inverse=True)
    sums = np.bincount(inverse, weights=w, minlength=uniq.size)
    order = np.argsort(first, kind="stable")
    return uniq[order].astype(np.int32), sums[order].astype(np.float32)


def _event_weights(types: pa.ChunkedArray) -> np.ndarray:
    codes = pc.dictionary_encode(types).combine_chunks()
    table = np.array([EVENT_WEIGHTS.get(str(v), 1.0) for v in codes.dictionary.to_pylist()], dtype=np.float32)
    idx = codes.indices.to_numpy(zero_copy_only=False)
    return table[idx] if table.size else np.zeros(0, dtype=np.float32)


def _seconds(col: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        micros = col.cast(pa.timestamp("us", tz=col.type.tz or "UTC")).cast(pa.int64())
        return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class EventLog:
    """The events a source learns from, sorted by (user, time).

    Attributes:
        users: int32 user index per event.
        items: int32 item index per event (events of items outside the ranked catalogue are dropped).
        weights: float32 event weight (event type, :data:`~shelfwise.data.schema.EVENT_WEIGHTS`).
        times: float64 seconds per event.
        bounds: int64 ``(n_users + 1,)``: user ``u``'s events are ``bounds[u]:bounds[u + 1]``.
        n_items: width of the catalogue.
        session_gap_seconds: a pause longer than this starts a new session (for the contexts' ``session``).
    """

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    times: np.ndarray
    bounds: np.ndarray
    n_items: int
    session_gap_seconds: float = 1800.0

    @classmethod
    def from_data(cls, data: RecommendData) -> EventLog:
        """The train + valid events of ``data`` (what :meth:`CandidateSource.fit` learns from)."""
        split = data.split
        rows = np.sort(np.concatenate([split.train, split.valid])).astype(np.int64)
        table = split.table
        users = data.ranking.users.encode(table.column("user_id").take(rows).to_pylist())
        items = data.ranking.items.encode(table.column("item_id").take(rows).to_pylist(), unknown=-1)
        weights = _event_weights(table.column("type").take(rows))
        times = _seconds(table.column("timestamp").take(rows))
        order = np.lexsort((rows, users))  # rows are in (timestamp, seq) order
        keep = order[items[order] >= 0]
        users, items = users[keep].astype(np.int32), items[keep].astype(np.int32)
        bounds = np.searchsorted(users, np.arange(data.n_users + 1)).astype(np.int64)
        return cls(users, items, weights[keep], times[keep], bounds, data.n_items)

    @property
    def n_users(self) -> int:
        """Users (rows of ``bounds`` minus one)."""
        return int(self.bounds.size - 1)

    def order_keys(self) -> bool:
        """True when the timestamps are synthetic order keys (every user starts at 2000-01-01T00:00:00Z)."""
        return self._order_keys

    @cached_property
    def _order_keys(self) -> bool:
        starts = self.bounds[:-1][np.diff(self.bounds) > 0]
        return bool(starts.size) and bool(np.all(self.times[starts] == float(SYNTHETIC_EPOCH)))

    def events_after(self) -> np.ndarray:
        """int64 per event: how many later events its user has (0 = the user's newest event)."""
        ends = np.repeat(self.bounds[1:], np.diff(self.bounds))
        return ends - 1 - np.arange(self.items.size, dtype=np.int64)

    def context(self, user: int) -> TimedContext:
        """The request the harness sends for ``user`` right after their last event.

        ``history`` is everything, oldest first; ``session`` the trailing events with no pause longer than
        ``session_gap_seconds`` (empty on order-key data, which has no pauses to see).
        """
        lo, hi = int(self.bounds[user]), int(self.bounds[user + 1])
        session = np.zeros(0, dtype=np.int32)
        if hi > lo and not self.order_keys():
            gaps = np.flatnonzero(np.diff(self.times[lo:hi]) > self.session_gap_seconds)
            start = lo + (int(gaps[-1]) + 1 if gaps.size else 0)
            session = self.items[start:hi]
        return TimedContext(
            user_index=int(user),
            history=self.items[lo:hi],
            weights=self.weights[lo:hi],
            session=session,
            times=self.times[lo:hi],
        )

    def contexts(self, users: np.ndarray) -> list[TimedContext]:
        """:meth:`context` for each user index."""
        return [self.context(int(u)) for u in np.asarray(users).ravel()]


def train_only(data: RecommendData) -> RecommendData:
    """A view of ``data`` whose ``train_valid`` part is its ``train`` part (for fitting on validation).

    Sources always learn from ``train_valid``; the validation protocol fits on ``train`` only, so it hands
    them this view.
    """
    split = dataclasses.replace(data.split, valid=np.zeros(0, dtype=np.int64))
    ranking = dataclasses.replace(data.ranking, train_valid=data.ranking.train)
    return RecommendData(split, ranking, data.items, data.meta)
