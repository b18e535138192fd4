"""The real-time feedback loop: events and catalogue changes reach profiles, pipelines and caches at once.

``ingest_events(rows)`` validates rows with the store's :class:`~shelfwise.data.ingest.Ingestor` (same rules,
quarantine and pseudonymisation as file ingestion), writes them, and for every *new* event (not a duplicate
of a stored ``event_id``):

1. folds it into the user's profile (:meth:`ProfileService.apply_event`);
2. hands it to the recommender and the search pipeline (``observe``) for their session state;
3. drops that user's cached responses,

so the very next request of that user reflects it. Catalogue upserts and deletes reach the indexes through
``upsert_items`` / ``delete_items`` of both pipelines and drop every cached response. Deleting a user
removes their events, profile, impressions and cached results, and tells both pipelines to forget them.

All writes run under one lock shared with the impression writer, so a deleted user's buffered impressions
or dirty profile are never written after the deletion.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from shelfwise.api.cache import ResponseCaches
from shelfwise.api.follower import apply_to_profiles
from shelfwise.api.impressions import ImpressionLog
from shelfwise.data.ingest import Ingestor
from shelfwise.data.schema import EVENT_COLUMNS, ITEM_COLUMNS
from shelfwise.storage.base import Store, ValidatedBatch, WriteResult

log = logging.getLogger(__name__)


class _CapturingStore:
    """A store proxy that keeps the last validated batch and which of its event ids were already stored."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.batch: ValidatedBatch | None = None
        self.existing: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: ValidatedBatch) -> WriteResult:
        self.batch = batch
        self.existing = set()
        if batch.kind == "events" and batch.rows.num_rows:
            users = batch.rows.column("user_id").unique().to_pylist()
            stored = self._store.read_events(["event_id"], user_ids=users).column("event_id")
            ids = set(batch.rows.column("event_id").to_pylist())
            self.existing = ids.intersection(stored.to_pylist())
        return self._store.write_batch(batch)


@dataclass
class IngestOutcome:
    """What one events / items request changed."""

    received: int
    accepted: int
    duplicates: int
    quarantined: int
    problems: list[dict[str, Any]] = field(default_factory=list)
    users: int = 0
    cache_entries_dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return self.__dict__.copy()


def _epoch(ts: Any) -> float:
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()
    return float(ts)


class FeedbackLoop:
    """Writes events and catalogue changes and pushes them to every live component.

    Args:
        store: the shop's store.
        ingestor: an :class:`Ingestor` over ``store`` (its pseudonymisation applies).
        profiles: the live :class:`ProfileService` (or None).
        caches: the response caches.
        impressions: the impression log (flushed with profiles by :meth:`flush`).
        pipelines: callables returning the current recommender / search pipeline (may return None).
        write_lock: the lock shared with the impression writer.
    """

    def __init__(
        self,
        store: Store,
        settings: Any,
        profiles: Any,
        caches: ResponseCaches,
        impressions: ImpressionLog,
        pipelines: Any,
        write_lock: threading.RLock,
        metrics: Any = None,
    ) -> None:
        self.store = store
        self._capture = _CapturingStore(store)
        self.ingestor = Ingestor(self._capture, settings)  # type: ignore[arg-type]
        self.profiles = profiles
        self.caches = caches
        self.impressions = impressions
        self.pipelines = pipelines
        self.write_lock = write_lock
        self.metrics = metrics
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.follower: Any = None  # set by the service: records what this process wrote itself
        self.online: Any = None  # set by the service: its follower cursors go with each profile flush

    def user_key(self, raw_user_id: str) -> str:
        """The id the store keeps for a shopper."""
        return self.ingestor.user_key(raw_user_id)

    # -- events ------------------------------------------------------------------------------------
    def ingest_events(self, rows: list[dict[str, Any]]) -> IngestOutcome:
        """Validate, write and apply a batch of events (raw user ids; timestamps default to now)."""
        now = datetime.now(UTC)
        rows = [{**r, "timestamp": r.get("timestamp") or now} for r in rows]
        with self.write_lock:
            self._capture.batch = None
            report = self.ingestor.ingest_table(_events_table(rows), "events", source="api")
            batch = self._capture.batch
            new_rows: list[dict[str, Any]] = []
            if batch is not None:
                new_rows = [r for r in batch.rows.to_pylist() if r["event_id"] not in self._capture.existing]
            if self.follower is not None:
                self.follower.wrote_events(r["event_id"] for r in new_rows)
            dropped = self._apply(new_rows)
        if self.metrics is not None:
            self.metrics.events.labels("accepted").inc(len(new_rows))
            self.metrics.events.labels("quarantined").inc(report.quarantined)
            self.metrics.events.labels("duplicate").inc(report.duplicates)
        problems = self._problems(report.run_id, report.quarantined)
        return IngestOutcome(
            received=len(rows),
            accepted=len(new_rows),
            duplicates=report.duplicates,
            quarantined=report.quarantined,
            problems=problems,
            users=len({r["user_id"] for r in new_rows}),
            cache_entries_dropped=dropped,
        )

    def _apply(self, rows: list[dict[str, Any]]) -> int:
        rows = [{**r, "timestamp": _epoch(r["timestamp"])} for r in rows]  # Unix seconds for every consumer
        rows.sort(key=lambda r: (r["timestamp"], r.pop("_ord", 0)))
        if self.profiles is not None:
            apply_to_profiles(self.profiles, rows)
        if rows:
            for pipeline in self.pipelines():
                observe = getattr(pipeline, "observe", None)
                if observe is not None:
                    observe(rows)
        return sum(self.caches.invalidate_user(u) for u in {r["user_id"] for r in rows})

    def _problems(self, run_id: str, quarantined: int) -> list[dict[str, Any]]:
        if not quarantined:
            return []
        table = self.store.read_quarantine(run_id)
        return [
            {"row": r["line"], "reason": r["reason"]}
            for r in table.select(["line", "reason"]).to_pylist()[:100]
        ]

    # -- catalogue ---------------------------------------------------------------------------------
    def upsert_items(self, rows: list[dict[str, Any]]) -> IngestOutcome:
        """Insert or update items; changed rows reach both indexes and every cache is dropped."""
        with self.write_lock:
            self._capture.batch = None
            report = self.ingestor.ingest_table(_items_table(rows), "items", source="api")
            batch = self._capture.batch
            changed: list[dict[str, Any]] = (
                batch.rows.drop_columns(["_ord"]).to_pylist() if batch is not None else []
            )
            if changed:
                self._wrote_items([r["item_id"] for r in changed])
                for pipeline in self.pipelines():
                    if hasattr(pipeline, "upsert_items"):
                        pipeline.upsert_items(changed)
                self.caches.invalidate_all()
        return IngestOutcome(
            received=len(rows),
            accepted=report.accepted,
            duplicates=report.duplicates,
            quarantined=report.quarantined,
            problems=self._problems(report.run_id, report.quarantined),
        )

    def delete_items(self, item_ids: list[str]) -> dict[str, Any]:
        """Take items out of the catalogue: kept in the store as unavailable (history and attribution still
        join), removed from both indexes at once."""
        wanted = set(item_ids)
        with self.write_lock:
            items = self.store.read_items()
            found = [r for r in items.to_pylist() if r["item_id"] in wanted]
            for r in found:
                r["available"] = False
                r["updated_at"] = datetime.now(UTC)
            if found:
                self.ingestor.ingest_table(
                    pa.Table.from_pylist(found, schema=items.schema), "items", source="api"
                )
                ids = [r["item_id"] for r in found]
                self._wrote_items(ids)
                for pipeline in self.pipelines():
                    if hasattr(pipeline, "delete_items"):
                        pipeline.delete_items(ids)
                self.caches.invalidate_all()
        return {
            "deleted": sorted(r["item_id"] for r in found),
            "unknown": sorted(wanted - {r["item_id"] for r in found}),
        }

    # -- users -------------------------------------------------------------------------------------
    def delete_user(self, raw_user_id: str) -> dict[str, Any]:
        """Forget a shopper everywhere (:func:`shelfwise.forget.forget_shopper`): the store's rows, the trained
        artifacts, this process's live state; other processes follow the deletion log. Returns the deletion
        receipt, with ``removed`` (rows and live entries dropped, per place) for the callers of the first API."""
        from shelfwise.forget import forget_shopper

        key = self.user_key(raw_user_id)
        with self.write_lock:

            def live(user_key: str) -> dict[str, Any]:
                if self.follower is not None:
                    self.follower.deleted_user(user_key)
                return self.forget_live(user_key)

            receipt = forget_shopper(self.store, key, raw_user_id=raw_user_id, live=live)
        removed = dict(receipt["store"]["removed"])
        removed.update({k: v for k, v in receipt["online_state"].items() if isinstance(v, int)})
        return {**receipt, "removed": removed}

    def forget_live(self, key: str) -> dict[str, Any]:
        """Drop a deleted shopper (store key) from everything this process holds: buffered impressions, live
        profile, the pipelines' state and their artifacts on disk, cached responses (call under ``write_lock``;
        the follower calls it for deletions made by other processes). Returns what was dropped, per place, and
        each pipeline's own report under ``"pipelines"``."""
        buffered = self.impressions.forget_user(key)
        in_memory = bool(self.profiles is not None and self.profiles.forget(key))
        reports: dict[str, Any] = {}
        for pipeline in self.pipelines():
            forget = getattr(pipeline, "forget_user", None)
            if forget is not None:
                name = "recommender" if hasattr(pipeline, "recommend") else "search"
                result = forget(key)
                if name == "recommender" and isinstance(result, dict):
                    reports.setdefault("recommender", result.get("artifacts", []))
                    reports.setdefault("recommender_live", result.get("live", {}))
                elif isinstance(result, dict):
                    reports.setdefault(name, result)
            own_profiles = getattr(pipeline, "profiles", None)  # a pipeline's own profile copy
            if (
                own_profiles is not None
                and own_profiles is not self.profiles
                and hasattr(own_profiles, "forget")
            ):
                own_profiles.forget(key)
        dropped = self.caches.invalidate_user(key)
        return {
            "impressions_buffered": buffered,
            "profile_in_memory": int(in_memory),
            "cached_responses": dropped,
            "pipelines": reports,
        }

    def _wrote_items(self, item_ids: list[str]) -> None:
        if self.follower is not None:
            self.follower.wrote_items(item_ids, self.store.catalogue_seq())

    # -- persistence -------------------------------------------------------------------------------
    def flush(self) -> dict[str, int]:
        """Write buffered impressions and changed profiles now."""
        with self.write_lock:
            imp = self.impressions.flush()
            prof = self.profiles.flush(self.store) if self.profiles is not None else 0
            if prof and self.online is not None and self.follower is not None:
                from shelfwise.api.follower import PROFILE_CURSOR_META

                self.store.set_meta(PROFILE_CURSOR_META, self.online.cursor("event_seq"))
        return {"impressions": imp, "profiles": prof}

    def start(self, every_seconds: float) -> None:
        """Flush in the background every ``every_seconds``."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(every_seconds):
                try:
                    self.flush()
                except Exception:
                    log.exception("background flush failed; retrying")

        self._thread = threading.Thread(target=run, name="shelfwise-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background writer and flush what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def close(self) -> None:
        """Release the ingestor's staging engine."""
        self.ingestor.close()


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], types: dict[str, pa.DataType]) -> pa.Table:
    """Rows (dicts) as a table of ``columns``; missing keys are nulls, untyped columns are strings."""
    return pa.table({c: pa.array([r.get(c) for r in rows], types.get(c, pa.string())) for c in columns})


def _events_table(rows: list[dict[str, Any]]) -> pa.Table:
    rows = [
        {**r, "timestamp": datetime.fromtimestamp(float(t), UTC) if isinstance(t, (int, float)) else t}
        for r in rows
        for t in [r.get("timestamp")]
    ]
    return _table(rows, EVENT_COLUMNS, {"timestamp": pa.timestamp("us", tz="UTC"), "value": pa.float64()})


def _items_table(rows: list[dict[str, Any]]) -> pa.Table:
    rows = [
        {
            **r,
            "attributes": json.dumps(r["attributes"])
            if isinstance(r.get("attributes"), dict)
            else r.get("attributes"),
            "available": True if r.get("available") is None else bool(r["available"]),
        }
        for r in rows
    ]
    columns = tuple(c for c in ITEM_COLUMNS if c != "updated_at")
    return _table(rows, columns, {"price": pa.float64(), "available": pa.bool_()})
