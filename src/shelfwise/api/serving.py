"""Recommend and search as the service does it: experiment arm, cache, the pipeline, the impression log.

Both the HTTP routes and the web pages call :class:`Serving` with the pipelines' own request objects
(:class:`shelfwise.recommend.RecommendRequest`, :class:`shelfwise.search.SearchRequest`) carrying the
shopper's id as the shop knows it; :class:`Serving` maps it to the store's key (pseudonym), picks the
experiment arm, answers from the cache or the pipeline, and logs what was shown under the current request id.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shelfwise.api.cache import ResponseCaches
from shelfwise.api.impressions import ImpressionLog
from shelfwise.api.request_id import impression_id
from shelfwise.experiments.registry import Arm, ExperimentRegistry
from shelfwise.online import OnlineState

log = logging.getLogger(__name__)


class NotAvailable(RuntimeError):
    """A pipeline is not loaded; the message says why and what to run."""


@dataclass(frozen=True)
class Served:
    """A pipeline response with the request id its impression was logged under; ``personalised`` says
    whether the shopper's history was used, ``note`` why not when it was not."""

    response: Any
    request_id: str
    arm: str | None
    cached: bool
    personalised: bool = False
    note: str | None = None


NO_CONSENT = "the shopper has not consented to personalisation: answered as for an anonymous shopper"


def _with(req: Any, **changes: Any) -> Any:
    """A copy of a request object with some fields changed (dataclass or pydantic)."""
    if dataclasses.is_dataclass(req):
        return dataclasses.replace(req, **changes)  # type: ignore[type-var]
    return req.model_copy(update=changes)


def _fields(req: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(req):
        return {f.name: getattr(req, f.name) for f in dataclasses.fields(req)}
    return dict(req.model_dump())


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set)):
        return tuple(_freeze(v) for v in value)
    return value


class Serving:
    """The serving path shared by routes and pages.

    Args:
        user_key: maps a shop's user id to the store's key.
        recommender: returns the recommender for an arm (None arm = default), or None when not loaded.
        search: returns the search pipeline for an arm, or None.
        experiments: the experiment registry.
        caches: response caches.
        impressions: the impression log.
        metrics: Prometheus collectors (optional).
        online: the online state, for exposure counters (optional): ``exposures:<surface>``,
            ``exposures:item:<item_id>`` and ``exposures:arm:<experiment>:<variant>``.
        consent: the shoppers' consent (:class:`~shelfwise.privacy.consent.ConsentBook`, optional): without
            personalisation consent a request is answered as an anonymous one; without analytics consent no
            experiment arm is assigned and the impression is logged without the shopper's key.
    """

    def __init__(
        self,
        user_key: Callable[[str], str],
        recommender: Callable[[Arm | None], Any],
        search: Callable[[Arm | None], Any],
        experiments: ExperimentRegistry,
        caches: ResponseCaches,
        impressions: ImpressionLog,
        metrics: Any = None,
        online: OnlineState | None = None,
        consent: Any = None,
    ) -> None:
        self.user_key = user_key
        self._recommender = recommender
        self._search = search
        self.experiments = experiments
        self.caches = caches
        self.impressions = impressions
        self.metrics = metrics
        self.online = online
        self.consent = consent

    # -- recommendations ---------------------------------------------------------------------------
    def recommend(self, request: Any) -> Served:
        """Recommendations for ``request`` (a :class:`RecommendRequest` with the shop's user id)."""
        request, key, arm = self._prepare(request, "recommend", getattr(request, "slot", None))
        pipeline = self._recommender(arm)
        if pipeline is None:
            raise NotAvailable("the recommender is not loaded (train it: `shelfwise train --store DIR`)")
        if self.online is not None and getattr(pipeline, "online", self.online) is None:
            pipeline.share_exposure(self.online)  # fair exposure counted across replicas
        label = arm.label if arm else None
        cache_key = ("recommend", label, _freeze(_fields(request)))
        owner = request.user_id
        response, cached = self._cached("recommend", cache_key, owner, lambda: pipeline.recommend(request))
        items = list(getattr(response, "items", []))
        context = {
            "surface": "recommend",
            "slot": getattr(request, "slot", None),
            "k": getattr(request, "k", None),
        }
        if getattr(request, "item_id", None):
            context["item_id"] = request.item_id
        served = self._log(response, key, label, context, items, cached, "recommend", arm)
        return self._personal(served, key, owner is not None)

    # -- search ------------------------------------------------------------------------------------
    def search(self, request: Any) -> Served:
        """Search results for ``request`` (a :class:`SearchRequest` with the shop's user id, if any)."""
        request, key, arm = self._prepare(request, "search", None)
        pipeline = self._search(arm)
        if pipeline is None:
            raise NotAvailable("search is not loaded (build the indexes: `shelfwise build --store DIR`)")
        label = arm.label if arm else None
        fields = _fields(request)
        personal = bool(fields.get("personalise", True)) and request.user_id is not None
        if not personal:
            fields["user_id"] = None
        cache_key = ("search", label, _freeze(fields))
        response, cached = self._cached(
            "search", cache_key, key if personal else None, lambda: pipeline.search(request)
        )
        hits = list(getattr(response, "results", []))
        context = {
            "surface": "search",
            "query": getattr(request, "query", None),
            "offset": getattr(request, "offset", 0),
        }
        served = self._log(response, key, label, context, hits, cached, "search", arm)
        return self._personal(served, key, personal)

    # -- shared ------------------------------------------------------------------------------------
    def _allows(self, key: str | None, flag: str) -> bool:
        return key is not None and (self.consent is None or bool(self.consent.allows(key, flag)))

    def _personal(self, served: Served, key: str | None, personal: bool) -> Served:
        note = None if personal or key is None or self._allows(key, "personalisation") else NO_CONSENT
        return dataclasses.replace(served, personalised=personal, note=note)

    def _prepare(self, request: Any, surface: str, slot: str | None) -> tuple[Any, str | None, Arm | None]:
        """The request with the store's user key (None without personalisation consent) and the arm's
        parameters; the key; the arm (none without analytics consent)."""
        raw_user = getattr(request, "user_id", None)
        key = self.user_key(raw_user) if raw_user else None
        counted = key is None or self._allows(key, "analytics")
        arm = self.experiments.arm_for(key, surface, slot) if counted else None
        changes: dict[str, Any] = {"user_id": key if self._allows(key, "personalisation") else None}
        if arm is not None:
            changes.update(arm.variant.params)
        return _with(request, **changes), key, arm

    def _cached(
        self, cache: str, cache_key: Any, owner: str | None, compute: Callable[[], Any]
    ) -> tuple[Any, bool]:
        hit = self.caches.get(cache, cache_key)
        if hit is not None:
            if self.metrics is not None:
                self.metrics.cache.labels(cache, "hit").inc()
            return hit, True
        generation = self.caches.generation(owner)
        response = compute()
        self.caches.put(cache, cache_key, response, owner=owner, generation=generation)
        if self.metrics is not None:
            self.metrics.cache.labels(cache, "miss").inc()
        return response, False

    def _log(
        self,
        response: Any,
        key: str | None,
        label: str | None,
        context: dict[str, Any],
        items: list[Any],
        cached: bool,
        surface: str,
        arm: Arm | None,
    ) -> Served:
        request_id = impression_id()
        if key is not None and not self._allows(key, "analytics"):
            key = None  # not counted in analytics: the impression is logged without the shopper
        self.impressions.log(
            request_id, key, context, [str(i.item_id) for i in items], [float(i.score) for i in items], label
        )
        if self.online is not None:
            counts = {f"exposures:{surface}": 1, **{f"exposures:item:{i.item_id}": 1 for i in items}}
            if arm is not None:
                counts[f"exposures:arm:{arm.experiment.name}:{arm.variant.name}"] = 1
            self.online.incr_many(counts)
        if self.metrics is not None:
            self.metrics.impressions.labels(surface).inc()
            if arm is not None:
                self.metrics.exposures.labels(arm.experiment.name, arm.variant.name).inc()
            if getattr(response, "fallback", None):
                self.metrics.fallbacks.labels(surface).inc()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s: %d results%s", surface, request_id, len(items), " (cached)" if cached else "")
        return Served(response, request_id, label, cached)
