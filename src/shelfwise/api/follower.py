"""Catching up with the store: on start, and then continuously for what other processes write.

The store is the one source of truth; a serving process holds derived, online copies (pipelines' histories and
indexes, live profiles, caches). :func:`catch_up_on_start` brings them up to date once, before the service
reports ready; :class:`Follower` then polls the store's three logs every ``api.follow_seconds`` and applies
what *other* processes wrote, so N workers on one store converge:

* events (``read_events(after_seq=)``) -> profiles, every pipeline's ``observe``, that shopper's caches;
* catalogue changes (``read_catalogue_changes`` then ``read_items(item_ids=)``) -> ``upsert_items`` /
  ``delete_items`` of every pipeline, the response facts, every cache;
* deletions (``read_deletions``, keyed digests matched against ``store.user_digest`` of the shoppers this
  process knows) -> profiles, pipelines' ``forget_user``, buffered impressions, caches.

What this process wrote itself was applied on write (:class:`~shelfwise.api.feedback.FeedbackLoop`); it
records those event ids, catalogue entries and deleted users here (:meth:`Follower.wrote_events` ...) so
they are not applied twice. Cursors live in the online state (``event_seq``, ``catalogue_seq``,
``deletion_seq``). Application runs under the service's write lock, so a write and its record are seen
together.

Live profiles are persisted by the periodic flush; the event cursor they include is kept in the store's
metadata (:data:`PROFILE_CURSOR_META`), so a restart replays only the events after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shelfwise.api.consent import follow_consent
from shelfwise.data.schema import EVENT_COLUMNS

if TYPE_CHECKING:
    from shelfwise.api.services import Services

log = logging.getLogger(__name__)

#: Store metadata key: the event ``seq`` the persisted profiles include (written with each profile flush).
PROFILE_CURSOR_META = "online.profiles_event_seq"
_EVENT_READ = [*EVENT_COLUMNS, "seq"]


def epoch(ts: Any) -> float:
    """Unix seconds of a timestamp (datetime or number)."""
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()
    return float(ts)


def event_rows(table: Any) -> list[dict[str, Any]]:
    """Store event rows as the consumers take them: Unix-second timestamps, ordered by (time, seq)."""
    rows = table.to_pylist()
    for r in rows:
        r["timestamp"] = epoch(r["timestamp"])
    rows.sort(key=lambda r: (r["timestamp"], r.get("seq", 0)))
    return rows


def apply_to_profiles(profiles: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Fold event rows into live profiles; returns how many."""
    n = 0
    for r in rows:
        profiles.apply_event(
            r["user_id"],
            r["item_id"],
            r["type"],
            r["timestamp"],
            value=r.get("value"),
            session_id=r.get("session_id"),
        )
        n += 1
    return n


def observe_all(pipelines: Iterable[Any], rows: list[dict[str, Any]]) -> None:
    """Hand event rows to every pipeline that observes events."""
    if not rows:
        return
    for pipeline in pipelines:
        observe = getattr(pipeline, "observe", None)
        if observe is not None:
            observe(rows)


@dataclass
class StartReport:
    """What :func:`catch_up_on_start` did."""

    event_seq: int
    catalogue_seq: int
    deletion_seq: int
    profile_events: int
    pipelines: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return self.__dict__.copy()


def replay_profiles(services: Services, upto: int) -> int:
    """Apply stored events after the persisted profiles' cursor (and not older than a shopper's last stored
    event, which guards against rows flushed by another worker) up to ``upto``; returns events applied."""
    profiles, store = services.profiles, services.store
    if profiles is None:
        return 0
    if getattr(profiles, "event_seq", None) is not None:  # the profile service caught up on its own
        return 0
    after = int(store.get_meta(PROFILE_CURSOR_META, 0) or 0)
    rows = event_rows(store.read_events(_EVENT_READ, after_seq=after))
    states = profiles.states
    fresh = []
    for r in rows:
        if r["seq"] > upto:
            continue
        st = states.get(r["user_id"])
        last = getattr(st, "last_ts", None) if st is not None else None
        if last is not None and r["timestamp"] <= float(last):
            continue
        fresh.append(r)
    return apply_to_profiles(profiles, fresh)


def catch_up_on_start(services: Services) -> StartReport:
    """Bring the loaded pipelines and profiles up to the store; set the follower cursors.

    Pipelines that have ``catch_up(store)`` replay events and catalogue changes after their artifacts' manifest;
    profiles replay events after their last flush. The event cursor is the store's newest event seq read
    *before* the pipelines caught up, so whatever arrives meanwhile is applied again by the follower
    (``observe`` is idempotent per event id; profiles only get events after the cursor).
    """
    store, online = services.store, services.online
    event_seq = int(store.max_event_seq())
    catalogue_seq = int(store.catalogue_seq())
    deletion_seq = int(store.deletion_seq())
    reports: dict[str, Any] = {}
    for name, pipeline in (("recommender", services.recommender), ("search", services.search)):
        catch_up = getattr(pipeline, "catch_up", None)
        if catch_up is None:
            reports[name] = "no catch_up"
            continue
        reports[name] = catch_up(store)
    profile_events = replay_profiles(services, event_seq)
    online.advance_cursor("event_seq", event_seq)
    online.advance_cursor("catalogue_seq", catalogue_seq)
    online.advance_cursor("deletion_seq", deletion_seq)
    report = StartReport(event_seq, catalogue_seq, deletion_seq, profile_events, reports)
    log.info("caught up with the store: %s", report.to_dict())
    return report


class Follower:
    """Applies what other processes write to the store, every ``every_seconds``.

    Args:
        services: the app's services (store, online state, profiles, pipelines, caches, write lock).
        every_seconds: poll interval.
    """

    def __init__(self, services: Services, every_seconds: float = 1.0) -> None:
        self.services = services
        self.every_seconds = every_seconds
        self._own_events: set[str] = set()
        self._own_items: dict[str, int] = {}  # item_id -> catalogue seq reached by our write
        self._own_deletions: set[str] = set()
        self._digests: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.applied = {"events": 0, "items": 0, "deletions": 0, "consents": 0, "polls": 0, "errors": 0}

    # -- records of this process's own writes (call under the write lock) --------------------------
    def wrote_events(self, event_ids: Iterable[str]) -> None:
        """Events this process stored and applied itself."""
        self._own_events.update(event_ids)

    def wrote_items(self, item_ids: Iterable[str], catalogue_seq: int) -> None:
        """Items this process changed (and applied) up to ``catalogue_seq``."""
        for i in item_ids:
            self._own_items[i] = max(catalogue_seq, self._own_items.get(i, 0))

    def deleted_user(self, user_key: str) -> None:
        """A shopper this process deleted (and forgot) itself."""
        self._own_deletions.add(user_key)

    # -- one poll ----------------------------------------------------------------------------------
    def poll(self) -> dict[str, int]:
        """Apply everything new in the store once; returns counts applied."""
        s = self.services
        if s.store.deletion_seq() > s.online.cursor("deletion_seq"):
            self._digests_of_known_users()  # only when there is a deletion to match; outside the write lock
        with s.write_lock:
            events = self._events()
            items = self._catalogue()
            deletions = self._deletions()
            consents = follow_consent(s)  # a change of consent made by another process
        self.applied["polls"] += 1
        self.applied["consents"] += consents
        self.applied["events"] += events
        self.applied["items"] += items
        self.applied["deletions"] += deletions
        return {"events": events, "items": items, "deletions": deletions, "consents": consents}

    def _events(self) -> int:
        s = self.services
        after = s.online.cursor("event_seq")
        table = s.store.read_events(_EVENT_READ, after_seq=after)
        if not table.num_rows:
            return 0
        rows = event_rows(table)
        top = max(r["seq"] for r in rows)
        foreign = [r for r in rows if r["event_id"] not in self._own_events]
        self._own_events.difference_update(r["event_id"] for r in rows)
        if s.profiles is not None:
            apply_to_profiles(s.profiles, foreign)
        observe_all(s.pipelines(), foreign)
        for user in {r["user_id"] for r in foreign}:
            s.caches.invalidate_user(user)
        s.online.advance_cursor("event_seq", top)
        return len(foreign)

    def _catalogue(self) -> int:
        s = self.services
        after = s.online.cursor("catalogue_seq")
        changes = s.store.read_catalogue_changes(after_seq=after)
        if not changes.num_rows:
            return 0
        seqs, ids = changes.column("seq").to_pylist(), changes.column("item_id").to_pylist()
        wanted = sorted({i for q, i in zip(seqs, ids, strict=True) if q > self._own_items.get(i, 0)})
        for i in [i for i, q in self._own_items.items() if q <= max(seqs)]:
            del self._own_items[i]  # our entries up to here are passed
        if wanted:
            rows = s.store.read_items(item_ids=wanted).to_pylist()
            gone = [r["item_id"] for r in rows if not r.get("available", True)]
            live = [r for r in rows if r.get("available", True)]
            for pipeline in s.pipelines():
                if live and hasattr(pipeline, "upsert_items"):
                    pipeline.upsert_items(live)
                if gone and hasattr(pipeline, "delete_items"):
                    pipeline.delete_items(gone)
            for r in rows:
                s.item_facts[r["item_id"]] = (r["title"], r["brand"], r["category"], r["price"])
            s.caches.invalidate_all()
        s.online.advance_cursor("catalogue_seq", max(seqs))
        return len(wanted)

    def _deletions(self) -> int:
        s = self.services
        after = s.online.cursor("deletion_seq")
        table = s.store.read_deletions(after_seq=after)
        if not table.num_rows:
            return 0
        digests = set(table.column("user_digest").to_pylist())
        forgotten = 0
        for user, digest in list(self._digests_of_known_users().items()):
            if digest in digests and user not in self._own_deletions:
                s.feedback.forget_live(user)
                self._digests.pop(user, None)
                forgotten += 1
        self._own_deletions.clear()
        s.online.advance_cursor("deletion_seq", max(table.column("seq").to_pylist()))
        return forgotten

    def _digests_of_known_users(self) -> dict[str, str]:
        """``store.user_digest`` of every shopper with a live profile (computed once per shopper)."""
        profiles = self.services.profiles
        if profiles is None:
            return self._digests
        for user in [u for u in list(profiles.states) if u not in self._digests]:
            self._digests[user] = self.services.store.user_digest(user)
        return self._digests

    # -- the thread --------------------------------------------------------------------------------
    def start(self) -> None:
        """Poll in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shelfwise-follow", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            started = time.perf_counter()
            try:
                done = self.poll()
            except Exception:
                self.applied["errors"] += 1
                log.exception("following the store failed; retrying")
                continue
            if any(done.values()):
                log.info("applied from the store in %.0fms: %s", (time.perf_counter() - started) * 1e3, done)

    def stop(self) -> None:
        """Stop polling (waits for a poll in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
