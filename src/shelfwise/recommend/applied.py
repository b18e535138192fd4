"""Which stored events a live component already holds: a ``seq`` cursor plus recent event ids above it.

:class:`AppliedEvents` makes ``observe`` idempotent: an event already applied (by ``seq``, up to the
contiguous cursor reached by catch-up, or by ``event_id`` above it) is skipped, so a follower may hand the
recommender an event the same process already applied on write.

Example:
    >>> seen = AppliedEvents(cursor=10)
    >>> seen.is_applied({"event_id": "e1", "seq": 9}), seen.is_applied({"event_id": "e2", "seq": 11})
    (True, False)
    >>> seen.mark({"event_id": "e2", "seq": 11}); seen.is_applied({"event_id": "e2", "seq": 11})
    True

Kept free of heavy imports: the search pipeline and profiles use it too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = ["AppliedEvents"]


class AppliedEvents:
    """Which stored events are already reflected: everything up to ``cursor`` plus recent ids above it.

    Args:
        cursor: the newest ``seq`` known to be applied (``None``: unknown, only ids are used).
        limit: event ids remembered above the cursor (oldest forgotten first).
    """

    def __init__(self, cursor: int | None, limit: int = 200_000) -> None:
        self.cursor = cursor
        self.limit = limit
        self._ids: OrderedDict[str, int | None] = OrderedDict()

    @staticmethod
    def _key(event: Mapping[str, Any]) -> tuple[str | None, int | None]:
        eid, seq = event.get("event_id"), event.get("seq")
        return (None if eid is None else str(eid)), (None if seq is None else int(seq))

    def is_applied(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` (a row with ``event_id`` and/or ``seq``) is already applied."""
        eid, seq = self._key(event)
        if seq is not None and self.cursor is not None and seq <= self.cursor:
            return True
        return eid is not None and eid in self._ids

    def mark(self, event: Mapping[str, Any]) -> None:
        """Record ``event`` as applied (events with neither id nor seq cannot be recognised later)."""
        eid, seq = self._key(event)
        if eid is None:
            return
        self._ids[eid] = seq
        self._ids.move_to_end(eid)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)

    def advance(self, seq: int) -> None:
        """Every stored event up to ``seq`` is applied: move the cursor and drop the ids it covers."""
        if self.cursor is not None and seq <= self.cursor:
            return
        self.cursor = int(seq)
        stale = [e for e, s in self._ids.items() if s is not None and s <= seq]
        for e in stale:
            del self._ids[e]
