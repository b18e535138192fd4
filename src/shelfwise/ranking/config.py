"""Settings of the ranking stage: features, LightGBM models, the ranker, ensembles, multi-objective, conversion.

Every class is a settings section (unknown keys are errors), so a ``ranking`` section can join the settings
tree as ``RankerConfig`` without change. Defaults are the values used by the benchmarks.

Example:
    >>> cfg = RankerConfig(lgbm=LGBMConfig(num_leaves=15))
    >>> cfg.lgbm.objective, cfg.k_per_source, cfg.features.groups[:3]
    ('lambdarank', 200, ['sources', 'popularity', 'recency'])
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shelfwise.config_base import Section

__all__ = [
    "FEATURE_GROUPS",
    "ConversionConfig",
    "EnsembleConfig",
    "FeatureConfig",
    "LGBMConfig",
    "MultiObjectiveConfig",
    "RankerConfig",
]

#: Feature groups in their column order (see :mod:`shelfwise.ranking.features`).
FEATURE_GROUPS: tuple[str, ...] = (
    "sources",
    "popularity",
    "recency",
    "quality",
    "category",
    "affinity",
    "history",
    "funnel",
    "user",
    "sequence",
)


class FeatureConfig(Section):
    """Which features the ranker computes, and their few parameters."""

    groups: list[str] = Field(
        default_factory=lambda: list(FEATURE_GROUPS),
        description="feature groups to compute, in column order: " + ", ".join(FEATURE_GROUPS),
    )
    trend_half_life_days: float = Field(7.0, gt=0, description="half-life of the decayed (trending) counts")
    conversion_prior: float = Field(
        20.0,
        ge=0,
        description="pseudo-views of the smoothed conversion rates (shrinks rare items to the mean)",
    )
    transition_depth: int = Field(3, ge=1, description="last history items whose transitions are counted")
    transition_decay: float = Field(
        0.5, gt=0, le=1, description="weight of the k-th last item = decay**(k-1)"
    )
    transition_symmetric: bool = Field(
        False,
        description="count steps in both directions (robust to an arbitrary order of same-time events)",
    )


class LGBMConfig(Section):
    """One LightGBM model (``lambdarank`` for ordering, ``binary`` for click / conversion probabilities)."""

    objective: Literal["lambdarank", "binary"] = Field("lambdarank", description="lambdarank | binary")
    n_estimators: int = Field(400, ge=1, description="maximum boosting rounds (early stopping picks fewer)")
    learning_rate: float = Field(0.05, gt=0, description="shrinkage")
    num_leaves: int = Field(31, ge=2, description="leaves per tree")
    min_child_samples: int = Field(50, ge=1, description="minimum rows per leaf")
    feature_fraction: float = Field(0.9, gt=0, le=1, description="share of features tried per tree")
    bagging_fraction: float = Field(0.8, gt=0, le=1, description="share of rows per tree")
    lambda_l2: float = Field(1.0, ge=0, description="L2 regularisation of leaf values")
    early_stopping_rounds: int = Field(
        30, ge=1, description="stop when the validation metric stalls this long"
    )
    eval_at: int = Field(10, ge=1, description="cut-off of the lambdarank validation NDCG")
    num_threads: int = Field(2, ge=0, description="LightGBM threads (0 = all cores)")
    seed: int = Field(0, description="seed of bagging and feature sampling")


class RankerConfig(Section):
    """The learned ranker over merged candidates."""

    features: FeatureConfig = Field(default_factory=FeatureConfig)
    lgbm: LGBMConfig = Field(default_factory=LGBMConfig)
    k_per_source: int = Field(200, ge=1, description="candidates taken from each source")
    negatives_per_group: int | None = Field(
        100, ge=1, description="negatives sampled per training request (None = all candidates)"
    )
    early_stopping_fraction: float = Field(
        0.2, gt=0, lt=1, description="share of training requests (by user) held out for early stopping"
    )
    seed: int = Field(0, description="seed of negative sampling and the early-stopping fold")


class EnsembleConfig(Section):
    """Weighted blend of normalised source scores, weights found by coordinate ascent on validation NDCG."""

    normalise: Literal["minmax", "rank"] = Field(
        "minmax", description="per request: min-max of a source's scores, or 1 / (rank + offset)"
    )
    rank_offset: float = Field(10.0, gt=0, description="offset of the reciprocal-rank normalisation")
    k: int = Field(10, ge=1, description="cut-off of the NDCG being maximised")
    grid: list[float] = Field(
        default_factory=lambda: [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0],
        description="weights tried for one coordinate at a time",
    )
    max_sweeps: int = Field(5, ge=1, description="coordinate-ascent passes over the sources")


class MultiObjectiveConfig(Section):
    """Expected value = p(click) x p(purchase | click) x price."""

    click: LGBMConfig = Field(default_factory=lambda: LGBMConfig(objective="binary"))
    conversion: LGBMConfig = Field(default_factory=lambda: LGBMConfig(objective="binary"))
    missing_price: Literal["median", "one"] = Field(
        "median",
        description="price of an item without one: the median known price (its category's when known), "
        "or 1 (order by p(purchase) alone)",
    )
    price_exponent: float = Field(
        1.0, ge=0, description="value = price ** exponent (0 = ignore price, 1 = expected revenue)"
    )


class ConversionConfig(Section):
    """The Taobao purchase-prediction experiment (:mod:`shelfwise.ranking.conversion`)."""

    test_cut: str = Field(
        "2017-12-01", description="history < cut, labels = purchases in [cut, cut + horizon)"
    )
    train_cuts: list[str] = Field(
        default_factory=lambda: ["2017-11-26", "2017-11-27", "2017-11-28"],
        description="cuts of the training windows (each label window must end by test_cut)",
    )
    horizon_days: float = Field(3.0, gt=0, description="length of the label window")
    lookback_days: float | None = Field(None, gt=0, description="only pairs seen this recently (None = all)")
    features: FeatureConfig = Field(
        default_factory=lambda: FeatureConfig(
            groups=["popularity", "recency", "quality", "category", "affinity", "funnel", "user"]
        )
    )
    lgbm: LGBMConfig = Field(
        default_factory=lambda: LGBMConfig(
            objective="binary", num_leaves=15, min_child_samples=40, learning_rate=0.03, n_estimators=600
        )
    )
    early_stopping_fraction: float = Field(0.25, gt=0, lt=1, description="users held out for early stopping")
    refit: bool = Field(
        True, description="after early stopping, refit on every training user with the rounds it chose"
    )
    seed: int = Field(0, description="seed of the early-stopping fold")
