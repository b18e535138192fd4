"""The served recommender: one object for the CLI, the HTTP API and the evaluation harness's pipeline.

::

    rec = Recommender.load(store, settings)          # the newest trained artifact, loaded once
    resp = rec.recommend(RecommendRequest(user_id="u1", slot="home", k=10))
    rec.observe([{"user_id": "u1", "item_id": "B0001", "event_type": "view", "timestamp": ...}])
    rec.upsert_items([{"item_id": "NEW1", "title": "...", "available": True}])

A request runs the same :class:`~shelfwise.recommend.pipeline.ShelfwisePipeline` as ``shelfwise evaluate
--models shelfwise`` (sources -> ranker), then the re-ranker (``rerank.*``, per-request overrides) which
writes each item's reason from how it was produced. Shop filters (out of stock, deleted, already
bought, cart, already shown) are applied as exclusions before the sources propose anything.

What is served when the personal pipeline has nothing to go on (``response.fallback``):

* ``"popular"``: no usable history (unknown user, anonymous without a cart): the fallback source's list.
* ``"session"``: an anonymous shopper (or one with no history) with items in the cart: the cart stands in
  for the history.

Per-request work is bounded: each source proposes ``k_per_source`` items, the ranker scores their union
(a few hundred rows), the re-ranker orders the best ``rerank_candidates``.
"""

from __future__ import annotations

import logging
import numbers
import threading
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from shelfwise.config import Settings
from shelfwise.ranking.events import TYPE_INDEX, StateEvent
from shelfwise.recommend.artifact import LoadedArtifact, load_pipeline
from shelfwise.recommend.catalog import ServingCatalog
from shelfwise.recommend.pipeline import ShelfwisePipeline, make_context, source_hits
from shelfwise.recommend.types import RecommendedItem, RecommendRequest, RecommendResponse
from shelfwise.rerank import CandidateList, RankedList, RerankPipeline, SourceHit
from shelfwise.rerank import UserContext as RerankContext
from shelfwise.rerank.exposure import LiveExposure
from shelfwise.storage import Store

__all__ = ["Recommender"]

log = logging.getLogger(__name__)

_EMPTY = np.zeros(0, dtype=np.int32)
_BUY = TYPE_INDEX["purchase"]
_ITEM_COLUMNS = ["item_id", "title", "category", "brand", "price", "available"]


def _seconds(value: Any) -> float:
    """Unix seconds of a timestamp given as a number, a string or a datetime."""
    if value is None:
        return float(pd.Timestamp.now(tz="UTC").timestamp())
    if isinstance(value, numbers.Real):
        return float(value)
    ts = pd.Timestamp(value)
    return float((ts if ts.tzinfo else ts.tz_localize("UTC")).timestamp())


class Recommender:
    """The trained pipeline with the shop's live state (histories, catalogue).

    Build it with :meth:`load`. Methods are safe to call from several threads (one lock around state
    changes and requests).
    """

    name = "shelfwise"

    def __init__(self, loaded: LoadedArtifact, catalog: ServingCatalog, settings: Settings) -> None:
        self.settings = settings
        self.pipeline: ShelfwisePipeline = loaded.pipeline
        self.version = loaded.artifact.version
        self.meta = loaded.meta
        self.catalog = catalog
        self.users: dict[str, int] = {u: k for k, u in enumerate(loaded.user_ids)}
        self.histories: list[np.ndarray] = loaded.histories
        self._new_purchases: dict[int, set[int]] = {}
        self._lock = threading.RLock()
        self._fallback = self.pipeline.source(settings.recommend.fallback)
        self.exposure = LiveExposure(settings.rerank.exposure_half_life)  # per slot, for method coverage
        # one request = a few hundred rows: LightGBM's threads would only wait for each other
        self.pipeline.ranker.model.config.num_threads = 1
        state = self.pipeline.ranker.state
        if state is not None:
            catalog.apply_to(state.attributes)

    @classmethod
    def load(cls, store: Store, settings: Settings, version: int | None = None) -> Recommender:
        """Load the newest (or a given) trained artifact of ``store`` and its current catalogue.

        Raises:
            NotTrainedError: the store has no trained recommender (run ``shelfwise train``).
        """
        loaded = load_pipeline(store.artifacts, settings, version)
        rows = store.read_items()
        rows = rows.select([c for c in _ITEM_COLUMNS if c in rows.column_names])
        catalog = ServingCatalog(loaded.item_ids, rows)
        log.info(
            "recommender v%d: %d users, %d items (%d added since training)",
            loaded.artifact.version,
            len(loaded.user_ids),
            len(catalog),
            len(catalog) - catalog.n_trained,
        )
        return cls(loaded, catalog, settings)

    # ------------------------------------------------------------------ requests

    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        """The list for one request (see the module doc)."""
        with self._lock:
            return self._recommend(request)

    def _recommend(self, req: RecommendRequest) -> RecommendResponse:
        cfg = self.settings.recommend
        cat = self.catalog
        user = self.users.get(req.user_id) if req.user_id is not None else None
        history = self.histories[user] if user is not None else _EMPTY
        cart, shown = cat.encode(req.cart), cat.encode(req.shown)
        anchor = cat.encode([req.item_id]) if req.item_id else _EMPTY
        fallback: str | None = None
        if req.slot in ("similar", "bought_together"):
            base = anchor
        elif req.slot == "cart":
            base = np.concatenate([history, cart])
        else:
            base = history
        if not base.size and cart.size:
            base, fallback = cart, "session"
        blocked = [cat.blocked(cfg.exclude_out_of_stock), cat.encode(req.exclude), shown, cart, anchor]
        if user is not None and cfg.exclude_purchased:
            blocked.append(self._purchased(user))
        exclude = np.unique(np.concatenate(blocked)).astype(np.int32)
        n_trained = cat.n_trained
        trained_base = base[base < n_trained]
        personal = req.slot in ("home", "cart") and user is not None
        context = make_context(
            user if personal and user is not None else -1,
            trained_base,
            cfg.max_history,
            exclude[exclude < n_trained],
        )
        top = max(cfg.rerank_candidates, req.k)
        if trained_base.size:
            ranked = self.pipeline.rank(context)
            items, scores = ranked.items[:top], ranked.scores[:top]
            hits = source_hits(ranked, top)
        else:
            fallback = fallback or self.settings.recommend.fallback
            items, scores, hits = self._fallback_list(context, top)
        items, scores, hits = self._add_new_items(items, scores, hits, base, exclude)
        if items.size < req.k:  # a small shop or heavy filters: fill from the fallback source
            extra_items, _, extra_hits = self._fallback_list(
                make_context(-1, _EMPTY, 1, np.concatenate([exclude, items])), req.k - items.size
            )
            floor = float(scores.min()) - 1.0 if scores.size else 0.0
            items = np.concatenate([items, extra_items])
            scores = np.concatenate([scores, floor - np.arange(extra_items.size, dtype=np.float32)])
            hits = hits + extra_hits
        ranked_list = self._rerank(req, items, scores, hits, base, shown)
        return RecommendResponse(
            items=[self._item(r, base) for r in ranked_list],
            user_id=req.user_id,
            slot=req.slot,
            model=self.name,
            version=self.version,
            fallback=fallback,
        )

    def _fallback_list(
        self, context: Any, k: int
    ) -> tuple[np.ndarray, np.ndarray, tuple[tuple[SourceHit, ...], ...]]:
        c = self._fallback.candidates(context, k)
        hits = tuple((SourceHit(c.source, float(s), "popularity"),) for s in c.scores)
        return c.items.astype(np.int32), c.scores.astype(np.float32), hits

    def _add_new_items(
        self,
        items: np.ndarray,
        scores: np.ndarray,
        hits: tuple[tuple[SourceHit, ...], ...],
        base: np.ndarray,
        exclude: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, tuple[tuple[SourceHit, ...], ...]]:
        """Items added since training, by attribute similarity to the request's items (``new_items.*``)."""
        cfg = self.settings.recommend.new_items
        fresh = self.catalog.new_items()
        fresh = fresh[~np.isin(fresh, exclude) & ~np.isin(fresh, items)]
        if not fresh.size or not base.size or cfg.max_per_list == 0:
            return items, scores, hits
        sim = self.catalog.similarity(fresh, np.unique(base[-10:]))
        order = np.argsort(-sim, kind="stable")[: cfg.max_per_list]
        order = order[sim[order] >= cfg.min_similarity]
        if not order.size:
            return items, scores, hits
        lo, hi = (float(scores.min()), float(scores.max())) if scores.size else (0.0, 1.0)
        new_scores = (lo + sim[order] * (hi - lo)).astype(np.float32)
        new_hits = tuple((SourceHit("new_items", float(s), "content"),) for s in sim[order])
        return (
            np.concatenate([items, fresh[order]]).astype(np.int32),
            np.concatenate([scores, new_scores]),
            hits + new_hits,
        )

    def _rerank(
        self,
        req: RecommendRequest,
        items: np.ndarray,
        scores: np.ndarray,
        hits: tuple[tuple[SourceHit, ...], ...],
        base: np.ndarray,
        shown: np.ndarray,
    ) -> RankedList:
        cfg = self.settings.rerank
        knobs = {k: v for k, v in (("diversity", req.diversity), ("method", req.method)) if v is not None}
        if knobs:
            cfg = cfg.with_knob(**knobs)
        seed = zlib.crc32(f"{req.user_id}|{req.slot}|{req.item_id}".encode())
        context = RerankContext(history=np.unique(base), session_shown=shown, seed=seed)
        cands = CandidateList(items, scores, self.catalog.rerank_catalog(), context, hits)
        n_items = len(self.catalog)
        counter = self.exposure.counter(req.slot, n_items) if RerankPipeline.uses_exposure(cfg) else None
        ranked = RerankPipeline(cfg).rerank(cands, req.k, config=cfg, exposure=counter)
        self.exposure.record(req.slot, ranked.indices(), n_items)
        return ranked

    def _item(self, r: Any, base: np.ndarray) -> RecommendedItem:
        bd = dict(r.breakdown)
        ids = self.catalog.ids
        sources = []
        for s in bd.get("sources", []):
            if "anchor" in s:
                s["anchor"] = ids[int(s["anchor"])]
            sources.append(s["name"])
        for c in bd.get("claims", []):
            if "anchor" in c:
                c["anchor"] = ids[int(c["anchor"])]
        return RecommendedItem(ids[r.item], round(float(r.score), 6), r.reason, sources, bd)

    def _purchased(self, user: int) -> np.ndarray:
        """int32 items the user bought (trained items from the feature state, later ones from ``observe``)."""
        found = list(self._new_purchases.get(user, ()))
        state = self.pipeline.ranker.state
        if state is not None and user < state.funnel.n_users:
            mine = state.funnel.user_items(user)
            if mine.size:
                counts, _, _ = state.funnel.lookup(user, mine)
                found += mine[counts[:, _BUY] > 0].tolist()
        return np.asarray(found, dtype=np.int32)

    # ------------------------------------------------------------------ live updates

    def observe(self, events: Iterable[dict[str, Any]]) -> int:
        """Add events to the shoppers' histories and the ranker's state; the next request sees them.

        Each event is a row like the store's events table: ``user_id``, ``item_id``, ``type`` (or
        ``event_type``), ``timestamp`` (Unix seconds, ISO text or datetime; default now), ``value``.
        Events of unknown items or without an item are skipped.

        Returns:
            How many events were applied.
        """
        applied = 0
        with self._lock:
            state = self.pipeline.ranker.state
            for e in sorted(events, key=lambda e: _seconds(e.get("timestamp"))):
                item = self.catalog.index.get(str(e.get("item_id")))
                kind = str(e.get("type") or e.get("event_type") or "view")
                if item is None or e.get("user_id") is None or kind not in TYPE_INDEX:
                    continue
                user = self._user(str(e["user_id"]))
                self.histories[user] = np.append(self.histories[user], np.int32(item))
                t = _seconds(e.get("timestamp"))
                value = e.get("value")
                if state is not None and item < self.catalog.n_trained:
                    state.update(StateEvent(user, item, kind, t, None if value is None else float(value)))
                elif kind == "purchase":
                    self._new_purchases.setdefault(user, set()).add(item)
                applied += 1
        return applied

    def _user(self, user_id: str) -> int:
        k = self.users.get(user_id)
        if k is None:
            k = len(self.histories)
            self.users[user_id] = k
            self.histories.append(_EMPTY.copy())
        return k

    def upsert_items(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add or change catalogue items (new ones are served at once; price and stock changes apply)."""
        with self._lock:
            touched = self.catalog.upsert(rows)
            state = self.pipeline.ranker.state
            if state is not None:
                self.catalog.apply_to(state.attributes)
            return len(touched)

    def delete_items(self, ids: Iterable[str]) -> int:
        """Remove items from the catalogue (never served again)."""
        with self._lock:
            return len(self.catalog.delete(ids))

    def forget_user(self, user_id: str) -> bool:
        """Drop everything held in memory about a shopper (history, per-user feature state, purchases)."""
        with self._lock:
            user = self.users.pop(user_id, None)
            if user is None:
                return False
            self.histories[user] = _EMPTY.copy()
            self._new_purchases.pop(user, None)
            state = self.pipeline.ranker.state
            if state is not None:
                _forget_state(state, user)
            return True

    def info(self) -> dict[str, Any]:
        """What is served (for health / status endpoints)."""
        return {
            "model": self.name,
            "version": self.version,
            "sources": list(self.pipeline.names),
            "users": len(self.users),
            "items": len(self.catalog),
            "items_added_since_training": len(self.catalog) - self.catalog.n_trained,
        }


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
