"""Events in the dense form the feature state consumes: int32 users and items, int8 types, float64 seconds.

External ids are encoded with the :class:`~shelfwise.encoded.interactions.IdIndex` of the data the models
were fitted on; events of unknown users or items, and events without an item (a bare search), are dropped.

Example:
    >>> import pyarrow as pa
    >>> from shelfwise.encoded.interactions import IdIndex
    >>> t = pa.table({"user_id": ["u", "u"], "item_id": ["a", "b"], "type": ["view", "purchase"],
    ...               "timestamp": [10, 20]})
    >>> b = EventBatch.from_table(t, IdIndex.from_values(["u"]), IdIndex.from_values(["a", "b"]))
    >>> b.items.tolist(), [TYPES[k] for k in b.types], b.times.tolist()
    ([0, 1], ['view', 'purchase'], [10.0, 20.0])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shelfwise.data.schema import EventType
from shelfwise.encoded.interactions import IdIndex

__all__ = ["TYPES", "TYPE_INDEX", "EventBatch", "StateEvent", "seconds"]

#: Event types in the column order of every per-type count.
TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
TYPE_INDEX: dict[str, int] = {t: i for i, t in enumerate(TYPES)}
#: Types that say "the shopper looked at it" (the click of click-through).
ENGAGE_TYPES: tuple[str, ...] = ("view", "click")
#: Types whose ``value`` is a star rating.
RATING_TYPES: tuple[str, ...] = ("rating", "review")


def seconds(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """float64 Unix seconds of a timestamp column (numeric columns are taken as seconds already)."""
    if pa.types.is_timestamp(column.type):
        micros = column.cast(pa.timestamp("us", tz=column.type.tz or "UTC")).cast(pa.int64())
        return micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    return column.to_numpy(zero_copy_only=False).astype(np.float64)


@dataclass(frozen=True, slots=True)
class StateEvent:
    """One event as the feature state sees it (dense indices, canonical type, Unix seconds)."""

    user: int
    item: int
    type: str
    timestamp: float
    value: float | None = None


@dataclass(frozen=True, eq=False)
class EventBatch:
    """Many events in time order.

    Attributes:
        users: int32 user indices.
        items: int32 item indices.
        types: int8 indices into :data:`TYPES`.
        times: float64 Unix seconds (non-decreasing).
        values: float32 event values (ratings, prices paid), NaN when absent.
    """

    users: np.ndarray
    items: np.ndarray
    types: np.ndarray
    times: np.ndarray
    values: np.ndarray

    @classmethod
    def from_table(
        cls, table: pa.Table, users: IdIndex, items: IdIndex, rows: np.ndarray | None = None
    ) -> EventBatch:
        """Encode an events table (``user_id``, ``item_id``, ``type``, ``timestamp``, optional ``value``).

        Args:
            table: events; ties of equal timestamps keep the table's row order (``seq`` order in a store).
            users: the user index of the fitted models.
            items: the item index of the fitted models.
            rows: the rows to take (e.g. ``split.train``), default all.
        """
        t = table if rows is None else table.take(pa.array(np.asarray(rows, dtype=np.int64)))
        u = users.encode(t.column("user_id").to_pylist(), unknown=-1)
        i = items.encode(t.column("item_id").to_pylist(), unknown=-1)
        ty = np.fromiter(
            (TYPE_INDEX.get(str(x), -1) for x in t.column("type").to_pylist()), np.int8, t.num_rows
        )
        ts = seconds(t.column("timestamp"))
        if "value" in t.column_names:
            val = np.asarray([np.nan if v is None else v for v in t.column("value").to_pylist()], np.float32)
        else:
            val = np.full(t.num_rows, np.nan, dtype=np.float32)
        keep = (u >= 0) & (i >= 0) & (ty >= 0)
        order = np.argsort(ts[keep], kind="stable")
        return cls(u[keep][order], i[keep][order], ty[keep][order], ts[keep][order], val[keep][order])

    @classmethod
    def from_events(cls, events: list[StateEvent]) -> EventBatch:
        """A batch from single events (sorted by time, stable)."""
        order = np.argsort(np.asarray([e.timestamp for e in events], dtype=np.float64), kind="stable")
        ev = [events[k] for k in order]
        return cls(
            np.asarray([e.user for e in ev], dtype=np.int32),
            np.asarray([e.item for e in ev], dtype=np.int32),
            np.asarray([TYPE_INDEX[e.type] for e in ev], dtype=np.int8),
            np.asarray([e.timestamp for e in ev], dtype=np.float64),
            np.asarray([np.nan if e.value is None else e.value for e in ev], dtype=np.float32),
        )

    def __len__(self) -> int:
        return int(self.users.size)

    def take(self, mask: np.ndarray) -> EventBatch:
        """The events where ``mask`` is true (a boolean array or row indices), order kept."""
        return EventBatch(
            self.users[mask], self.items[mask], self.types[mask], self.times[mask], self.values[mask]
        )

    def before(self, t: float) -> EventBatch:
        """Events strictly before ``t`` (Unix seconds)."""
        return self.take(self.times < t)

    def between(self, start: float, stop: float) -> EventBatch:
        """Events in ``[start, stop)``."""
        return self.take((self.times >= start) & (self.times < stop))

    def of_type(self, *names: str) -> EventBatch:
        """Events of the given types."""
        return self.take(np.isin(self.types, [TYPE_INDEX[n] for n in names]))

    def __iter__(self) -> Iterator[StateEvent]:
        for k in range(len(self)):
            v = float(self.values[k])
            yield StateEvent(
                int(self.users[k]),
                int(self.items[k]),
                TYPES[int(self.types[k])],
                float(self.times[k]),
                None if np.isnan(v) else v,
            )
