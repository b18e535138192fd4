"""One call from a split to a ranked pipeline.

:func:`fit_ranked_pipeline` does the whole leakage-safe recipe of :mod:`shelfwise.ranking.dataset`:

1. sources + feature state fitted on the validation view (train part only);
2. candidates for every validation user, labelled with the validation item; the ranker trained on them;
3. fresh sources + state fitted on train + valid; the returned :class:`RankedPipeline` serves and is ranked
   by the harness (``HarnessModel(pipeline, data.train_valid_sequences)``).

:class:`shelfwise.evaluation.ranker_model.RankerEvalModel` adapts that to the experiment runner
(model ``"ranker"`` of ``shelfwise evaluate``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData
from shelfwise.ranking.config import RankerConfig
from shelfwise.ranking.dataset import contexts_for, fit_state, generate_requests, validation_view
from shelfwise.ranking.pipeline import RankedPipeline
from shelfwise.ranking.ranker import Ranker
from shelfwise.ranking.sources import RecommenderSource
from shelfwise.retrieval.base import CandidateSource
from shelfwise.retrieval.baselines import ALS, ItemKNN, Popularity

__all__ = ["SourceFactory", "baseline_sources", "fit_ranked_pipeline"]

log = logging.getLogger(__name__)

SourceFactory = Callable[[], Sequence[CandidateSource]]


def fit_ranked_pipeline(
    data: RecommendData,
    make_sources: SourceFactory,
    config: RankerConfig | None = None,
    *,
    max_users: int | None = None,
) -> RankedPipeline:
    """Train the ranker on the validation period and return the pipeline refitted on train + valid.

    Args:
        data: a split with a validation part (e.g. leave-one-out); its test part is never read.
        make_sources: builds fresh, unfitted candidate sources (called twice: validation view and test).
        config: ranker settings.
        max_users: train on a seeded sample of this many validation users (default all).
    """
    config = config or RankerConfig()
    view = validation_view(data)
    sources = list(make_sources())
    for s in sources:
        s.fit(view)
    users, targets = view.ranking.test_users, view.ranking.test_targets
    if max_users is not None and users.size > max_users:
        keep = np.sort(np.random.default_rng(config.seed).choice(users.size, max_users, replace=False))
        users, targets = users[keep], targets[keep]
    requests = generate_requests(
        sources, contexts_for(view, users), targets, config.k_per_source, seed=config.seed
    )
    log.info("ranker: candidate recall on validation %.4f (%d users)", requests.recall, users.size)
    ranker = Ranker(config).fit_requests(requests, fit_state(view, config.features))
    pipeline = RankedPipeline(make_sources(), ranker, k_per_source=config.k_per_source, seed=config.seed)
    pipeline.fit(data)
    ranker.state = fit_state(data, config.features)
    return pipeline


def baseline_sources(settings: Settings) -> SourceFactory:
    """ALS + item-kNN (settings ``models.*``) + popularity, as the factory :func:`fit_ranked_pipeline` wants."""

    def make() -> list[CandidateSource]:
        als, knn = settings.models.als, settings.models.itemknn
        return [
            RecommenderSource(
                ALS(
                    factors=als.factors,
                    regularization=als.regularization,
                    alpha=als.alpha,
                    iterations=als.iterations,
                    seed=settings.seed,
                )
            ),
            RecommenderSource(ItemKNN(k=knn.k, similarity=knn.similarity, seed=settings.seed)),
            RecommenderSource(Popularity()),
        ]

    return make
