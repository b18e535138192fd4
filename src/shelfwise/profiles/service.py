"""One object for the CLI, the API server and the benchmarks: build, update live, read, segment, persist.

Example:
    >>> from shelfwise.data.synthetic import make_shop
    >>> shop = make_shop(n_users=20, n_items=60, n_events=600, seed=3)
    >>> svc = ProfileService(ItemCatalog.from_items(shop.dataset.items))
    >>> svc.rebuild(shop.dataset.events)
    20
    >>> svc.apply_event("u1", "i5", "purchase", timestamp=1_800_000_000)
    >>> svc.profile_json("u1")["funnel"]["purchases"] >= 1
    True
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.profiles.builder import build_states
from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.churn import ChurnModel
from shelfwise.profiles.config import ProfileConfig, SegmentConfig
from shelfwise.profiles.explain import profile_json
from shelfwise.profiles.reviews import ReviewSignal, analyse_review
from shelfwise.profiles.segment_labels import label_segments
from shelfwise.profiles.segments import SegmentModel, fit_segments, segment_features
from shelfwise.profiles.state import ProfileEvent, ProfileUpdater, UserState
from shelfwise.profiles.store import load_states, save_states
from shelfwise.profiles.vectors import blend, short_term_vector
from shelfwise.profiles.view import ProfileReader, UserProfile

__all__ = ["CHURN_ARTIFACT", "SEGMENTS_ARTIFACT", "ColdStartContext", "ProfileService"]

log = logging.getLogger(__name__)

#: Artifact names of the fitted models.
SEGMENTS_ARTIFACT = "profile-segments"
#: Store meta key: the newest event ``seq`` the persisted profiles hold.
PROFILE_CURSOR = "profiles_event_seq"
CHURN_ARTIFACT = "profile-churn"


@dataclass(frozen=True)
class ColdStartContext:
    """What is known about a shopper with no history.

    Attributes:
        query_vector: the embedding of their search query (the text itself is not kept).
        first_item: the first item they viewed (external id).
        timestamp: when (Unix seconds; default now from the caller).
    """

    query_vector: np.ndarray | None = None
    first_item: str | None = None
    timestamp: float = 0.0


class ProfileService:
    """Profiles of one shop, kept in memory, updated per event, persisted on :meth:`flush`.

    Args:
        catalog: item facts (with vectors for interest vectors and the retriever).
        config: profile settings.
        segments: fitted segment model (or fit one with :meth:`fit_segments`).
        churn: fitted churn model.
    """

    def __init__(
        self,
        catalog: ItemCatalog,
        config: ProfileConfig | None = None,
        segments: SegmentModel | None = None,
        churn: ChurnModel | None = None,
    ) -> None:
        self.config = config or ProfileConfig()
        self.updater = ProfileUpdater(catalog, self.config)
        self.reader = ProfileReader(catalog, self.config, segments, churn)
        self.states: dict[str, UserState] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()  # API handlers run in a thread pool: one update at a time
        #: the newest stored event ``seq`` folded into the states (recorded by :meth:`flush`)
        self.event_seq = 0
        # -- consent (privacy/consent.py): None lets everyone through --------------------------------
        #: whether a shopper may have a profile (personalisation consent): refused ones get none
        self.personalise: Callable[[str], bool] | None = None
        #: whether a shopper may be learned from (training consent): refused ones are left out of segments
        self.trainable: Callable[[str], bool] | None = None

    @property
    def catalog(self) -> ItemCatalog:
        """The item facts."""
        return self.updater.catalog

    # -- building ----------------------------------------------------------------------------------
    def rebuild(self, events: pa.Table, review_signals: Mapping[str, ReviewSignal] | None = None) -> int:
        """Replace all states by a batch build from an events table; returns the number of users."""
        self.states = self._consented(build_states(events, self.updater, review_signals, show_progress=True))
        self._dirty = set(self.states)
        return len(self.states)

    def rebuild_from_store(self, store: Any, review_signals: Mapping[str, ReviewSignal] | None = None) -> int:
        """Batch build from every event in a store."""
        events = store.read_events()
        n = self.rebuild(events, review_signals)
        if events.num_rows and "seq" in events.column_names:
            self.event_seq = int(max(events.column("seq").to_pylist()))
        return n

    def load(self, store: Any) -> int:
        """Load persisted states (a restart without a rebuild)."""
        self.states = self._consented(load_states(store, self.updater))
        self._dirty.clear()
        return len(self.states)

    def flush(self, store: Any, *, with_snapshot: bool = False) -> int:
        """Upsert the states changed since the last flush and record the newest event ``seq`` they hold
        (the store meta key ``profiles_event_seq``: a restart replays only later events); returns rows
        written."""
        with self._lock:
            dirty = {u: self.states[u] for u in sorted(self._dirty) if u in self.states}
            self._dirty.clear()
            seq = self.event_seq
        written = save_states(store, dirty, self.updater, self.reader if with_snapshot else None)
        store.set_meta(PROFILE_CURSOR, str(seq))
        return written

    def catch_up(self, store: Any, until_seq: int | None = None) -> int:
        """Fold in the stored events the loaded states do not hold yet; returns how many were applied.

        Read: the events after the recorded cursor (``profiles_event_seq``, written by :meth:`flush`; every
        event when none was recorded), up to ``until_seq`` when given. Of those, a shopper's event is
        applied only when it is later than the last event their loaded state holds: events applied on the
        write path (which carry no ``seq``) and flushed are not counted twice. A late event older than the
        shopper's newest one is therefore not replayed (it was either applied or is lost to the profile).
        """
        recorded = store.get_meta(PROFILE_CURSOR)
        cursor = max(int(recorded), self.event_seq) if recorded is not None else None
        cols = ["user_id", "item_id", "type", "value", "timestamp", "session_id", "seq"]
        table = store.read_events(cols, after_seq=cursor) if cursor is not None else store.read_events(cols)
        if cursor is None:
            log.warning("profiles record no event cursor: replaying each shopper's events after their last")
        with self._lock:
            held = {u: st.last_ts for u, st in self.states.items()}
        applied = 0
        newest = cursor or 0
        for e in table.to_pylist():
            seq = int(e["seq"])
            if until_seq is not None and seq > until_seq:
                continue
            newest = max(newest, seq)
            ts = e["timestamp"]
            t = ts.timestamp() if hasattr(ts, "timestamp") else float(ts)
            last = held.get(e["user_id"])
            if last is not None and t <= last:
                continue
            try:
                self.apply_event(
                    e["user_id"], e["item_id"], e["type"], t, value=e["value"], session_id=e["session_id"]
                )
            except (KeyError, ValueError) as exc:  # an event type profiles do not read
                log.debug("profile replay skipped an event: %s", exc)
                continue
            applied += 1
        with self._lock:
            self.event_seq = max(self.event_seq, newest)
        if applied:
            log.info("profiles caught up with %d stored events (to seq %d)", applied, newest)
        return applied

    # -- online path -------------------------------------------------------------------------------
    def apply_event(
        self,
        user_id: str,
        item_id: str | None,
        event_type: str,
        timestamp: float,
        *,
        value: float | None = None,
        session_id: str | None = None,
        query_vector: np.ndarray | None = None,
        review_text: str | None = None,
        seq: int | None = None,
    ) -> None:
        """Fold one event into the user's profile (O(1); the review text is analysed, then dropped).
        ``seq``: the stored event's sequence number, when known (moves :attr:`event_seq`). A shopper
        :attr:`personalise` refuses gets no profile (the event is ignored here; it is still stored)."""
        if self.personalise is not None and not self.personalise(user_id):
            return
        event = ProfileEvent(
            item=self.catalog.index_of(item_id),
            type=event_type,
            timestamp=float(timestamp),
            value=value,
            session_id=session_id,
            vector=None if query_vector is None else np.asarray(query_vector, dtype=np.float32),
            review=analyse_review(review_text) if review_text else None,
        )
        with self._lock:
            st = self.states.get(user_id)
            if st is None:
                st = self.states[user_id] = self.updater.new_state()
            self.updater.apply(st, event)
            self._dirty.add(user_id)
            if seq is not None:
                self.event_seq = max(self.event_seq, int(seq))

    def _consented(self, states: dict[str, UserState]) -> dict[str, UserState]:
        if self.personalise is None:
            return states
        return {u: st for u, st in states.items() if self.personalise(u)}

    def forget(self, user_id: str) -> bool:
        """Drop a user's live state (user deletion); True when there was one. Persisted rows are the store's."""
        with self._lock:
            self._dirty.discard(user_id)
            return self.states.pop(user_id, None) is not None

    # -- reading -----------------------------------------------------------------------------------
    def profile(self, user_id: str, now: float | None = None) -> UserProfile:
        """The readable profile; an unknown user gets the cold-start profile with no context.

        Raises:
            KeyError: never; unknown users are cold-start profiles.
        """
        st = self.states.get(user_id)
        if st is None:
            return self.cold_start(ColdStartContext(timestamp=now or 0.0), user_id=user_id)
        return self.reader.profile(user_id, st, now)

    def profile_json(self, user_id: str, now: float | None = None) -> dict[str, Any]:
        """JSON-ready profile with explanations (``shelfwise profile USER --json``)."""
        return profile_json(self.profile(user_id, now))

    def cold_start(self, context: ColdStartContext, user_id: str = "anonymous") -> UserProfile:
        """A profile for a shopper with no history, from the query, the first item and the segment prior."""
        st = self.updater.new_state()
        sources = []
        if context.first_item is not None and self.catalog.index_of(context.first_item) >= 0:
            self.updater.apply(
                st, ProfileEvent(self.catalog.index_of(context.first_item), "view", context.timestamp)
            )
            sources.append("first item")
        if context.query_vector is not None:
            qv = np.asarray(context.query_vector, dtype=np.float32)
            self.updater.apply(st, ProfileEvent(-1, "search", context.timestamp, vector=qv))
            sources.append("query")
        return self.reader.profile(user_id, st, context.timestamp, context=tuple(sources))

    def interest_vector(
        self, user_id: str, short_weight: float = 0.5, context: ColdStartContext | None = None
    ) -> np.ndarray | None:
        """The vector to retrieve with: blended profile vector, else the context's, else the segment prior."""
        st = self.states.get(user_id)
        if st is None and context is not None:
            st = self.updater.new_state()
            if context.first_item is not None and self.catalog.index_of(context.first_item) >= 0:
                self.updater.apply(
                    st, ProfileEvent(self.catalog.index_of(context.first_item), "view", context.timestamp)
                )
            if context.query_vector is not None:
                self.updater.apply(
                    st,
                    ProfileEvent(
                        -1, "search", context.timestamp, vector=np.asarray(context.query_vector, np.float32)
                    ),
                )
        v = None
        if st is not None:
            v = blend(st.long_vector(), short_term_vector(st, self.catalog, self.config), short_weight)
        segs = self.reader.segments
        if v is None and segs is not None and segs.prior_interest.size:
            v = segs.prior_interest[segs.nearest_by_interest(None)]
        return v

    # -- models as artifacts -----------------------------------------------------------------------
    def save_models(self, store: Any) -> list[str]:
        """Write the segment and churn models as versioned artifacts of ``store`` (JSON + .npy)."""
        saved = []
        fitted = self.reader.fitted_segments
        if fitted is not None:
            with store.artifacts.writer(SEGMENTS_ARTIFACT, config=fitted.config.model_dump()) as d:
                fitted.save(d)
            saved.append(SEGMENTS_ARTIFACT)
        if self.reader.churn is not None:
            with store.artifacts.writer(
                CHURN_ARTIFACT, config={"horizon_days": self.reader.churn.horizon_days}
            ) as d:
                self.reader.churn.save(d)
            saved.append(CHURN_ARTIFACT)
        return saved

    def load_models(self, store: Any) -> list[str]:
        """Load the latest segment / churn artifacts when they exist; returns the names loaded."""
        from shelfwise.storage import ArtifactNotFoundError

        loaded = []
        try:
            self.reader.segments = SegmentModel.load(store.artifacts.latest(SEGMENTS_ARTIFACT).path)
            loaded.append(SEGMENTS_ARTIFACT)
        except ArtifactNotFoundError:
            log.info("no %s artifact", SEGMENTS_ARTIFACT)
        try:
            self.reader.churn = ChurnModel.load(store.artifacts.latest(CHURN_ARTIFACT).path)
            loaded.append(CHURN_ARTIFACT)
        except ArtifactNotFoundError:
            log.info("no %s artifact", CHURN_ARTIFACT)
        return loaded

    # -- segments ----------------------------------------------------------------------------------
    def fit_segments(self, now: float | None = None, config: SegmentConfig | None = None) -> SegmentModel:
        """Fit segments over the current profiles, label them and use them from now on.

        Args:
            now: time the segment statistics are read at (default: the latest event).
            config: segment settings (default: ``config.segments``).
        """
        ids = sorted(u for u in self.states if self.trainable is None or self.trainable(u))
        states = [self.states[u] for u in ids]
        feats = segment_features(states, self.catalog, self.config)
        model, assign = fit_segments(feats, config or self.config.segments)
        now = now if now is not None else max((s.last_ts or 0.0) for s in states)
        model = label_segments(
            model, assign, feats, states, self.catalog, self.config, now, self.reader.churn
        )
        # the vocabulary the columns stand for: a grown catalogue is read against it by name
        model = dataclasses.replace(
            model, category_names=self.catalog.categories, brand_names=self.catalog.brands
        )
        self.reader.segments = model
        return model

    def segments_json(self) -> dict[str, Any]:
        """Segments for ``shelfwise segments --json`` and the dashboard."""
        model = self.reader.segments
        if model is None:
            return {"k": 0, "segments": [], "note": "no segment model: run fit_segments"}
        best = max(model.silhouettes, key=lambda k: model.silhouettes[k]) if model.silhouettes else model.k
        return {
            "k": model.k,
            "criterion": f"silhouette over k={min(model.silhouettes, default=model.k)}..{max(model.silhouettes, default=model.k)} (best k={best})",
            "silhouettes": {str(k): round(v, 4) for k, v in sorted(model.silhouettes.items())},
            "segments": list(model.stats),
        }
