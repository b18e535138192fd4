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
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.config import Settings
from shelfwise.ranking.events import TYPE_INDEX, StateEvent
from shelfwise.recommend.artifact import ARTIFACT_NAME, LoadedArtifact, load_pipeline
from shelfwise.recommend.catalog import ServingCatalog
from shelfwise.recommend.forget import forget_in_artifacts, record_deletion_cursor, stored_user_ids
from shelfwise.recommend.applied import AppliedEvents
from shelfwise.recommend.live import LiveState
from shelfwise.recommend.pipeline import ShelfwisePipeline, make_context, source_hits
from shelfwise.recommend.types import RecommendedItem, RecommendRequest, RecommendResponse
from shelfwise.rerank import CandidateList, RankedList, RerankPipeline, SourceHit
from shelfwise.rerank import UserContext as RerankContext
from shelfwise.rerank.exposure import LiveExposure
from shelfwise.recommend.sources import load_source
from shelfwise.storage import ArtifactStore, Store

__all__ = ["Recommender"]

log = logging.getLogger(__name__)

_EMPTY = np.zeros(0, dtype=np.int32)
_BUY = TYPE_INDEX["purchase"]
_ITEM_COLUMNS = ["item_id", "title", "category", "brand", "price", "available"]
_EVENT_COLUMNS = ["event_id", "user_id", "item_id", "type", "value", "timestamp", "seq"]


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
        self.exposure = LiveExposure(settings.rerank.exposure_half_life)  # per slot, for method coverage
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
        if catch_up:
            rec.catch_up(store)
        return rec

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
        return RecommendResponse(
            items=[self._item(cat, r) for r in ranked_list],
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
        if knobs:
            cfg = cfg.with_knob(**knobs)
        seed = zlib.crc32(f"{req.user_id}|{req.slot}|{req.item_id}".encode())
        context = RerankContext(history=np.unique(base), session_shown=shown, seed=seed)
        cands = CandidateList(items, scores, cat.rerank_catalog(), context, hits)
        n_items = len(cat)
        counter = None
        if RerankPipeline.uses_exposure(cfg):
            with self._exposure_lock:
                counter = self.exposure.counter(req.slot, n_items)
        ranked = RerankPipeline(cfg).rerank(cands, req.k, config=cfg, exposure=counter)
        with self._exposure_lock:  # counters are shared by every request: counted one list at a time
            self.exposure.record(req.slot, ranked.indices(), n_items)
        return ranked

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

    # ------------------------------------------------------------------ live updates

    def observe(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Add events to the shoppers' histories and the ranker's state; the next request sees them.

        Each event is a row like the store's events table: ``user_id``, ``item_id``, ``type`` (or
        ``event_type``), ``timestamp`` (Unix seconds, ISO text or datetime; default now), ``value``, and
        ideally ``event_id`` and ``seq``: an event already applied (same id, or ``seq`` at or below the
        caught-up cursor) is skipped, so applying on write and again from the store's feed counts once.
        Events of unknown items or without an item are skipped.

        Returns:
            How many events were applied.
        """
        rows = sorted(events, key=lambda e: _seconds(e.get("timestamp")))
        with self._write_lock:
            return self._observe(rows)

    def _observe(self, rows: list[Mapping[str, Any]]) -> int:
        live = self.live
        state = self.pipeline.ranker.state
        users: dict[str, int] | None = None
        histories: list[np.ndarray] = live.histories
        purchases: dict[int, frozenset[int]] = dict(live.purchases)
        added: dict[int, list[int]] = {}
        for e in rows:
            if self._applied.is_applied(e):
                continue
            item = live.catalog.index.get(str(e.get("item_id")))
            kind = str(e.get("type") or e.get("event_type") or "view")
            if item is None or e.get("user_id") is None or kind not in TYPE_INDEX:
                continue
            uid = str(e["user_id"])
            user = (users if users is not None else live.users).get(uid)
            if user is None:
                if users is None:  # copy-on-write: the published snapshot is never changed
                    users, histories = dict(live.users), list(live.histories)
                user = len(histories)
                histories.append(_EMPTY)
                users[uid] = user
            added.setdefault(user, []).append(int(item))
            t = _seconds(e.get("timestamp"))
            value = e.get("value")
            if state is not None and item < live.catalog.n_trained:
                state.update(StateEvent(user, item, kind, t, None if value is None else float(value)))
            elif kind == "purchase":
                purchases[user] = purchases.get(user, frozenset()) | {int(item)}
            self._applied.mark(e)
        if not added:
            return 0
        if histories is live.histories:
            histories = list(histories)
        for user, items in added.items():
            histories[user] = np.concatenate([histories[user], np.asarray(items, dtype=np.int32)])
        self.live = LiveState(users if users is not None else live.users, histories, purchases, live.catalog)
        return sum(len(v) for v in added.values())

    def upsert_items(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add or change catalogue items (new ones are served at once; price and stock changes apply)."""
        rows = [dict(r) for r in rows]
        with self._write_lock:
            live = self.live
            catalog = live.catalog.copy()
            touched = catalog.upsert(rows)
            state = self.pipeline.ranker.state
            if state is not None:
                catalog.apply_to(state.attributes)
            self.live = LiveState(live.users, live.histories, live.purchases, catalog)
            return len(touched)

    def delete_items(self, ids: Iterable[str]) -> int:
        """Remove items from the catalogue (never served again)."""
        with self._write_lock:
            live = self.live
            catalog = live.catalog.copy()
            gone = catalog.delete(ids)
            self.live = LiveState(live.users, live.histories, live.purchases, catalog)
            return len(gone)

    def catch_up(self, store: Store) -> dict[str, int]:
        """Bring the live state up to date with ``store`` since the artifact (or the last catch-up).

        Catalogue changes after the catalogue cursor are read back and upserted (an id no longer in the
        store is deleted); stored events after the event cursor are replayed through :meth:`observe`
        (idempotent); shoppers in the deletion log after the deletion cursor are forgotten
        (:meth:`forget_user`, artifacts included). Safe to call repeatedly (e.g. by a follower).

        Returns:
            ``{"event_seq", "catalogue_seq", "events_applied", "items_applied", "deletion_seq",
            "users_forgotten"}``: the cursors reached and what changed.
        """
        with self._catch_up_lock:
            items_applied = self._catch_up_catalogue(store)
            events_applied, event_seq = self._catch_up_events(store)
            forgotten = self._catch_up_deletions(store)
            return {
                "event_seq": event_seq,
                "catalogue_seq": self._catalogue_seq,
                "events_applied": events_applied,
                "items_applied": items_applied,
                "deletion_seq": self._deletion_seq,
                "users_forgotten": forgotten,
            }

    def _catch_up_catalogue(self, store: Store) -> int:
        changes = store.read_catalogue_changes(self._catalogue_seq)
        if not changes.num_rows:
            return 0
        ids = list(dict.fromkeys(str(i) for i in changes.column("item_id").to_pylist()))
        rows = store.read_items(_ITEM_COLUMNS, item_ids=ids).to_pylist()
        present = {str(r["item_id"]) for r in rows}
        n = self.upsert_items(rows) if rows else 0
        gone = [i for i in ids if i not in present]
        if gone:
            n += self.delete_items(gone)
        self._catalogue_seq = int(max(changes.column("seq").to_pylist()))
        return n

    def _catch_up_events(self, store: Store) -> tuple[int, int]:
        cursor = self._applied.cursor
        table = store.read_events(_EVENT_COLUMNS, after_seq=cursor if cursor is not None else None)
        if cursor is None and self._events_after is not None and table.num_rows:
            after = pd.Timestamp(self._events_after, unit="s", tz="UTC")
            table = table.filter(pc.greater(table.column("timestamp"), pa.scalar(after, table.schema.field("timestamp").type)))
        applied = self.observe(table.to_pylist()) if table.num_rows else 0
        seqs = table.column("seq").to_pylist() if table.num_rows else []
        with self._write_lock:
            if seqs:
                self._applied.advance(int(max(seqs)))
            elif self._applied.cursor is None:
                self._applied.advance(int(store.max_event_seq()))
            self._events_after = None
        return applied, int(self._applied.cursor or 0)

    def _catch_up_deletions(self, store: Store) -> int:
        log_rows = store.read_deletions(self._deletion_seq)
        if not log_rows.num_rows:
            return 0
        wanted = set(log_rows.column("user_digest").to_pylist())
        newest = int(max(log_rows.column("seq").to_pylist()))
        known = list(self.live.users)
        if self.artifacts is not None:
            known += [u for u in stored_user_ids(self.artifacts) if u not in self.live.users]
        forgotten = 0
        for uid in known:
            if store.user_digest(uid) in wanted:
                self.forget_user(uid, deletion_seq=newest)
                forgotten += 1
        self._deletion_seq = newest
        if self.artifacts is not None:
            record_deletion_cursor(self.artifacts, newest)
        return forgotten

    def forget_user(self, user_key: str, *, deletion_seq: int | None = None) -> dict[str, Any]:
        """Forget a shopper everywhere this recommender holds them: the live state (history, purchases,
        per-user feature rows) and every version of the recommender artifact on disk (see
        :func:`~shelfwise.recommend.forget.forget_in_artifacts`); sources changed on disk are reloaded.

        Args:
            user_key: the shopper's (pseudonymous) user id.
            deletion_seq: the deletion log entry this answers (recorded in the manifests).

        Returns:
            ``{"user_found": bool, "live": {...}, "artifacts": [per version: files changed, models
            updated, needs_retrain and reasons]}`` (no user id in it): part of the deletion receipt.
        """
        with self._write_lock:
            live = self.live
            user = live.users.get(user_key)
            report: dict[str, Any] = {"user_found": user is not None, "live": {}}
            if user is not None:
                users = {u: k for u, k in live.users.items() if u != user_key}
                histories = list(live.histories)
                report["live"]["history_items"] = int(histories[user].size)
                histories[user] = _EMPTY
                purchases = {u: p for u, p in live.purchases.items() if u != user}
                state = self.pipeline.ranker.state
                if state is not None:
                    _forget_state(state, user)
                    report["live"]["feature_state"] = "per-user rows cleared"
                self.live = LiveState(users, histories, purchases, live.catalog)
            report["artifacts"] = []
            if self.artifacts is not None:
                report["artifacts"] = forget_in_artifacts(self.artifacts, user_key, deletion_seq)
                self._reload_sources(report["artifacts"])
            report["user_found"] = report["user_found"] or any(a["user_found"] for a in report["artifacts"])
            return report

    def _reload_sources(self, changes: list[dict[str, Any]]) -> None:
        """Swap in the sources rewritten on disk for the loaded version (each swap is one assignment)."""
        mine = next((c for c in changes if c["version"] == self.version and c["user_found"]), None)
        if mine is None or self.artifacts is None:
            return
        folder = self.artifacts.get(ARTIFACT_NAME, self.version).path
        for k, source in enumerate(self.pipeline.sources):
            if source.name in mine["sources_updated"]:
                fresh = load_source(folder / "sources" / source.name, self.settings)
                self.pipeline.sources[k] = fresh
                if source is self._fallback:
                    self._fallback = fresh

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
