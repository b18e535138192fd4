"""The learned ranker: features of merged candidates -> LightGBM lambdarank -> ordered items with reasons.

Typical use (training on the validation period, see :mod:`shelfwise.ranking.dataset`)::

    view = validation_view(data)                                   # valid events = held-out targets
    for s in sources: s.fit(view)                                  # train part only
    requests = generate_requests(sources, contexts_for(view, view.ranking.test_users),
                                 view.ranking.test_targets, k=200)
    ranker = Ranker(RankerConfig()).fit_requests(requests, fit_state(view))
    for s in sources: s.fit(data)                                  # refit on train + valid
    ranker.state = fit_state(data)
    ranked = ranker.rank(context, merge_candidates([s.candidates(context, 200) for s in sources]))
    ranked.items, ranked.scores, ranked.reasons(0)                 # order, scores, top contributions

``rank`` returns per-feature SHAP contributions (LightGBM ``pred_contrib``), from which explanations are
built ("ranked high because: similar to an item you viewed, popular this week").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shelfwise.ranking.affinity import UserAffinity
from shelfwise.ranking.config import RankerConfig
from shelfwise.ranking.dataset import RankingFrame, RequestSet, build_frame
from shelfwise.ranking.features import FeatureRequest, FeatureSet
from shelfwise.ranking.lgbm import LGBMModel
from shelfwise.ranking.merge import MergedCandidates
from shelfwise.ranking.state import FeatureState
from shelfwise.retrieval.base import UserContext

__all__ = ["RankedList", "Ranker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class RankedList:
    """The ranker's answer for one request, best first.

    Attributes:
        items: int32 candidate items in ranked order.
        scores: float32 ranker scores (higher = better; comparable within the request).
        feature_names: columns of ``features`` and ``contributions``.
        features: float32 ``(n, n_features)`` feature values of each item.
        contributions: float32 ``(m, n_features + 1)`` SHAP contributions of the first ``m`` items (last
            column: the bias; each row sums to the score), or ``None`` when not asked for.
    """

    items: np.ndarray
    scores: np.ndarray
    feature_names: tuple[str, ...]
    features: np.ndarray
    contributions: np.ndarray | None = None

    def reasons(self, position: int, k: int = 3) -> list[tuple[str, float, float]]:
        """The ``k`` features that pushed the item at ``position`` up the most: ``(name, contribution, value)``."""
        if self.contributions is None or position >= self.contributions.shape[0]:
            raise ValueError("no contributions for this position: rank(..., explain_top=...) to get them")
        contrib = self.contributions[position, :-1]
        top = np.argsort(-contrib, kind="stable")[:k]
        return [
            (self.feature_names[j], float(contrib[j]), float(self.features[position, j]))
            for j in top
            if contrib[j] > 0
        ]


class Ranker:
    """LightGBM lambdarank over the features of merged candidates.

    Attributes:
        config: the ranker settings.
        features: the feature set (built at fit time from the sources' names).
        model: the LightGBM model.
        state: the feature state read at request time (set it to the serving state after training).
    """

    name = "ranker"

    def __init__(self, config: RankerConfig | None = None) -> None:
        self.config = config or RankerConfig()
        self.features: FeatureSet | None = None
        self.model = LGBMModel(self.config.lgbm)
        self.state: FeatureState | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """Source names the ranker was trained with, in column order."""
        return self.features.sources if self.features is not None else ()

    def fit(self, frame: RankingFrame, valid: RankingFrame | None = None) -> Ranker:
        """Train on a frame; early stopping on ``valid`` or a user fold of ``frame``.

        The frame must come from this ranker's feature set (:meth:`fit_requests` builds both).
        """
        if self.features is None or tuple(frame.feature_names) != self.features.names:
            raise ValueError("the frame's columns differ from the ranker's features; use fit_requests")
        if valid is None:
            frame, valid = frame.split_by_user(self.config.early_stopping_fraction, self.config.seed)
        log.info(
            "ranker: %d requests / %d rows to fit, %d / %d for early stopping",
            frame.group_sizes.size,
            frame.labels.size,
            valid.group_sizes.size,
            valid.labels.size,
        )
        self.model.fit(
            frame.features,
            frame.labels,
            groups=frame.group_sizes,
            valid=(valid.features, valid.labels, valid.group_sizes),
            feature_names=frame.feature_names,
        )
        return self

    def fit_requests(self, requests: RequestSet, state: FeatureState) -> Ranker:
        """Build the feature set from the requests' sources, the training frame, and train.

        Args:
            requests: labelled candidates of the training period (see ``generate_requests``).
            state: the feature state of the training period (never later events).
        """
        if not requests.merged:
            raise ValueError("no training requests with a positive candidate")
        self.features = FeatureSet(self.config.features, requests.merged[0].sources)
        frame = self.build_frame(requests, state)
        self.fit(frame)
        return self

    def build_frame(self, requests: RequestSet, state: FeatureState) -> RankingFrame:
        """The training frame of ``requests`` under this ranker's features and sampling settings."""
        if self.features is None:
            self.features = FeatureSet(self.config.features, requests.merged[0].sources)
        return build_frame(
            requests,
            self.features,
            state,
            negatives_per_group=self.config.negatives_per_group,
            seed=self.config.seed,
        )

    def _ready(self) -> tuple[FeatureSet, FeatureState]:
        if self.features is None or self.model.booster is None:
            raise RuntimeError("the ranker is not fitted")
        if self.state is None:
            raise RuntimeError("set ranker.state to the feature state before ranking")
        return self.features, self.state

    def score_requests(self, requests: Sequence[FeatureRequest]) -> list[np.ndarray]:
        """float32 scores of each request's candidates (aligned with ``request.candidates.items``).

        Features of all requests are computed and predicted in one batch.
        """
        features, state = self._ready()
        x = features.compute_many(requests, state)
        scores = self.model.predict(x)
        bounds = np.cumsum([0] + [len(r.candidates) for r in requests])
        return [scores[bounds[k] : bounds[k + 1]] for k in range(len(requests))]

    def rank(
        self,
        context: UserContext,
        candidates: MergedCandidates,
        *,
        affinity: UserAffinity | None = None,
        now: float | None = None,
        explain_top: int = 20,
    ) -> RankedList:
        """Order one request's merged candidates, with per-feature contributions of the ``explain_top`` best.

        Contributions (LightGBM ``pred_contrib``) cost far more than scores, so only the items that will be
        shown are explained (``explain_top=0``: none). Excluded items (``context.exclude``) are dropped.
        Equal scores keep the merged order.
        """
        features, state = self._ready()
        x = features.compute(FeatureRequest(context, candidates, affinity, now), state)
        keep = ~np.isin(candidates.items, context.exclude)
        x, items = x[keep], candidates.items[keep]
        scores = self.model.predict(x)
        order = np.argsort(-scores, kind="stable")
        contrib = self.model.contributions(x[order[:explain_top]]) if explain_top > 0 else None
        return RankedList(items[order], scores[order], features.names, x[order], contrib)

    def save(self, folder: Path) -> None:
        """Write ``ranker.json`` (config, features) and the LightGBM model (``model.txt`` + ``model.json``).

        The feature state is data, not model: save it with ``FeatureState.save`` where it is kept.
        """
        if self.features is None:
            raise RuntimeError("the ranker is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"config": self.config.model_dump(), "features": self.features.to_json()}
        (folder / "ranker.json").write_text(json.dumps(meta, indent=2))
        self.model.save(folder)

    @classmethod
    def load(cls, folder: Path, state: FeatureState | None = None) -> Ranker:
        """Read what :meth:`save` wrote; ``state`` is attached for ranking."""
        folder = Path(folder)
        meta = json.loads((folder / "ranker.json").read_text())
        ranker = cls(RankerConfig(**meta["config"]))
        ranker.features = FeatureSet.from_json(meta["features"])
        ranker.model = LGBMModel.load(folder)
        ranker.state = state
        return ranker
