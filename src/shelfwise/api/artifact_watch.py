"""Hot reload: a serving process moves to newly trained or built artifacts without a restart.

The artifact location's manifest (``CURRENT.json``, :meth:`~shelfwise.storage.ArtifactStore.current`) names the
current version of every artifact. :class:`ArtifactWatch` reads it every ``api.follow_seconds`` (one small file)
and, when a version changes, also wakes up at once on a message on :data:`RELOAD_CHANNEL` of the online state
(``publish`` / ``subscribe``: in-process here, Redis pub/sub when the online state is shared, so one replica's
discovery reaches the others without waiting for their next poll).

A change is applied without stopping service:

1. the pipeline that reads the changed artifact (``recommender`` -> the recommender; item artifacts or the search
   ranker -> the search pipeline) is loaded *beside* the one serving, in this thread; its loader catches it up
   with the store from the cursors the new manifest records (events, catalogue changes, deletions after them);
2. under the service's write lock (so no event, catalogue change or deletion is applied to the old pipeline
   only), a last incremental ``catch_up(store)`` brings it to the store's newest state and it replaces the old
   one with one assignment; requests in flight finish on the old snapshot, the next ones use the new one;
3. the response caches and the experiment arms' pipelines are dropped (they were computed with the old one).

A version that fails to load is logged and the old pipeline keeps serving (the failure is in :attr:`last_error`
and ``/health/ready``'s ``versions``); it is retried when the manifest changes again, or after
:data:`RETRY_SECONDS` (a busy store, a half-copied shared folder).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shelfwise.api.services import Services

log = logging.getLogger(__name__)

#: Online-state channel announcing that the artifact manifest changed (message: the manifest's serial).
RELOAD_CHANNEL = "artifacts.current"
#: The recommender's artifact (= :data:`shelfwise.recommend.artifact.ARTIFACT_NAME`).
RECOMMENDER_ARTIFACT = "recommender"
#: Artifacts the search pipeline reads.
SEARCH_ARTIFACTS = frozenset(
    {"item-vectors", "vector-index", "lexical-index", "query-vocabulary", "search-ranker"}
)
#: A version that failed to load is tried again after this long (or at once when the manifest changes).
RETRY_SECONDS = 30.0
#: ``Services`` attribute and loader kind of each pipeline.
_PIPELINES = (("recommender", "recommend"), ("search", "search"))


def _needs(kind: str, changed: set[str]) -> bool:
    if kind == "recommend":
        return RECOMMENDER_ARTIFACT in changed
    return bool(changed & SEARCH_ARTIFACTS)


class ArtifactWatch:
    """Follows the artifact manifest and swaps in pipelines of new versions (see the module doc).

    Args:
        services: the app's services (store with its artifact location, pipelines, caches, write lock).
        load_pipeline: ``(kind) -> pipeline`` for ``"recommend"`` / ``"search"`` (already caught up with the
            store, as at start-up).
        every_seconds: how often the manifest is read.
        versions: the manifest's versions read *before* the serving pipelines were loaded (default: now), so
            a version written while they loaded is picked up by the first check.
    """

    def __init__(
        self,
        services: Services,
        load_pipeline: Callable[[str], Any],
        every_seconds: float = 1.0,
        versions: dict[str, int] | None = None,
    ) -> None:
        self.services = services
        self.load_pipeline = load_pipeline
        self.every_seconds = every_seconds
        self.versions: dict[str, int] = (
            dict(versions) if versions is not None else services.store.artifacts.current_versions()
        )
        self.serial: int = 0
        self.reloads = 0
        self.last_error: str | None = None
        self.last_reload: dict[str, Any] | None = None
        self._failed: dict[str, int] | None = None
        self._failed_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._gauge = _version_gauge(services)
        self._publish_gauge()

    # -- what is served ----------------------------------------------------------------------------
    def served(self) -> dict[str, Any]:
        """``/health/ready``'s ``versions``: the artifact versions loaded, the recommender's version, and the
        last reload's outcome."""
        out: dict[str, Any] = {"artifacts": dict(self.versions), "reloads": self.reloads}
        version = getattr(self.services.recommender, "version", None)
        if version is not None:
            out["recommender"] = int(version)
        if self.last_error:
            out["error"] = self.last_error
        return out

    # -- one check ---------------------------------------------------------------------------------
    def check(self) -> list[str]:
        """Read the manifest once; load and swap what changed. Returns the pipelines swapped."""
        doc = self.services.store.artifacts.current()
        current = {str(k): int(v) for k, v in doc.get("versions", {}).items()}
        if current == self.versions:
            return []
        if current == self._failed and time.monotonic() - self._failed_at < RETRY_SECONDS:
            return []
        changed = {n for n in set(current) | set(self.versions) if current.get(n) != self.versions.get(n)}
        started = time.perf_counter()
        swapped: list[str] = []
        try:
            fresh = {
                attr: self.load_pipeline(kind)
                for attr, kind in _PIPELINES
                if _needs(kind, changed) and self._serves(attr)
            }
            with self.services.write_lock:
                for attr, pipeline in fresh.items():
                    catch_up = getattr(pipeline, "catch_up", None)
                    if catch_up is not None:
                        catch_up(self.services.store)  # incremental: what arrived while it loaded
                    setattr(self.services, attr, pipeline)
                    swapped.append(attr)
                if swapped:
                    self.services.arm_pipelines.clear()
                    self.services.caches.invalidate_all()
        except Exception as exc:
            self._failed, self._failed_at = current, time.monotonic()
            self.last_error = f"loading {sorted(changed)} failed: {exc}"
            log.exception("hot reload of %s failed; the loaded versions keep serving", sorted(changed))
            return swapped
        self.versions = current
        self.serial = int(doc.get("serial") or 0)
        self._failed = None
        self.last_error = None
        self.reloads += 1 if swapped else 0
        self.last_reload = {
            "changed": sorted(changed),
            "swapped": swapped,
            "seconds": round(time.perf_counter() - started, 2),
        }
        self._publish_gauge()
        if swapped:
            log.info("hot reload: %s", self.last_reload)
            self.services.online.publish(RELOAD_CHANNEL, str(self.serial).encode())
        return swapped

    def _serves(self, attr: str) -> bool:
        """Whether this process serves (or tried to serve) that pipeline: a missing package stays missing."""
        return self.services.components.get(attr) != "missing"

    def _publish_gauge(self) -> None:
        if self._gauge is None:
            return
        for name, version in self.versions.items():
            self._gauge.labels(artifact=name).set(version)

    # -- the thread --------------------------------------------------------------------------------
    def start(self) -> None:
        """Check every ``every_seconds`` (and at once on a :data:`RELOAD_CHANNEL` message) until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        try:
            self._unsubscribe = self.services.online.subscribe(RELOAD_CHANNEL, self._on_message)
        except Exception as exc:  # polling alone still converges
            log.warning("cannot subscribe to %s (polling only): %s", RELOAD_CHANNEL, exc)
        self._thread = threading.Thread(target=self._run, name="shelfwise-artifact-watch", daemon=True)
        self._thread.start()

    def _on_message(self, message: bytes) -> None:
        try:
            serial = int(message)
        except ValueError:
            serial = -1
        if serial != self.serial:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.check()
            except Exception:
                log.exception("reading the artifact manifest failed; retrying")

    def stop(self) -> None:
        """Stop watching (waits for a reload in progress)."""
        self._stop.set()
        self._wake.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join(timeout=120)
            self._thread = None


def _version_gauge(services: Services) -> Any:
    """``shelfwise_artifact_version{artifact=...}`` in the app's metrics registry (None without one)."""
    registry = getattr(services.metrics, "registry", None)
    if registry is None:
        return None
    from prometheus_client import Gauge

    return Gauge("shelfwise_artifact_version", "artifact version served", ["artifact"], registry=registry)
