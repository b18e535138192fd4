"""What the service holds and how it is loaded: cheap parts at app creation, pipelines in the background.

:func:`attach` puts the cheap objects on ``app.state`` (store, keys, caches, experiments...); :func:`load`
(run by the lifespan in a thread, so ``/health/live`` answers while it works) opens the profiles and the
pipelines and sets ``app.state.ready``. A pipeline package that is not installed is reported as
``missing``; one that fails to load (e.g. no artifacts yet) as ``failed: <reason>`` and keeps the service
not ready, since serving without it would be serving something else than was evaluated.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from typing import Any

from shelfwise.api.auth import KeyRing, new_limiter
from shelfwise.api.cache import ResponseCaches
from shelfwise.api.feedback import FeedbackLoop
from shelfwise.api.impressions import ImpressionLog
from shelfwise.api.metrics import Metrics
from shelfwise.api.serving import Serving
from shelfwise.config import Settings, SettingsError, parse_overrides
from shelfwise.experiments.registry import Arm, ExperimentRegistry

log = logging.getLogger(__name__)


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
    (loaded on the first request of that arm, then kept)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._by_arm: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, arm: Arm | None) -> Any:
        default = getattr(self.state, "recommender" if kind == "recommend" else "search", None)
        if arm is None or not arm.variant.overrides or default is None:
            return default
        key = (kind, arm.experiment.name, arm.variant.name)
        with self._lock:
            if key not in self._by_arm:
                settings = arm_settings(self.state.settings, arm.variant.overrides)
                self._by_arm[key] = _load_pipeline(kind, self.state.store, settings)
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


def attach(state: Any, settings: Settings, store: Any) -> None:
    """Put the cheap objects on ``state`` (see :mod:`shelfwise.api` for the names)."""
    state.settings = settings
    state.store = store
    state.ready = False
    state.components = {"store": "ok", "profiles": "loading", "recommender": "loading", "search": "loading"}
    state.metrics = Metrics()
    state.keys = KeyRing.from_settings(store, settings.api)
    state.limiter = new_limiter(settings.api)
    state.caches = ResponseCaches(settings.api.cache.ttl_seconds, settings.api.cache.max_entries)
    state.write_lock = threading.RLock()
    state.impressions = ImpressionLog(store, state.write_lock)
    state.profiles = None
    state.recommender = None
    state.search = None
    state.arm_pipelines = ArmPipelines(state)

    def on_experiments_change() -> None:
        state.caches.invalidate_all()
        state.arm_pipelines.clear()
        if state.ready:  # load arms with settings overrides now rather than on their first request
            threading.Thread(
                target=state.arm_pipelines.preload, args=(state.experiments,), daemon=True
            ).start()

    state.experiments = ExperimentRegistry(store, on_change=on_experiments_change)

    def pipelines() -> list[Any]:
        return [p for p in (state.recommender, state.search, *state.arm_pipelines.loaded()) if p is not None]

    state.feedback = FeedbackLoop(
        store, settings, None, state.caches, state.impressions, pipelines, state.write_lock, state.metrics
    )
    state.ingestor = state.feedback.ingestor
    state.serving = Serving(
        user_key=state.feedback.user_key,
        recommender=lambda arm: state.arm_pipelines.get("recommend", arm),
        search=lambda arm: state.arm_pipelines.get("search", arm),
        experiments=state.experiments,
        caches=state.caches,
        impressions=state.impressions,
        metrics=state.metrics,
    )
    state.item_facts = item_facts(store)


def item_facts(store: Any) -> dict[str, tuple[Any, ...]]:
    """``item_id -> (title, brand, category, price)`` for enriching responses."""
    table = store.read_items(["item_id", "title", "brand", "category", "price"])
    cols = [table.column(c).to_pylist() for c in ("item_id", "title", "brand", "category", "price")]
    return {i: (t, b, c, p) for i, t, b, c, p in zip(*cols, strict=True)}


def load(state: Any) -> None:
    """Open profiles and pipelines (slow); sets ``state.ready`` when every installed part loaded."""
    started = time.perf_counter()
    settings, store = state.settings, state.store
    try:
        from shelfwise.profiles.pipeline import open_profiles

        state.profiles = open_profiles(store, settings)
        state.feedback.profiles = state.profiles
        state.components["profiles"] = "ok"
    except Exception as exc:
        log.exception("profiles failed to load")
        state.components["profiles"] = f"failed: {exc}"
    for kind, module, attr in (
        ("recommend", "shelfwise.recommend", "recommender"),
        ("search", "shelfwise.search", "search"),
    ):
        if not _installed(module) or not _has_loader(module, kind):
            state.components[attr] = "missing"
            continue
        try:
            setattr(state, attr, _load_pipeline(kind, store, settings))
            state.components[attr] = "ok"
        except Exception as exc:
            log.error("%s failed to load: %s", attr, exc)
            state.components[attr] = f"failed: {exc}"
    warm_up(state)
    state.feedback.start(settings.api.impression_flush_seconds)
    state.ready = all(v in ("ok", "missing") for v in state.components.values())
    state.metrics.ready.set(1 if state.ready else 0)
    log.info("service loaded in %.1fs: %s", time.perf_counter() - started, state.components)


def warm_up(state: Any) -> None:
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
