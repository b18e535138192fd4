"""The candidate sources of :mod:`shelfwise.retrieval.sources_registry` as models of ``shelfwise evaluate``.

The harness hands a model ``fit(data, part)`` and ``score(users, history)``; :class:`SourceModel` turns
that into the serving calls — ``fit`` on a view of ``data`` restricted to ``part`` and ``score_all`` over
the :class:`~shelfwise.retrieval.history.TimedContext` each user would send (time-ordered history with
event weights and times) — so what is evaluated is what is served. History items stay rankable unless the
protocol masks them: sources never drop them on their own (the pipeline's ``exclude`` does, in a shop).

Every name of :data:`~shelfwise.retrieval.sources_registry.SOURCE_NAMES` registers when this module is
imported (the registry imports it lazily).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import Part, RecommendData
from shelfwise.evaluation.registry import register_recommender
from shelfwise.retrieval.base import CandidateSource
from shelfwise.retrieval.history import EventLog, train_only
from shelfwise.retrieval.sources_registry import SOURCE_NAMES, build_source

__all__ = ["SourceModel"]


class SourceModel:
    """Adapts a :class:`~shelfwise.retrieval.base.CandidateSource` to the evaluation runner.

    Args:
        source: the source.
        name: the registered name (what the report calls it).
    """

    def __init__(self, source: CandidateSource, name: str) -> None:
        self.source = source
        self.name = name
        self.events: EventLog | None = None

    def fit(self, data: RecommendData, part: Part) -> None:
        """Fit on train + valid (test) or on train only (validation)."""
        view = data if part == "train_valid" else train_only(data)
        self.source.fit(view)
        self.events = EventLog.from_data(view)

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(users), n_items)``: the source's scores for each user's request context.

        ``history`` (the harness's unordered CSR) is not needed: contexts come from the fitted events,
        which hold the same items in time order.
        """
        if self.events is None:
            raise RuntimeError(f"{self.name} is not fitted")
        return self.source.score_all(list(self.events.contexts(user_indices)))

    def params(self) -> dict[str, Any]:
        """The source's hyper-parameters."""
        params = getattr(self.source, "params", None)
        return dict(params()) if callable(params) else {}


def _register(name: str) -> None:
    @register_recommender(name)
    def factory(settings: Settings) -> SourceModel:
        return SourceModel(build_source(name, settings), name)


for _name in SOURCE_NAMES:
    _register(_name)
