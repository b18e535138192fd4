"""The served recommender: one object for the CLI, the HTTP API and the evaluation harness's pipeline.

::

    rec = Recommender.load(store, settings)          # the newest trained artifact, loaded once
    resp = rec.recommend(RecommendRequest(user_id="u1", slot="home", k=10))
    rec.observe([{"user_id": "u1", "item_id": "B0001", "event_type": "view", "timestamp": ...}])
    rec.upsert_items([{"item_id": "NEW1", "title": "...", "available": True}])
    rec.catch_up(store)     # events / catalogue changes / deletions stored since (load does it once)
    receipt = rec.forget_user("u1")                   # live state and every artifact version on disk

State: the artifact's manifest names the store state it was trained on (``event_seq``, ``catalogue_seq``,
``deletion_seq``); :meth:`Recommender.catch_up` replays what came after. Requests read one immutable
:class:`~shelfwise.recommend.live.LiveState` snapshot and take no lock; the writers
(:mod:`shelfwise.recommend.writers`) build the next snapshot and swap it in.

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
import threading
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from shelfwise.config import Settings
from shelfwise.ranking.events import TYPE_INDEX
from shelfwise.recommend.applied import AppliedEvents
from shelfwise.recommend.artifact import LoadedArtifact, load_pipeline
from shelfwise.recommend.catalog import ServingCatalog
from shelfwise.recommend.live import LiveState
from shelfwise.recommend.merchandising import RuleBook
from shelfwise.recommend.pipeline import ShelfwisePipeline, make_context, source_hits
from shelfwise.recommend.related import RelatedItems, similar_reason, together_reason
from shelfwise.recommend.types import RecommendedItem, RecommendRequest, RecommendResponse
from shelfwise.recommend.writers import ITEM_COLUMNS, LiveWriter
from shelfwise.rerank import CandidateList, RankedList, RerankPipeline, SourceHit
from shelfwise.rerank import UserContext as RerankContext
from shelfwise.rerank.explain import render
from shelfwise.rerank.exposure import ExposureCounter
from shelfwise.rerank.fair import BrandLedger, LiveFairExposure
from shelfwise.rerank.fair_shared import SharedFairLedger
from shelfwise.storage import ArtifactStore, Store

__all__ = ["Recommender"]

log = logging.getLogger(__name__)

_EMPTY = np.zeros(0, dtype=np.int32)
_BUY = TYPE_INDEX["purchase"]
_CART = TYPE_INDEX["add_to_cart"]
_ITEM_COLUMNS = ITEM_COLUMNS


class Recommender(LiveWriter):
    """The trained pipeline with the shop's live state (histories, catalogue).

    Build it with :meth:`load`. Requests take no lock: each reads one immutable :class:`LiveState`
    snapshot; writers (:meth:`observe`, :meth:`upsert_items`, :meth:`delete_items`, :meth:`forget_user`,
    :meth:`catch_up`) are serialised by a writer lock and publish the next snapshot in one assignment.
    The ranker's feature state is the one structure still changed in place (by writers only).
    """

    name = "shelfwise"

    def __init__(
        self,
        loaded: LoadedArtifact,
        catalog: ServingCatalog,
        settings: Settings,
        *,
        artifacts: ArtifactStore | None = None,
        catalogue_seq: int | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline: ShelfwisePipeline = loaded.pipeline
        self.version = loaded.artifact.version
        self.meta = loaded.meta
        self.artifacts = artifacts
        self.live = LiveState(
            {u: k for k, u in enumerate(loaded.user_ids) if u},  # "" = a shopper forgotten in the artifact
            list(loaded.histories),
            {},
            catalog,
        )
        cursors = loaded.cursors
        self.cursors = cursors
        self._applied = AppliedEvents(cursors.event_seq)
        self._events_after = cursors.events_after
        self._catalogue_seq = cursors.catalogue_seq if catalogue_seq is None else catalogue_seq
        self._deletion_seq = cursors.deletion_seq
        self._write_lock = threading.RLock()  # serialises writers only; requests never take it
        self._catch_up_lock = threading.Lock()
        self._exposure_lock = threading.Lock()  # held only while one served list is counted
        self._fallback = self.pipeline.source(settings.recommend.fallback)
        # per slot, for methods coverage and fair_exposure (in this process; see share_exposure)
        self.exposure = LiveFairExposure(settings.rerank.exposure_half_life)
        self.online: Any = None  # the service's OnlineState: fair exposure shared by every replica
        # the shop's managed rules (set by load: they live in the store)
        self.rulebook: RuleBook | None = None
        self.related: RelatedItems | None = None  # the product page's evidence (set by :meth:`load`)
        # one request = a few hundred rows: LightGBM's threads would only wait for each other
        self.pipeline.ranker.model.config.num_threads = 1
        state = self.pipeline.ranker.state
        if state is not None:
            catalog.apply_to(state.attributes)

    # snapshot views (each call reads the current snapshot; hold one snapshot for consistent reads)
    @property
    def users(self) -> Mapping[str, int]:
        """External user id -> dense user index (current snapshot)."""
        return self.live.users

    @property
    def histories(self) -> list[np.ndarray]:
        """Per user index, int32 items in time order (current snapshot)."""
        return self.live.histories

    @property
    def catalog(self) -> ServingCatalog:
        """The serving catalogue (current snapshot)."""
        return self.live.catalog

    @classmethod
    def load(
        cls, store: Store, settings: Settings, version: int | None = None, *, catch_up: bool = True
    ) -> Recommender:
        """Load the newest (or a given) trained artifact of ``store`` and its current catalogue, then (by
        default) :meth:`catch_up` with the events, catalogue changes and deletions stored since training.

        Raises:
            NotTrainedError: the store has no trained recommender (run ``shelfwise train``).
        """
        loaded = load_pipeline(store.artifacts, settings, version)
        catalogue_seq = int(store.catalogue_seq())  # before reading: a racing change is replayed
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
        rec = cls(loaded, catalog, settings, artifacts=store.artifacts, catalogue_seq=catalogue_seq)
        rec.rulebook = RuleBook(store)
        rec.rulebook.rules()  # read now, while the store is surely open
        rec.related = RelatedItems.from_store(store, catalog, settings.profiles.session_gap_minutes)
        if catch_up:
            rec.catch_up(store)
        return rec

    def _observe(self, rows: list[Mapping[str, Any]]) -> int:
        """The writer's step (under its lock), then the same new events into the product page's counts."""
        seen: set[Any] = set()
        fresh = []
        for e in rows:  # what the writer will apply: not applied before, each event id once
            eid = e.get("event_id")
            if not self._applied.is_applied(e) and (eid is None or eid not in seen):
                fresh.append(e)
                seen.add(eid)
        applied = super()._observe(rows)
        if applied and self.related is not None:
            self.related.observe(fresh, self.live.catalog.index)
        return applied

    # ------------------------------------------------------------------ requests

    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        """The list for one request (see the module doc)."""
        return self._recommend(request, self.live)  # one snapshot for the whole request, no lock

    def _recommend(self, req: RecommendRequest, live: LiveState) -> RecommendResponse:
        cfg = self.settings.recommend
        cat = live.catalog
        user = live.users.get(req.user_id) if req.user_id is not None else None
        history = live.histories[user] if user is not None else _EMPTY
        cart, shown = cat.encode(req.cart), cat.encode(req.shown)
        anchor = cat.encode([req.item_id]) if req.item_id else _EMPTY
        if req.slot in ("similar", "bought_together") and anchor.size and self.related is not None:
            return self._related(req, live, int(anchor[0]), user)
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
            blocked.append(self._purchased(user, live))
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
        items, scores, hits = self._add_new_items(cat, items, scores, hits, base, exclude)
        if items.size < req.k:  # a small shop or heavy filters: fill from the fallback source
            extra_items, _, extra_hits = self._fallback_list(
                make_context(-1, _EMPTY, 1, np.concatenate([exclude, items])), req.k - items.size
            )
            floor = float(scores.min()) - 1.0 if scores.size else 0.0
            items = np.concatenate([items, extra_items])
            scores = np.concatenate([scores, floor - np.arange(extra_items.size, dtype=np.float32)])
            hits = hits + extra_hits
        ranked_list = self._rerank(cat, req, items, scores, hits, base, shown)
        relation = self._relation(live, user, cart)
        return RecommendResponse(
            items=[self._retold(self._item(cat, r), cat, relation) for r in ranked_list],
            user_id=req.user_id,
            slot=req.slot,
            model=self.name,
            version=self.version,
            fallback=fallback,
        )

    def _related(
        self, req: RecommendRequest, live: LiveState, anchor: int, user: int | None
    ) -> RecommendResponse:
        """``similar`` / ``bought_together`` from their own evidence (:mod:`shelfwise.recommend.related`),
        then the re-ranker's rules; each item's reason states the evidence (never "you viewed")."""
        cfg, cat, related = self.settings.recommend, live.catalog, self.related
        assert related is not None
        shown, cart = cat.encode(req.shown), cat.encode(req.cart)
        blocked = [cat.blocked(cfg.exclude_out_of_stock), cat.encode(req.exclude), shown, cart]
        if user is not None and cfg.exclude_purchased:
            blocked.append(self._purchased(user, live))
        exclude = np.unique(np.concatenate(blocked)).astype(np.int32)
        top = max(min(cfg.rerank_candidates, 4 * req.k, 100), req.k)  # room for rules; each one explained
        facts: dict[int, tuple[str, dict[str, Any]]] = {}
        if req.slot == "bought_together":
            for t in related.together(anchor, top, exclude):
                claim = {
                    "claim": "bought_together",
                    "bought": t.bought,
                    "carted": t.carted,
                    "visits": t.visits,
                }
                facts[t.item] = (together_reason(t), claim)
            scores = [float(c["bought"] + 0.5 * c["carted"] + 0.25 * c["visits"]) for _, c in facts.values()]
            kind = "item2item"
        else:
            for like in related.similar(anchor, cat, top, exclude):
                claim = {
                    "claim": "similar_item",
                    "score": like.score,
                    "shared_shoppers": like.shared_shoppers,
                }
                facts[like.item] = (similar_reason(like), claim)
            scores = [float(c["score"]) for _, c in facts.values()]
            kind = "content"
        items = np.asarray(list(facts), dtype=np.int32)
        score_arr = np.asarray(scores, dtype=np.float32)
        hits = tuple((SourceHit(req.slot, s, kind),) for s in scores)  # type: ignore[arg-type]
        ranked = self._rerank(cat, req, items, score_arr, hits, np.asarray([anchor], np.int32), shown)
        out = []
        for r in ranked:
            item = self._item(cat, r)
            fact = facts.get(int(r.item))
            if fact is not None:
                claims = [fact[1], *item.breakdown.get("claims", [])[1:]]
                tail = render(claims[1:], cat.name) if len(claims) > 1 else ""
                item.breakdown["claims"] = claims
                item = RecommendedItem(
                    item.item_id,
                    item.score,
                    fact[0] + ("; " + tail[:1].lower() + tail[1:] if tail else ""),
                    item.sources,
                    item.breakdown,
                )
            out.append(item)
        return RecommendResponse(
            items=out,
            user_id=req.user_id,
            slot=req.slot,
            model=self.name,
            version=self.version,
            fallback=None
            if facts
            else ("no_co_purchases" if req.slot == "bought_together" else "no_similar"),
        )

    def _fallback_list(
        self, context: Any, k: int
    ) -> tuple[np.ndarray, np.ndarray, tuple[tuple[SourceHit, ...], ...]]:
        c = self._fallback.candidates(context, k)
        hits = tuple((SourceHit(c.source, float(s), "popularity"),) for s in c.scores)
        return c.items.astype(np.int32), c.scores.astype(np.float32), hits

    def _add_new_items(
        self,
        cat: ServingCatalog,
        items: np.ndarray,
        scores: np.ndarray,
        hits: tuple[tuple[SourceHit, ...], ...],
        base: np.ndarray,
        exclude: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, tuple[tuple[SourceHit, ...], ...]]:
        """Items added since training, by attribute similarity to the request's items (``new_items.*``)."""
        cfg = self.settings.recommend.new_items
        fresh = cat.new_items()
        fresh = fresh[~np.isin(fresh, exclude) & ~np.isin(fresh, items)]
        if not fresh.size or not base.size or cfg.max_per_list == 0:
            return items, scores, hits
        sim = cat.similarity(fresh, np.unique(base[-10:]))
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
        cat: ServingCatalog,
        req: RecommendRequest,
        items: np.ndarray,
        scores: np.ndarray,
        hits: tuple[tuple[SourceHit, ...], ...],
        base: np.ndarray,
        shown: np.ndarray,
    ) -> RankedList:
        cfg = self.settings.rerank
        knobs = {k: v for k, v in (("diversity", req.diversity), ("method", req.method)) if v is not None}
        if req.fairness is not None and req.fairness != cfg.fairness:
            knobs["fairness"] = req.fairness
            if req.fairness > 0 and req.method is None:
                knobs["method"] = "fair_exposure"
        if knobs:
            cfg = cfg.with_knob(**knobs)
        managed = self.rulebook.configs(cat, req.slot) if self.rulebook is not None else []
        if managed:  # the shop's boost / bury / pin rules, after the configured ones
            cfg = cfg.model_copy(update={"rules": [*cfg.rules, *managed]})
        seed = zlib.crc32(f"{req.user_id}|{req.slot}|{req.item_id}".encode())
        context = RerankContext(history=np.unique(base), session_shown=shown, seed=seed)
        cands = CandidateList(items, scores, cat.rerank_catalog(), context, hits)
        n_items = len(cat)
        counter: ExposureCounter | BrandLedger | None = None
        shared = None
        if RerankPipeline.uses_exposure(cfg):
            shared = self._shared_ledger(cfg, req.slot, cands.catalog)
            if shared is None:
                with self._exposure_lock:
                    counter = self.exposure.counter(req.slot, n_items)
            else:
                counter = shared
        ranked = RerankPipeline(cfg).rerank(cands, req.k, config=cfg, exposure=counter)
        with self._exposure_lock:  # counters are shared by every request: counted one list at a time
            self.exposure.record(req.slot, ranked.indices(), n_items)
        if shared is not None:
            shared.record(ranked.indices())
        return ranked

    def share_exposure(self, online: Any) -> None:
        """Keep fair-exposure counts in ``online`` (an :class:`~shelfwise.online.base.OnlineState`), so that
        every process serving the shop sees the lists the others served (the service calls this)."""
        self.online = online

    def _shared_ledger(self, cfg: Any, slot: str, catalog: Any) -> SharedFairLedger | None:
        """The slot's fair-exposure ledger in the online state (None: not fair_exposure, no online state,
        or a catalogue without brand names: the in-process ledger is used)."""
        if cfg.method != "fair_exposure" or self.online is None or catalog.brand_names is None:
            return None
        return SharedFairLedger(self.online, slot, catalog, cfg.exposure_half_life)

    def _item(self, cat: ServingCatalog, r: Any) -> RecommendedItem:
        bd = dict(r.breakdown)
        ids = cat.ids
        sources = []
        for s in bd.get("sources", []):
            if "anchor" in s:
                s["anchor"] = ids[int(s["anchor"])]
            sources.append(s["name"])
        for c in bd.get("claims", []):
            if "anchor" in c:
                c["anchor"] = ids[int(c["anchor"])]
        return RecommendedItem(ids[r.item], round(float(r.score), 6), r.reason, sources, bd)

    def _relation(self, live: LiveState, user: int | None, cart: np.ndarray) -> Callable[[int], str]:
        """What the shopper did with a history item, for "similar to X ...": bought, carted, viewed, or (an
        anonymous shopper, whose only history is the cart) in the cart."""
        in_cart = set(cart.tolist())
        bought = set(self._purchased(user, live).tolist()) if user is not None else set()
        carted: set[int] = set()
        state = self.pipeline.ranker.state
        if user is not None and state is not None and user < state.funnel.n_users:
            mine = state.funnel.user_items(user)
            if mine.size:
                counts, _, _ = state.funnel.lookup(user, mine)
                carted = set(mine[counts[:, _CART] > 0].tolist())

        def relation(item: int) -> str:
            if item in bought:
                return "you bought"
            if item in in_cart or user is None:
                return "in your cart"
            return "you added to your cart" if item in carted else "you viewed"

        return relation

    @staticmethod
    def _retold(
        item: RecommendedItem, cat: ServingCatalog, relation: Callable[[int], str]
    ) -> RecommendedItem:
        """The item with its reason re-rendered with the shopper's true relation to the anchor item."""
        claims = item.breakdown.get("claims") or []
        if not any(c.get("claim") == "similar_to" for c in claims):
            return item
        index = cat.index
        internal = [
            {**c, "anchor": index[c["anchor"]]}
            if c.get("claim") == "similar_to" and c["anchor"] in index
            else c
            for c in claims
        ]
        reason = render(internal, cat.name, relation)
        return RecommendedItem(item.item_id, item.score, reason, item.sources, item.breakdown)

    def _purchased(self, user: int, live: LiveState | None = None) -> np.ndarray:
        """int32 items the user bought (trained items from the feature state, later ones from ``observe``)."""
        found = list((live or self.live).purchases.get(user, ()))
        state = self.pipeline.ranker.state
        if state is not None and user < state.funnel.n_users:
            mine = state.funnel.user_items(user)
            if mine.size:
                counts, _, _ = state.funnel.lookup(user, mine)
                found += mine[counts[:, _BUY] > 0].tolist()
        return np.asarray(found, dtype=np.int32)

    def info(self) -> dict[str, Any]:
        """What is served (for health / status endpoints)."""
        live = self.live
        return {
            "model": self.name,
            "version": self.version,
            "sources": list(self.pipeline.names),
            "users": len(live.users),
            "items": len(live.catalog),
            "items_added_since_training": len(live.catalog) - live.catalog.n_trained,
            "event_seq": self._applied.cursor,
            "catalogue_seq": self._catalogue_seq,
        }
