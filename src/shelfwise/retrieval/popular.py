"""Popular and trending items: the same list for everyone, the fallback of every recommendation slot.

* :class:`PopularSource` (``"popular"``): total event weight per item in training (event weights from
  :data:`~shelfwise.data.schema.EVENT_WEIGHTS`, or plain counts).
* :class:`TrendingSource` (``"trending"``): the same total with each event's weight halved per
  half-life of age, so what sells *now* outranks what sold a year ago.

Both reuse :class:`~shelfwise.retrieval.baselines.Popularity` on a weighted user x item matrix.

What "age" means depends on the data (``clock``):

* ``"time"``: seconds between the event and the newest training event, half-life ``half_life_days``.
* ``"order"``: how many later events the same user has, half-life ``half_life_events``. On Amazon
  Beauty the timestamps are synthetic order keys (position within each user), so there is no shared
  clock between users and a half-life in days would decay nothing. There "trending" means *popular
  among the users' most recent purchases*: a user's newest items count fully, older ones less. It is a
  proxy for recency (a user's later reviews were written later), not a real trend over calendar time.
* ``"auto"`` (default) picks ``"order"`` when the timestamps are order keys, else ``"time"``.

Example:
    >>> src = TrendingSource(TrendingConfig(half_life_days=7.0)).fit(data)  # doctest: +SKIP
    >>> src.candidates(UserContext(), k=10).items  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoded.data import RecommendData
from shelfwise.encoded.interactions import interaction_matrix
from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.baselines import Popularity
from shelfwise.retrieval.history import DAY, EventLog
from shelfwise.retrieval.persist import load_state, save_state
from shelfwise.retrieval.scoring import ScoredSource

__all__ = ["PopularConfig", "PopularSource", "TrendingConfig", "TrendingSource"]

log = logging.getLogger(__name__)


class PopularConfig(BaseModel):
    """Settings of :class:`PopularSource`.

    Attributes:
        event_weights: weigh events by type (purchase > view); ``False`` counts every event once.
        seed: seed of the tie order among equally popular items.
    """

    model_config = ConfigDict(extra="forbid")

    event_weights: bool = True
    seed: int = 0


class TrendingConfig(PopularConfig):
    """Settings of :class:`TrendingSource` (see the module doc for ``clock``).

    Attributes:
        clock: ``"auto"``, ``"time"`` or ``"order"``.
        half_life_days: half-life of an event's weight under the time clock.
        half_life_events: half-life, in the user's later events, under the order clock.
    """

    clock: Literal["auto", "time", "order"] = "auto"
    half_life_days: float = Field(default=7.0, gt=0)
    half_life_events: float = Field(default=1.0, gt=0)


class PopularSource(ScoredSource):
    """Scores every item by its (possibly decayed) total event weight; contexts are ignored.

    Args:
        config: settings.
    """

    name = "popular"

    def __init__(self, config: PopularConfig | None = None) -> None:
        self.config = config or PopularConfig()
        super().__init__(self.config.seed)
        self.scores = np.zeros(0, dtype=np.float32)

    def _event_values(self, events: EventLog) -> np.ndarray:
        """Per-event weight before summing (trending multiplies in the decay)."""
        if self.config.event_weights:
            return events.weights.astype(np.float32)
        return np.ones(events.items.size, dtype=np.float32)

    def fit(self, data: RecommendData) -> Self:
        """Sum the event weights of ``data``'s train + valid events per item."""
        events = EventLog.from_data(data)
        values = self._event_values(events)
        matrix = interaction_matrix(events.users, events.items, (data.n_users, data.n_items), values)
        self.scores = Popularity().fit(matrix).counts.astype(np.float32)
        self._set_items(data.n_items)
        log.info("%s: fitted on %d events, %d items", self.name, events.items.size, data.n_items)
        return self

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """The same row for every context."""
        self._check_fitted()
        return np.tile(self.scores, (len(contexts), 1))

    def params(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def save(self, folder: Path) -> None:
        """Write config + scores (JSON + .npy)."""
        self._check_fitted()
        save_state(
            folder,
            type(self).__name__,
            self.config.model_dump(mode="json"),
            {"scores": self.scores},
            self._extra(),
        )

    def _extra(self) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read what :meth:`save` wrote."""
        manifest, arrays = load_state(folder, cls.__name__)
        config_cls = TrendingConfig if issubclass(cls, TrendingSource) else PopularConfig
        source = cls(config_cls.model_validate(manifest["config"]))
        source.scores = arrays["scores"].astype(np.float32)
        source._set_items(source.scores.size)
        source._load_extra(manifest["extra"])
        return source

    def _load_extra(self, extra: dict[str, Any]) -> None:
        return None


class TrendingSource(PopularSource):
    """Popularity with exponential time decay (see the module doc).

    Attributes:
        clock_used: the clock :meth:`fit` applied (``"time"`` or ``"order"``).
        reference_time: under the time clock, the newest training event (seconds); ages count from it.
    """

    name = "trending"
    config: TrendingConfig

    def __init__(self, config: TrendingConfig | None = None) -> None:
        super().__init__(config or TrendingConfig())
        self.clock_used = ""
        self.reference_time = 0.0

    def _event_values(self, events: EventLog) -> np.ndarray:
        base = super()._event_values(events).astype(np.float64)
        clock = self.config.clock
        if clock == "auto":
            clock = "order" if events.order_keys() else "time"
        self.clock_used = clock
        if clock == "order":
            decay = np.exp2(-events.events_after() / self.config.half_life_events)
        else:
            self.reference_time = float(events.times.max()) if events.times.size else 0.0
            age = (self.reference_time - events.times) / DAY
            decay = np.exp2(-age / self.config.half_life_days)
        log.info("trending: %s clock", clock)
        return (base * decay).astype(np.float32)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "clock_used": self.clock_used}

    def _extra(self) -> dict[str, Any]:
        return {"clock_used": self.clock_used, "reference_time": self.reference_time}

    def _load_extra(self, extra: dict[str, Any]) -> None:
        self.clock_used = str(extra.get("clock_used", ""))
        self.reference_time = float(extra.get("reference_time", 0.0))
