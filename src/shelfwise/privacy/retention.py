"""Retention: how long each kind of shopper data is kept, and the purge that applies it.

``privacy.retention_days`` gives a number of days per kind (``null`` keeps the kind until it is deleted):

==============  =====================================================================  ===========
kind            rows                                                                   default
==============  =====================================================================  ===========
``events``      every event, by its timestamp (with the split rows naming it)          kept
``search_logs`` events of type ``search`` (the query text), by their timestamp          kept
``impressions`` what was shown to whom (served lists, with search queries in context)   90 days
``quarantine``  rejected input rows, by the time of the ingestion run that read them     30 days
==============  =====================================================================  ===========

Events and search logs are kept by default because public datasets (and a shop's imported history) carry
timestamps years old: a default there would silently empty them; a shop sets its own. Impressions and
quarantined rows are operational logs whose timestamps are when shelfwise wrote them.

:func:`purge` deletes what is older than ``now - days`` per kind (``Store.purge_before``) and then makes the
bytes leave the disk as a deletion's do: the DuckDB store rewrites its file (``erase_deleted``), the PostgreSQL
store ``VACUUM FULL``-s the touched tables inside ``purge_before``. The service runs it every
``privacy.purge_every_hours`` (:class:`PurgeSchedule`); ``shelfwise purge`` runs it once.

**Artifacts.** Aggregates in trained artifacts (popularity counts, co-occurrence and factor models, the
ranker, DP releases already made) are not un-learned by a purge: they hold no row of the purged events,
only numbers summed over many shoppers. Per-shopper *histories* in the recommender artifact (the user index
and each shopper's item sequence) do hold purged events until the next ``shelfwise train``, which reads the
store as purged: so a trained artifact keeps an event at most ``retention_days`` plus the time between two
trainings. The purge report lists the artifacts trained on data older than the cutoff (``stale_artifacts``)
so an operator knows to retrain.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pydantic import Field

from shelfwise.config_base import Section
from shelfwise.storage.base import PURGE_KINDS, PurgeKind

__all__ = ["PurgeSchedule", "RetentionDays", "purge"]

log = logging.getLogger(__name__)


class RetentionDays(Section):
    """``privacy.retention_days``: days each kind of shopper data is kept (null: until deleted)."""

    events: int | None = Field(
        None, ge=1, description="days events are kept (null: until the shopper is deleted)"
    )
    impressions: int | None = Field(90, ge=1, description="days served lists (impressions) are kept")
    quarantine: int | None = Field(30, ge=1, description="days rejected input rows are kept")
    search_logs: int | None = Field(
        None, ge=1, description="days search events (the query text) are kept (null: as events)"
    )


def purge(
    store: Any, retention: RetentionDays, *, now: datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Apply ``retention`` to ``store`` once; returns a JSON-ready report.

    Returns:
        ``{"dry_run", "now", "removed": {kind: rows}, "cutoffs": {kind: iso time | None}, "erased": bool,
        "stale_artifacts": [names]}``; a kind kept forever has cutoff None and removes nothing.
    """
    now = now or datetime.now(UTC)
    removed: dict[str, int] = {}
    cutoffs: dict[str, str | None] = {}
    oldest: datetime | None = None
    for kind in PURGE_KINDS:
        days = getattr(retention, kind)
        if days is None:
            cutoffs[kind], removed[kind] = None, 0
            continue
        cutoff = now - timedelta(days=days)
        cutoffs[kind] = cutoff.isoformat()
        removed[kind] = int(store.purge_before(cast(PurgeKind, kind), cutoff, dry_run=dry_run))
        if kind in ("events", "search_logs") and removed[kind]:
            oldest = cutoff if oldest is None else max(oldest, cutoff)
    erased = False
    if not dry_run and any(removed.values()):
        report = store.erase_deleted()
        erased = bool(report.rewritten) or type(store).__name__ == "PostgresStore"
    return {
        "dry_run": dry_run,
        "now": now.isoformat(),
        "removed": removed,
        "cutoffs": cutoffs,
        "erased": erased,
        "stale_artifacts": _stale_artifacts(store) if oldest is not None else [],
    }


#: artifacts that keep per-shopper event histories (the recommender: user index and item sequences)
HISTORY_ARTIFACTS = ("recommender",)


def _stale_artifacts(store: Any) -> list[str]:
    """Artifacts whose per-shopper histories may hold events a purge just removed (retrain them)."""
    present = set(store.artifacts.names())
    return [name for name in HISTORY_ARTIFACTS if name in present]


class PurgeSchedule:
    """Runs :func:`purge` every ``every_hours`` in a daemon thread (the first run one interval after start).

    Args:
        store: the shop's store.
        retention: the retention settings.
        every_hours: the interval; 0 disables the schedule.
    """

    def __init__(self, store: Any, retention: RetentionDays, every_hours: float) -> None:
        self.store = store
        self.retention = retention
        self.every_seconds = float(every_hours) * 3600.0
        self.runs = 0
        self.last: dict[str, Any] | None = None
        #: rows removed per kind over every run of this schedule
        self.removed: dict[str, int] = dict.fromkeys(PURGE_KINDS, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (no-op when disabled or started)."""
        if self.every_seconds <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shelfwise-purge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            started = time.perf_counter()
            try:
                self.last = purge(self.store, self.retention)
            except Exception:
                log.exception("scheduled purge failed; retrying at the next interval")
                continue
            self.runs += 1
            for kind, n in self.last["removed"].items():
                self.removed[kind] += n
            log.info(
                "scheduled purge in %.2fs removed %s", time.perf_counter() - started, self.last["removed"]
            )

    def stop(self) -> None:
        """Stop the thread (waits for a purge in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
