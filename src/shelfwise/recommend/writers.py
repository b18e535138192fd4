"""The recommender's writers: events, catalogue changes, catch-up with the store, forgetting a shopper.

:class:`LiveWriter` is mixed into :class:`~shelfwise.recommend.recommender.Recommender`. Every method here
runs under the writer lock and publishes a new :class:`~shelfwise.recommend.live.LiveState` snapshot with
one assignment (copy-on-write), so requests, which read one snapshot and take no lock, never see half of
a change. The ranker's feature state is the one structure changed in place (by writers only).
"""

from __future__ import annotations

import logging
import numbers
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.ranking.events import TYPE_INDEX, StateEvent
from shelfwise.recommend.applied import AppliedEvents
from shelfwise.recommend.artifact import ARTIFACT_NAME
from shelfwise.recommend.forget import (
    digest_function,
    forget_in_artifacts,
    record_deletion_cursor,
    stored_user_ids,
)
from shelfwise.recommend.live import LiveState
from shelfwise.recommend.sources import load_source
from shelfwise.storage import ArtifactStore, Store

if TYPE_CHECKING:
    from shelfwise.config import Settings
    from shelfwise.recommend.pipeline import ShelfwisePipeline
    from shelfwise.retrieval.base import CandidateSource

__all__ = ["LiveWriter"]

log = logging.getLogger(__name__)

_EMPTY = np.zeros(0, dtype=np.int32)
ITEM_COLUMNS = ["item_id", "title", "category", "brand", "price", "available"]
_EVENT_COLUMNS = ["event_id", "user_id", "item_id", "type", "value", "timestamp", "seq"]


def _seconds(value: Any) -> float:
    """Unix seconds of a timestamp given as a number, a string or a datetime."""
    if value is None:
        return float(pd.Timestamp.now(tz="UTC").timestamp())
    if isinstance(value, numbers.Real):
        return float(value)
    ts = pd.Timestamp(value)
    return float((ts if ts.tzinfo else ts.tz_localize("UTC")).timestamp())


class LiveWriter:
    """Writer methods of the recommender (see the module doc); the state is set up by its ``__init__``."""

    settings: Settings
    pipeline: ShelfwisePipeline
    version: int
    artifacts: ArtifactStore | None
    live: LiveState
    _applied: AppliedEvents
    _events_after: float | None
    _catalogue_seq: int
    _deletion_seq: int
    _write_lock: threading.RLock
    _catch_up_lock: threading.Lock
    _fallback: CandidateSource
    #: consent (privacy/consent.py): whether a shopper's live events may feed the shared item statistics
    #: (training consent); None = everyone. Their history is kept either way (that is personalisation).
    trainable: Callable[[str], bool] | None = None

    def observe(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Add events to the shoppers' histories and the ranker's state; the next request sees them.

        Each event is a row like the store's events table: ``user_id``, ``item_id``, ``type`` (or
        ``event_type``), ``timestamp`` (Unix seconds, ISO text or datetime; default now), ``value``, and
        ideally ``event_id`` and ``seq``: an event already applied (same id, or ``seq`` at or below the
        caught-up cursor) is skipped, so applying on write and again from the store's feed counts once.
        Events of unknown items or without an item are skipped.

        Returns:
            How many events were applied.
        """
        rows = sorted(events, key=lambda e: _seconds(e.get("timestamp")))
        with self._write_lock:
            return self._observe(rows)

    def _observe(self, rows: list[Mapping[str, Any]]) -> int:
        live = self.live
        state = self.pipeline.ranker.state
        users: dict[str, int] | None = None
        histories: list[np.ndarray] = live.histories
        purchases: dict[int, frozenset[int]] = dict(live.purchases)
        added: dict[int, list[int]] = {}
        for e in rows:
            if self._applied.is_applied(e):
                continue
            item = live.catalog.index.get(str(e.get("item_id")))
            kind = str(e.get("type") or e.get("event_type") or "view")
            if item is None or e.get("user_id") is None or kind not in TYPE_INDEX:
                continue
            uid = str(e["user_id"])
            user = (users if users is not None else live.users).get(uid)
            if user is None:
                if users is None:  # copy-on-write: the published snapshot is never changed
                    users, histories = dict(live.users), list(live.histories)
                user = len(histories)
                histories.append(_EMPTY)
                users[uid] = user
            added.setdefault(user, []).append(int(item))
            t = _seconds(e.get("timestamp"))
            value = e.get("value")
            counted = self.trainable is None or self.trainable(uid)
            if state is not None and item < live.catalog.n_trained and counted:
                state.update(StateEvent(user, item, kind, t, None if value is None else float(value)))
            elif kind == "purchase":
                purchases[user] = purchases.get(user, frozenset()) | {int(item)}
            self._applied.mark(e)
        if not added:
            return 0
        if histories is live.histories:
            histories = list(histories)
        for user, items in added.items():
            histories[user] = np.concatenate([histories[user], np.asarray(items, dtype=np.int32)])
        self.live = LiveState(users if users is not None else live.users, histories, purchases, live.catalog)
        return sum(len(v) for v in added.values())

    def upsert_items(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add or change catalogue items (new ones are served at once; price and stock changes apply)."""
        changes = [dict(r) for r in rows]
        with self._write_lock:
            live = self.live
            catalog = live.catalog.copy()
            touched = catalog.upsert(changes)
            state = self.pipeline.ranker.state
            if state is not None:
                catalog.apply_to(state.attributes)
            self.live = LiveState(live.users, live.histories, live.purchases, catalog)
            return len(touched)

    def delete_items(self, ids: Iterable[str]) -> int:
        """Remove items from the catalogue (never served again)."""
        with self._write_lock:
            live = self.live
            catalog = live.catalog.copy()
            gone = catalog.delete(ids)
            self.live = LiveState(live.users, live.histories, live.purchases, catalog)
            return len(gone)

    def catch_up(self, store: Store) -> dict[str, int]:
        """Bring the live state up to date with ``store`` since the artifact (or the last catch-up).

        Catalogue changes after the catalogue cursor are read back and upserted (an id no longer in the
        store is deleted); stored events after the event cursor are replayed through :meth:`observe`
        (idempotent); shoppers in the deletion log after the deletion cursor are forgotten
        (:meth:`forget_user`, artifacts included). Safe to call repeatedly (e.g. by a follower).

        Returns:
            ``{"event_seq", "catalogue_seq", "events_applied", "items_applied", "deletion_seq",
            "users_forgotten"}``: the cursors reached and what changed.
        """
        with self._catch_up_lock:
            items_applied = self._catch_up_catalogue(store)
            events_applied, event_seq = self._catch_up_events(store)
            forgotten = self._catch_up_deletions(store)
            return {
                "event_seq": event_seq,
                "catalogue_seq": self._catalogue_seq,
                "events_applied": events_applied,
                "items_applied": items_applied,
                "deletion_seq": self._deletion_seq,
                "users_forgotten": forgotten,
            }

    def _catch_up_catalogue(self, store: Store) -> int:
        changes = store.read_catalogue_changes(self._catalogue_seq)
        if not changes.num_rows:
            return 0
        ids = list(dict.fromkeys(str(i) for i in changes.column("item_id").to_pylist()))
        rows = store.read_items(ITEM_COLUMNS, item_ids=ids).to_pylist()
        present = {str(r["item_id"]) for r in rows}
        n = self.upsert_items(rows) if rows else 0
        gone = [i for i in ids if i not in present]
        if gone:
            n += self.delete_items(gone)
        self._catalogue_seq = int(max(changes.column("seq").to_pylist()))
        return n

    def _catch_up_events(self, store: Store) -> tuple[int, int]:
        cursor = self._applied.cursor
        table = store.read_events(_EVENT_COLUMNS, after_seq=cursor if cursor is not None else None)
        if cursor is None and self._events_after is not None and table.num_rows:
            after = pd.Timestamp(self._events_after, unit="s", tz="UTC")
            table = table.filter(
                pc.greater(table.column("timestamp"), pa.scalar(after, table.schema.field("timestamp").type))
            )
        applied = self.observe(table.to_pylist()) if table.num_rows else 0
        seqs = table.column("seq").to_pylist() if table.num_rows else []
        with self._write_lock:
            if seqs:
                self._applied.advance(int(max(seqs)))
            elif self._applied.cursor is None:
                self._applied.advance(int(store.max_event_seq()))
            self._events_after = None
        return applied, int(self._applied.cursor or 0)

    def _catch_up_deletions(self, store: Store) -> int:
        log_rows = store.read_deletions(self._deletion_seq)
        if not log_rows.num_rows:
            return 0
        wanted = set(log_rows.column("user_digest").to_pylist())
        newest = int(max(log_rows.column("seq").to_pylist()))
        known = list(self.live.users)
        if self.artifacts is not None:
            known += [u for u in stored_user_ids(self.artifacts) if u not in self.live.users]
        forgotten = 0
        digest = digest_function(store)
        for uid in known:
            if digest(uid) in wanted:
                self.forget_user(uid, deletion_seq=newest)
                forgotten += 1
        self._deletion_seq = newest
        if self.artifacts is not None:
            record_deletion_cursor(self.artifacts, newest)
        return forgotten

    def forget_user(self, user_key: str, *, deletion_seq: int | None = None) -> dict[str, Any]:
        """Forget a shopper everywhere this recommender holds them: the live state (history, purchases,
        per-user feature rows) and every version of the recommender artifact on disk (see
        :func:`~shelfwise.recommend.forget.forget_in_artifacts`); sources changed on disk are reloaded.

        Args:
            user_key: the shopper's (pseudonymous) user id.
            deletion_seq: the deletion log entry this answers (recorded in the manifests).

        Returns:
            ``{"user_found": bool, "live": {...}, "artifacts": [per version: files changed, models
            updated, needs_retrain and reasons]}`` (no user id in it): part of the deletion receipt.
        """
        with self._write_lock:
            live = self.live
            user = live.users.get(user_key)
            report: dict[str, Any] = {"user_found": user is not None, "live": {}}
            if user is not None:
                users = {u: k for u, k in live.users.items() if u != user_key}
                histories = list(live.histories)
                report["live"]["history_items"] = int(histories[user].size)
                histories[user] = _EMPTY
                purchases = {u: p for u, p in live.purchases.items() if u != user}
                state = self.pipeline.ranker.state
                if state is not None:
                    _forget_state(state, user)
                    report["live"]["feature_state"] = "per-user rows cleared"
                self.live = LiveState(users, histories, purchases, live.catalog)
            related = getattr(self, "related", None)  # the product page's co-purchase counts
            if related is not None:
                self.related = related.without_user(user_key)
            report["artifacts"] = []
            if self.artifacts is not None:
                report["artifacts"] = forget_in_artifacts(self.artifacts, user_key, deletion_seq)
                self._reload_sources(report["artifacts"])
            report["user_found"] = report["user_found"] or any(a["user_found"] for a in report["artifacts"])
            return report

    def _reload_sources(self, changes: list[dict[str, Any]]) -> None:
        """Swap in the sources rewritten on disk for the loaded version (each swap is one assignment)."""
        mine = next((c for c in changes if c["version"] == self.version and c["user_found"]), None)
        if mine is None or self.artifacts is None:
            return
        folder = self.artifacts.get(ARTIFACT_NAME, self.version).path
        for k, source in enumerate(self.pipeline.sources):
            if source.name in mine["sources_updated"]:
                fresh = load_source(folder / "sources" / source.name, self.settings)
                self.pipeline.sources[k] = fresh
                if source is self._fallback:
                    self._fallback = fresh


def _forget_state(state: Any, user: int) -> None:
    """Clear one user's rows of the feature state (funnel counts and last item)."""
    funnel = state.funnel
    if user < funnel.n_users:
        funnel.user_counts[user] = 0.0
        funnel.user_last[user] = np.nan
        funnel._items[user] = np.zeros(0, dtype=np.int32)
        funnel._counts[user] = np.zeros((0, funnel.user_counts.shape[1]), dtype=np.float32)
        funnel._first[user] = np.zeros(0)
        funnel._last[user] = np.zeros(0)
    if user < state.transitions.last_item.size:
        state.transitions.last_item[user] = -1
