"""What the service holds and how it is loaded: cheap parts at app creation, pipelines in the background.

:func:`build_services` makes the cheap parts (store, keys, online state, caches, experiments...) as one typed
:class:`~shelfwise.api.services.Services`; :func:`load` (run by the lifespan in a thread, so ``/health/live``
answers while it works) opens the profiles and the pipelines, catches them up with the store
(:mod:`shelfwise.api.follower`), starts following the store and sets ``services.ready``. A pipeline package
that is not installed is reported as ``missing``; one that fails to load (e.g. no artifacts yet) as
``failed: <reason>`` and keeps the service not ready, since serving without it would be serving something
else than was evaluated.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from shelfwise.api.artifact_watch import ArtifactWatch
from shelfwise.api.auth import KeyRing
from shelfwise.api.cache import ResponseCaches
from shelfwise.api.feedback import FeedbackLoop
from shelfwise.api.follower import Follower, catch_up_on_start
from shelfwise.api.impressions import ImpressionLog
from shelfwise.api.metrics import Metrics
from shelfwise.api.services import OnlineLimiter, Services
from shelfwise.api.serving import Serving
from shelfwise.config import Settings, SettingsError, parse_overrides
from shelfwise.experiments.registry import Arm, ExperimentRegistry
from shelfwise.online import OnlineState, open_online_state
from shelfwise.privacy.consent import ConsentBook
from shelfwise.privacy.retention import PurgeSchedule

log = logging.getLogger(__name__)

#: Online-state channels on which a replica says it changed what every replica keeps a copy of.
EXPERIMENTS_CHANNEL, KEYS_CHANNEL = "experiments.changed", "keys.changed"


class Broadcast:
    """Tells the other replicas sharing the online state that something each keeps a copy of changed in the
    store (experiment definitions, API keys), and reads it again when another one says so.

    Args:
        online: the online state (in-process: no one else hears; on Redis: every replica of the shop).
    """

    def __init__(self, online: OnlineState) -> None:
        self.online = online
        self.me = uuid.uuid4().hex.encode()

    def changed(self, channel: str) -> None:
        """Say this replica changed what ``channel`` is about."""
        self.online.publish(channel, self.me)

    def follow(self, channel: str, reload: Callable[[], None]) -> None:
        """Run ``reload`` (in a thread of its own) whenever another replica says it changed ``channel``."""

        def heard(message: bytes) -> None:
            if message != self.me:
                threading.Thread(target=reload, name=f"shelfwise-{channel}", daemon=True).start()

        self.online.subscribe(channel, heard)


def arm_settings(settings: Settings, overrides: list[str]) -> Settings:
    """``settings`` with an arm's ``--set`` style overrides applied; raises :class:`SettingsError`."""
    if not overrides:
        return settings
    from shelfwise.config import _merge

    tree = _merge(settings.model_dump(), parse_overrides(overrides))
    try:
        return Settings.model_validate(tree)
    except Exception as exc:
        raise SettingsError(f"invalid arm overrides {overrides}: {exc}") from exc


class ArmPipelines:
    """Pipelines per experiment arm: the default ones, and separate ones for arms with settings overrides
    (loaded on the first request of that arm, then kept).

    Args:
        store: the shop's store.
        settings: the app's settings (an arm's overrides apply on top).
        default: returns the default pipeline of a kind (``"recommend"`` / ``"search"``), or None.
    """

    def __init__(self, store: Any, settings: Settings, default: Callable[[str], Any]) -> None:
        self.store = store
        self.settings = settings
        self.default = default
        self._by_arm: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, arm: Arm | None) -> Any:
        default = self.default(kind)
        if arm is None or not arm.variant.overrides or default is None:
            return default
        key = (kind, arm.experiment.name, arm.variant.name)
        with self._lock:
            if key not in self._by_arm:
                settings = arm_settings(self.settings, arm.variant.overrides)
                self._by_arm[key] = _load_pipeline(kind, self.store, settings)
            return self._by_arm[key]

    def preload(self, experiments: ExperimentRegistry) -> None:
        """Load the pipelines of every running arm that has settings overrides (errors are logged)."""
        for exp in experiments.list():
            for variant in exp.variants if exp.status == "running" and variant_overrides(exp) else ():
                if variant.overrides:
                    try:
                        self.get(exp.surface, Arm(exp, variant))
                    except Exception:
                        log.exception("loading the pipeline of arm %s:%s failed", exp.name, variant.name)

    def loaded(self) -> list[Any]:
        with self._lock:
            return list(self._by_arm.values())

    def clear(self) -> None:
        with self._lock:
            self._by_arm.clear()


def variant_overrides(experiment: Any) -> bool:
    """True when some arm of ``experiment`` changes settings (and so needs its own pipelines)."""
    return any(v.overrides for v in experiment.variants)


def _load_pipeline(kind: str, store: Any, settings: Settings) -> Any:
    if kind == "recommend":
        from shelfwise.recommend import Recommender

        return Recommender.load(store, settings)
    from shelfwise.search import SearchPipeline

    return SearchPipeline.load(store, settings)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def open_state(settings: Settings, store: Any, url: str | None = None) -> OnlineState:
    """The service's online state at ``url`` (default in-process); a shared one's keys are prefixed by a
    digest of the store's location unless the URL names a ``?prefix=``, so every replica of a shop meets
    there and other shops do not. Raises ``ConnectionError`` (one line) when it cannot be reached."""
    from pathlib import Path

    from shelfwise.online.redis import prefix_for

    folder = getattr(store, "folder", None)  # an embedded store: the same folder however it was named
    where = str(Path(folder).resolve()) if folder is not None else str(getattr(store, "url", None) or store)
    return open_online_state(
        url or "memory://",
        cache_ttl=settings.api.cache.ttl_seconds,
        cache_max_entries=settings.api.cache.max_entries,
        prefix=prefix_for(where),
        hold_seconds=max(2.0, 3 * settings.api.follow_seconds),  # until the other replicas followed a change
    )


def build_services(
    settings: Settings, store: Any, online: OnlineState | None = None, *, state: str | None = None
) -> Services:
    """The cheap parts of the service (store, keys, online state, caches, experiments, ...); the pipelines
    and profiles are loaded later by :func:`load`. ``online`` is an open online state, else one is opened
    at the ``state`` URL (:func:`open_state`)."""
    online = online or open_state(settings, store, state)
    caches = ResponseCaches(settings.api.cache.ttl_seconds, settings.api.cache.max_entries, online=online)
    write_lock = threading.RLock()
    impressions = ImpressionLog(store, write_lock=write_lock)
    metrics = Metrics()
    holder: list[Services] = []  # the callbacks below see the services once made

    def default_pipeline(kind: str) -> Any:
        return None if not holder else holder[0].recommender if kind == "recommend" else holder[0].search

    arm_pipelines = ArmPipelines(store, settings, default_pipeline)

    def reload_arms() -> None:
        arm_pipelines.clear()
        if holder and holder[0].ready:  # load arms with settings overrides now, not on their first request
            threading.Thread(target=arm_pipelines.preload, args=(holder[0].experiments,), daemon=True).start()

    def on_experiments_change() -> None:
        caches.invalidate_all()
        reload_arms()
        broadcast.changed(EXPERIMENTS_CHANNEL)  # the other replicas read the definitions again

    def reload_experiments() -> None:
        experiments.reload()
        reload_arms()

    broadcast = Broadcast(online)
    experiments = ExperimentRegistry(store, on_change=on_experiments_change)
    broadcast.follow(EXPERIMENTS_CHANNEL, reload_experiments)
    keys = KeyRing.from_settings(store, settings.api)
    keys.on_change = lambda: broadcast.changed(KEYS_CHANNEL)  # a key revoked through one is refused by all
    broadcast.follow(KEYS_CHANNEL, keys.reload)
    consent = ConsentBook.from_store(store, settings.privacy.default_consent)  # followed by the follower
    feedback = FeedbackLoop(
        store,
        settings,
        None,
        caches,
        impressions,
        lambda: holder[0].pipelines() if holder else [],
        write_lock,
        metrics,
    )
    serving = Serving(
        user_key=feedback.user_key,
        recommender=lambda arm: arm_pipelines.get("recommend", arm),
        search=lambda arm: arm_pipelines.get("search", arm),
        experiments=experiments,
        caches=caches,
        impressions=impressions,
        metrics=metrics,
        online=online,
        consent=consent,
    )
    services = Services(
        settings=settings,
        store=store,
        online=online,
        metrics=metrics,
        keys=keys,
        limiter=OnlineLimiter(online, settings.api.rate_limit.burst_seconds),
        caches=caches,
        write_lock=write_lock,
        impressions=impressions,
        experiments=experiments,
        feedback=feedback,
        serving=serving,
        arm_pipelines=arm_pipelines,
        item_facts=item_facts(store),
        components={
            "store": "ok",
            "online_state": online.health(),
            "profiles": "loading",
            "recommender": "loading",
            "search": "loading",
        },
        consent=consent,
    )
    feedback.online = online
    holder.append(services)
    return services


def item_facts(store: Any) -> dict[str, tuple[Any, ...]]:
    """``item_id -> (title, brand, category, price)`` for enriching responses."""
    table = store.read_items(["item_id", "title", "brand", "category", "price"])
    cols = [table.column(c).to_pylist() for c in ("item_id", "title", "brand", "category", "price")]
    return {i: (t, b, c, p) for i, t, b, c, p in zip(*cols, strict=True)}


def load(services: Services, *, follow: bool = True) -> None:
    """Open profiles and pipelines (slow), catch them up with the store, start the background writer and the
    follower thread (``follow=False``: made but not started; call ``services.follower.poll()``); sets
    ``services.ready`` when every installed part loaded."""
    started = time.perf_counter()
    settings, store = services.settings, services.store
    versions = store.artifacts.current_versions()  # before loading: a version written meanwhile is reloaded
    try:
        from shelfwise.profiles.pipeline import open_profiles

        services.profiles = open_profiles(store, settings, services.consent)
        services.feedback.profiles = services.profiles
        services.components["profiles"] = "ok"
    except Exception as exc:
        log.exception("profiles failed to load")
        services.components["profiles"] = f"failed: {exc}"
    for kind, module, attr in (
        ("recommend", "shelfwise.recommend", "recommender"),
        ("search", "shelfwise.search", "search"),
    ):
        if not _installed(module) or not _has_loader(module, kind):
            services.components[attr] = "missing"
            continue
        try:
            setattr(services, attr, _load_pipeline(kind, store, settings))
            services.components[attr] = "ok"
        except Exception as exc:
            log.error("%s failed to load: %s", attr, exc)
            services.components[attr] = f"failed: {exc}"
    if services.consent is not None:  # live events feed shared statistics only with training consent
        for pipeline in (services.recommender, services.search):
            if pipeline is not None and hasattr(pipeline, "trainable"):
                pipeline.trainable = services.consent.gate("training")
    try:
        with services.write_lock:
            catch_up_on_start(services)
        services.components["store_sync"] = "ok"
    except Exception as exc:
        log.exception("catching up with the store failed")
        services.components["store_sync"] = f"failed: catching up with the store: {exc}"
    warm_up(services)
    services.feedback.start(settings.api.impression_flush_seconds)
    follower = Follower(services, settings.api.follow_seconds)
    services.follower = follower
    services.feedback.follower = follower  # so it skips what this process wrote and applied itself
    watch = ArtifactWatch(
        services, lambda kind: _load_pipeline(kind, store, settings), settings.api.follow_seconds, versions
    )
    services.artifact_watch = watch  # hot reload: new artifact versions are loaded and swapped in
    if follow:
        follower.start()
        watch.start()
    services.purge = PurgeSchedule(store, settings.privacy.retention_days, settings.privacy.purge_every_hours)
    services.purge.start()  # retention (privacy/retention.py): the first purge one interval after start
    services.ready = all(v in ("ok", "missing") for v in services.components.values())
    services.metrics.ready.set(1 if services.ready else 0)
    log.info("service loaded in %.1fs: %s", time.perf_counter() - started, services.components)


def stop(services: Services) -> None:
    """Stop the artifact watch, the follower and the background writer, flush what is left, release the
    ingestor."""
    if services.artifact_watch is not None:
        services.artifact_watch.stop()
    if services.follower is not None:
        services.follower.stop()
    if services.purge is not None:
        services.purge.stop()
    services.feedback.stop()
    services.feedback.close()
    services.online.close()


def warm_up(state: Services) -> None:
    """One throw-away request per pipeline (first calls load lazy parts, e.g. the query encoder's session),
    so the first shopper does not pay for it. Nothing is logged or cached."""
    started = time.perf_counter()
    try:
        if state.recommender is not None:
            from shelfwise.recommend import RecommendRequest

            state.recommender.recommend(RecommendRequest(user_id=None, k=10))
        if state.search is not None:
            from shelfwise.search import SearchRequest

            state.search.search(SearchRequest(query="warm up query", k=10))
    except Exception as exc:  # a warm-up failure is not fatal; the real request will report it
        log.warning("warm-up request failed: %s", exc)
    log.info("warm-up requests took %.2fs", time.perf_counter() - started)


def _has_loader(module: str, kind: str) -> bool:
    """True when the pipeline package exposes its class (it may exist half-built while being written)."""
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        log.warning("cannot import %s: %s", module, exc)
        return False
    return hasattr(mod, "Recommender" if kind == "recommend" else "SearchPipeline")
