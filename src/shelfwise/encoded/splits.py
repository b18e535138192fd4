"""Split strategies as objects: each turns a table into a frozen :class:`Split` of train / valid / test rows.

Events tables have the canonical columns (``user_id``, ``item_id``, ``type``, ``timestamp``, optional
``seq`` and ``event_id``); time order is ``(timestamp, seq)``, with the row order standing in for a
missing ``seq``. Judgement tables have ``query``. Tables may be pyarrow or pandas; parts are returned
as row-index arrays into the (pyarrow) table, with the tables one property away.

Every splitter calls :meth:`Split.check_disjoint` before returning, which raises :class:`LeakageError`
when two parts share an event (same ``event_id``, or the same row without one) or, for a by-query
split, a query.

Example:
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"user_id": ["a"] * 4, "item_id": list("wxyz"), "type": "view",
    ...                    "timestamp": [1, 2, 3, 4]})
    >>> s = LeaveOneOut().split(ev)
    >>> s.train.tolist(), s.valid.tolist(), s.test.tolist()
    ([0, 1], [2], [3])
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["ByQuery", "GivenSplit", "LeakageError", "LeaveOneOut", "Split", "TemporalSplit"]

log = logging.getLogger(__name__)

_PARTS = ("train", "valid", "test")


class LeakageError(ValueError):
    """Two parts of a split share an event (or, for a by-query split, a query)."""


@dataclass(frozen=True, eq=False)
class Split:
    """Train / valid / test parts of one table.

    Attributes:
        name: how it was made, e.g. ``"leave_one_out"`` or ``"by_query[fold=1/5,seed=0]"``.
        table: the split table (pyarrow).
        train: int64 row indices of the training part (likewise ``valid``, ``test``; may be empty).
        key: what must never be shared by two parts: ``"event"`` (the ``event_id``, or the row when the
            table has none) or ``"query"``.
        meta: facts about how the split was made (e.g. users left out of evaluation).
    """

    name: str
    table: pa.Table
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    key: Literal["event", "query"] = "event"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def train_table(self) -> pa.Table:
        """Rows of the training part."""
        return self.table.take(self.train)

    @property
    def valid_table(self) -> pa.Table:
        """Rows of the validation part."""
        return self.table.take(self.valid)

    @property
    def test_table(self) -> pa.Table:
        """Rows of the test part."""
        return self.table.take(self.test)

    def sizes(self) -> dict[str, int]:
        """Number of rows per part."""
        return {p: int(getattr(self, p).size) for p in _PARTS}

    def _keys(self, rows: np.ndarray) -> np.ndarray:
        if self.key == "query":
            return np.asarray(self.table.column("query").take(rows).to_pylist(), dtype=object)
        if "event_id" in self.table.column_names:
            return np.asarray(self.table.column("event_id").take(rows).to_pylist(), dtype=object)
        return rows

    def check_disjoint(self) -> None:
        """Raise :class:`LeakageError` if any two parts share an event (or a query for ``key="query"``)."""
        keys = {p: self._keys(getattr(self, p)) for p in _PARTS}
        for a, b in (("train", "test"), ("train", "valid"), ("valid", "test")):
            shared = np.intersect1d(keys[a].astype(str), keys[b].astype(str))
            if shared.size:
                what = "queries" if self.key == "query" else "events"
                raise LeakageError(
                    f"split {self.name!r}: {a} and {b} share {shared.size} {what}, e.g. {shared[:3].tolist()}"
                )


def _to_arrow(table: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False)
    return table


def _time_values(col: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 microseconds (UTC) for timestamp columns, float64 otherwise."""
    if pa.types.is_timestamp(col.type):
        tz = col.type.tz or "UTC"
        return col.cast(pa.timestamp("us", tz=tz)).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def _time_order(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """``(timestamps, seq)`` arrays; ``seq`` is the row number when the table has no such column."""
    ts = _time_values(table.column("timestamp"))
    if "seq" in table.column_names:
        seq = table.column("seq").to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        seq = np.arange(table.num_rows, dtype=np.int64)
    return ts, seq


@dataclass(frozen=True)
class LeaveOneOut:
    """Per user, in ``(timestamp, seq)`` order: last event = test, second-to-last = valid, the rest = train.

    Users with fewer than ``min_events`` (default 3) events cannot give a train, a valid and a test event;
    ``short_users="train"`` (default) puts all their events in train, where they help fitting but are
    never evaluated, so valid and test cover the same users; ``"drop"`` leaves them out of every part.
    Rows must have an ``item_id``: filter the table to the event types that count (e.g. purchases) first.
    """

    min_events: int = 3
    short_users: Literal["train", "drop"] = "train"

    def split(self, events: pa.Table | pd.DataFrame) -> Split:
        """Split ``events`` (see the class docstring)."""
        if self.min_events < 3:
            raise ValueError("min_events must be >= 3 (one train, one valid and one test event)")
        table = _to_arrow(events)
        if table.column("item_id").null_count:
            raise ValueError("leave-one-out needs an item on every event; filter out rows without item_id")
        users, _ = pd.factorize(np.asarray(table.column("user_id").to_pylist(), dtype=object))
        ts, seq = _time_order(table)
        order = np.lexsort((seq, ts, users))
        counts = np.bincount(users)
        sorted_users = users[order]
        ends = np.cumsum(counts)[sorted_users]  # one past the user's last sorted position
        from_end = ends - np.arange(order.size)  # 1 = last event of the user
        long_user = counts[sorted_users] >= self.min_events
        test = np.sort(order[long_user & (from_end == 1)])
        valid = np.sort(order[long_user & (from_end == 2)])
        train_mask = long_user & (from_end > 2)
        if self.short_users == "train":
            train_mask |= ~long_user
        n_short = int((counts < self.min_events).sum())
        if n_short:
            log.info(
                "leave-one-out: %d users with < %d events -> %s", n_short, self.min_events, self.short_users
            )
        split = Split(
            name="leave_one_out",
            table=table,
            train=np.sort(order[train_mask]),
            valid=valid,
            test=test,
            meta={
                "short_users": n_short,
                "short_users_policy": self.short_users,
                "min_events": self.min_events,
            },
        )
        split.check_disjoint()
        return split


def _cut_value(cut: Any, col: pa.ChunkedArray) -> float:
    """A cut time in the unit of :func:`_time_values` for this column."""
    if pa.types.is_timestamp(col.type):
        if isinstance(cut, int | float | np.integer | np.floating):
            raise TypeError("the timestamp column is a datetime: give the cut as a datetime or ISO string")
        ts = pd.Timestamp(cut)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return float(ts.value // 1000)
    if isinstance(cut, str | dt.datetime | pd.Timestamp):  # numeric columns hold Unix seconds
        ts = pd.Timestamp(cut)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.value / 1e9
    return float(cut)


@dataclass(frozen=True)
class TemporalSplit:
    """A global time cut: ``timestamp < cut_time`` -> train, ``>= cut_time`` -> test.

    With ``valid_cut_time`` (earlier than ``cut_time``): train ``< valid_cut_time <=`` valid ``< cut_time <=``
    test. Cuts are datetimes / ISO strings (naive = UTC) or, for a numeric timestamp column (Unix seconds),
    numbers too. Test users absent from train are kept (cold users); drop them
    downstream if the model cannot score them.
    """

    cut_time: Any
    valid_cut_time: Any = None

    def split(self, events: pa.Table | pd.DataFrame) -> Split:
        """Split ``events`` at the cut times."""
        table = _to_arrow(events)
        col = table.column("timestamp")
        ts = _time_values(col)
        cut = _cut_value(self.cut_time, col)
        vcut = cut if self.valid_cut_time is None else _cut_value(self.valid_cut_time, col)
        if vcut > cut:
            raise ValueError("valid_cut_time must not be later than cut_time")
        rows = np.arange(table.num_rows, dtype=np.int64)
        split = Split(
            name=f"temporal[cut={self.cut_time}, valid_cut={self.valid_cut_time}]",
            table=table,
            train=rows[ts < vcut],
            valid=rows[(ts >= vcut) & (ts < cut)],
            test=rows[ts >= cut],
        )
        split.check_disjoint()
        return split


@dataclass(frozen=True)
class ByQuery:
    """K-fold over distinct queries of a judgement table: every query is in exactly one test fold.

    Distinct queries are shuffled with ``seed`` and dealt round-robin into ``folds`` folds, so fold sizes
    differ by at most one query. With ``valid_fold=True`` the next fold's queries form the validation part
    (for tuning without touching the test queries); otherwise valid is empty.
    """

    folds: int = 5
    seed: int = 0
    valid_fold: bool = False

    def fold_of_query(self, judgements: pa.Table | pd.DataFrame) -> dict[str, int]:
        """``{query: fold}`` for every distinct query."""
        table = _to_arrow(judgements)
        queries = sorted({str(q) for q in table.column("query").to_pylist()})
        perm = np.random.default_rng(self.seed).permutation(len(queries))
        return {queries[p]: i % self.folds for i, p in enumerate(perm)}

    def split(self, judgements: pa.Table | pd.DataFrame, fold: int = 0) -> Split:
        """The split whose test part is fold ``fold`` (0-based)."""
        if self.folds < 2 or (self.valid_fold and self.folds < 3):
            raise ValueError("need at least 2 folds (3 with valid_fold)")
        if not 0 <= fold < self.folds:
            raise ValueError(f"fold must be in [0, {self.folds})")
        table = _to_arrow(judgements)
        mapping = self.fold_of_query(table)
        row_fold = np.array([mapping[str(q)] for q in table.column("query").to_pylist()], dtype=np.int64)
        rows = np.arange(table.num_rows, dtype=np.int64)
        vfold = (fold + 1) % self.folds if self.valid_fold else -1
        split = Split(
            name=f"by_query[fold={fold}/{self.folds},seed={self.seed}]",
            table=table,
            train=rows[(row_fold != fold) & (row_fold != vfold)],
            valid=rows[row_fold == vfold],
            test=rows[row_fold == fold],
            key="query",
            meta={"fold": fold, "folds": self.folds, "seed": self.seed},
        )
        split.check_disjoint()
        return split

    def all_folds(self, judgements: pa.Table | pd.DataFrame) -> list[Split]:
        """One split per fold."""
        return [self.split(judgements, f) for f in range(self.folds)]


@dataclass(frozen=True, eq=False)
class GivenSplit:
    """A split shipped with the data: a table of ``(event_id, part)``, part in train / valid / test.

    Events without an assignment are in no part (counted in ``meta["unassigned"]``); assignments naming
    unknown events are ignored (counted in ``meta["unknown_event_ids"]``). An event assigned to two parts
    makes :meth:`split` raise :class:`LeakageError`.
    """

    assignments: pa.Table | pd.DataFrame
    name: str = "given"

    def split(self, events: pa.Table | pd.DataFrame) -> Split:
        """Assign each event row to its given part."""
        table = _to_arrow(events)
        given = _to_arrow(self.assignments).select(["event_id", "part"]).to_pandas()
        bad = set(given["part"].unique()) - set(_PARTS)
        if bad:
            raise ValueError(f"unknown parts {sorted(bad)}; expected train, valid or test")
        ev = pd.DataFrame(
            {"event_id": table.column("event_id").to_pylist(), "row": np.arange(table.num_rows)}
        )
        joined = ev.merge(given, on="event_id", how="inner")
        parts = {p: np.sort(joined.loc[joined["part"] == p, "row"].to_numpy(np.int64)) for p in _PARTS}
        meta = {
            "unassigned": int(table.num_rows - joined["row"].nunique()),
            "unknown_event_ids": int((~given["event_id"].isin(ev["event_id"])).sum()),
        }
        if meta["unassigned"] or meta["unknown_event_ids"]:
            log.warning("given split %r: %s", self.name, meta)
        split = Split(self.name, table, parts["train"], parts["valid"], parts["test"], meta=meta)
        split.check_disjoint()
        return split
