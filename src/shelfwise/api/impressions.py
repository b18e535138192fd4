"""The impression log: what the service showed, to whom, under which experiment arm.

Each recommend / search response is one impression row (``request_id``, user, time, context, the list with
scores, ``arm``). Rows are buffered and written to the store every ``api.impression_flush_seconds`` by the
service's background writer (:meth:`shelfwise.api.feedback.FeedbackLoop.flush`), so logging costs a list
append on the request path. Later interactions are joined to
impressions (:mod:`shelfwise.experiments.attribution`): directly by ``request_id`` when the client sends it
back with the event, else by user, item and time.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from shelfwise.data.schema import IMPRESSION_SCHEMA


class ImpressionLog:
    """Buffered impression writer.

    Args:
        store: where impressions go (:meth:`Store.write_impressions`).
        write_lock: a lock shared with user deletion, so a deleted user's rows are never written after it.
    """

    def __init__(
        self, store: Any, flush_seconds: float = 1.0, write_lock: threading.RLock | None = None
    ) -> None:
        self.store = store
        self.write_lock = write_lock or threading.RLock()
        self._buffer: list[dict[str, Any]] = []
        self._buffer_lock = threading.Lock()
        self.written = 0

    def log(
        self,
        request_id: str,
        user_id: str | None,
        context: dict[str, Any],
        item_ids: list[str],
        scores: list[float],
        arm: str | None = None,
    ) -> None:
        """Queue one impression (O(1))."""
        row = {
            "request_id": request_id,
            "user_id": user_id,
            "timestamp": datetime.now(UTC),
            "context": json.dumps(context, separators=(",", ":"), default=str),
            "item_ids": list(item_ids),
            "scores": [float(s) for s in scores],
            "arm": arm,
        }
        with self._buffer_lock:
            self._buffer.append(row)

    def pending(self) -> int:
        """Rows not yet written."""
        with self._buffer_lock:
            return len(self._buffer)

    def flush(self) -> int:
        """Write the buffer now; returns rows written."""
        with self.write_lock:
            with self._buffer_lock:
                rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            try:
                written = self.store.write_impressions(pa.Table.from_pylist(rows, schema=IMPRESSION_SCHEMA))
            except Exception:
                with self._buffer_lock:  # keep them for the next flush
                    self._buffer = rows + self._buffer
                raise
            self.written += written
            return written

    def forget_user(self, user_id: str) -> int:
        """Drop buffered rows of ``user_id`` (call under ``write_lock`` when deleting); returns rows dropped."""
        with self._buffer_lock:
            before = len(self._buffer)
            self._buffer = [r for r in self._buffer if r["user_id"] != user_id]
            return before - len(self._buffer)
