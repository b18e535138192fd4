"""What the service holds, typed: :class:`Services` replaces the untyped ``app.state`` bag.

One :class:`Services` object per app, at ``app.state.services``. Routes get it with
:func:`shelfwise.api.routes.deps.services` / ``ready_services``. For the web pages and older callers,
``app.state`` is a :class:`ServicesState` that forwards the old attribute names (``app.state.store``,
``app.state.recommender``, ...) to the same object, reading and writing, so nothing can drift apart.

The pipelines are seen through two Protocols, :class:`RecommenderLike` and :class:`SearchLike`: the methods
the api layer calls, and nothing else.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from starlette.datastructures import State

if TYPE_CHECKING:
    from shelfwise.api.artifact_watch import ArtifactWatch
    from shelfwise.api.auth import KeyRing
    from shelfwise.api.cache import ResponseCaches
    from shelfwise.api.components import ArmPipelines
    from shelfwise.api.feedback import FeedbackLoop
    from shelfwise.api.follower import Follower
    from shelfwise.api.impressions import ImpressionLog
    from shelfwise.api.metrics import Metrics
    from shelfwise.api.serving import Serving
    from shelfwise.config import Settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.experiments.registry import ExperimentRegistry
    from shelfwise.online import OnlineState
    from shelfwise.privacy.consent import ConsentBook
    from shelfwise.privacy.retention import PurgeSchedule
    from shelfwise.profiles.service import ProfileService
    from shelfwise.storage import Store


#: A random token naming this process, sent as :data:`WORKER_HEADER` on reads and readiness (which of
#: several workers answered; no pid or host name leaves the process).
WORKER_ID = secrets.token_hex(4)
WORKER_HEADER = "X-Shelfwise-Worker"


@runtime_checkable
class RecommenderLike(Protocol):
    """What the api calls on a recommender (:class:`shelfwise.recommend.Recommender`).

    ``catch_up(store) -> dict`` is optional (called through ``getattr`` when present).
    """

    def recommend(self, request: Any) -> Any:
        """A response with ``items`` (each ``item_id``, ``score``, ``reason``, ``sources``, ``breakdown``)."""

    def observe(self, events: Iterable[dict[str, Any]]) -> int:
        """Fold new events (store rows, Unix-second timestamps) into live histories."""

    def upsert_items(self, rows: Iterable[dict[str, Any]]) -> int:
        """New or changed catalogue rows."""

    def delete_items(self, ids: Iterable[str]) -> int:
        """Items taken out of the catalogue."""

    def forget_user(self, user_id: str) -> Any:
        """Forget a deleted shopper everywhere the recommender keeps them."""


@runtime_checkable
class SearchLike(Protocol):
    """What the api calls on a search pipeline (:class:`shelfwise.search.SearchPipeline`)."""

    def search(self, request: Any) -> Any:
        """A response with ``results``, ``total``, ``parsed``, ``facets``, ``relaxed``."""

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Autocomplete."""

    def observe(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Fold new events into personalisation state."""

    def upsert_items(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """New or changed catalogue rows reach both indexes and the vocabulary."""

    def delete_items(self, item_ids: Sequence[str]) -> int:
        """Items leave both indexes."""


@dataclass
class Services:
    """Everything one app serves with. Made by :func:`shelfwise.api.components.build_services`; the
    pipelines and profiles are filled in by :func:`shelfwise.api.components.load`.

    Attributes:
        settings: the settings tree the app was made with.
        store: the shop's data (source of truth).
        online: counters, caches, rate-limit buckets, sessions and follower cursors.
        metrics: Prometheus collectors of this app.
        keys: hashed API keys with scopes.
        limiter: rate limiting over ``online`` (``take(bucket, rate) -> seconds to wait``).
        caches: response caches over ``online``.
        write_lock: serialises writes (events, catalogue, deletions, flushes); never held by reads.
        impressions: what was shown, buffered and flushed to the store.
        experiments: experiment definitions and sticky assignment.
        feedback: ingest events / catalogue changes and push them to profiles, pipelines and caches.
        serving: recommend / search with caching, experiment arms and impression logging.
        arm_pipelines: pipelines of experiment arms with settings overrides.
        item_facts: ``item_id -> (title, brand, category, price)`` for enriching responses.
        profiles: live user profiles once loaded.
        recommender: the recommender once loaded (None while not available).
        search: the search pipeline once loaded (None while not available).
        follower: the thread applying other processes' writes, once started.
        consent: shoppers' consent as this process knows it (kept current by the follower).
        purge: the scheduled retention purge, once started.
        artifact_watch: the thread moving to new artifact versions (hot reload), once started.
        ready: true once everything loaded and caught up with the store.
        components: each component's load status (``ok``, ``missing``, ``loading``, ``failed: ...``).
    """

    settings: Settings
    store: Store
    online: OnlineState
    metrics: Metrics
    keys: KeyRing
    limiter: OnlineLimiter
    caches: ResponseCaches
    write_lock: threading.RLock
    impressions: ImpressionLog
    experiments: ExperimentRegistry
    feedback: FeedbackLoop
    serving: Serving
    arm_pipelines: ArmPipelines
    item_facts: dict[str, tuple[Any, ...]]
    profiles: ProfileService | None = None
    recommender: RecommenderLike | None = None
    search: SearchLike | None = None
    follower: Follower | None = None
    consent: ConsentBook | None = None
    purge: PurgeSchedule | None = None
    artifact_watch: ArtifactWatch | None = None
    ready: bool = False
    components: dict[str, str] = field(default_factory=dict)

    @property
    def ingestor(self) -> Ingestor:
        """Validation; ``user_key(raw_id)`` gives the id the store keeps (the pseudonym when on)."""
        return self.feedback.ingestor

    def pipelines(self) -> list[Any]:
        """Every loaded pipeline: the default ones and those of experiment arms."""
        return [p for p in (self.recommender, self.search, *self.arm_pipelines.loaded()) if p is not None]


_FIELDS = frozenset(f.name for f in dataclasses.fields(Services)) | {"ingestor"}


class ServicesState(State):
    """``app.state`` forwarding the :class:`Services` attribute names to ``app.state.services``.

    Other attributes (e.g. a page's own cache) are kept here as on a plain ``State``.
    """

    def __init__(self, services: Services) -> None:
        super().__init__({"services": services})

    def __getattr__(self, name: str) -> Any:
        if name in _FIELDS:
            return getattr(self._state["services"], name)
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIELDS and name != "ingestor":
            setattr(self._state["services"], name, value)
        else:
            super().__setattr__(name, value)


class OnlineLimiter:
    """Token-bucket rate limits kept in the online state (the interface :mod:`shelfwise.api.auth` calls)."""

    def __init__(self, online: OnlineState, burst_seconds: float) -> None:
        self.online = online
        self.burst_seconds = burst_seconds

    def take(self, bucket: str, rate: float) -> float:
        """Spend one token; 0 when allowed, else the seconds to wait. ``rate <= 0``: unlimited."""
        return self.online.take_token(f"ratelimit:{bucket}", rate, self.burst_seconds)
