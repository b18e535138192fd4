"""Multi-objective ranking: order by expected value = p(click) x p(purchase | click) x value(price).

Two LightGBM binary models on the same features: the click model on every candidate (label: the shopper
engaged with the item in the label window), the conversion model only on the engaged ones (label: bought
it), so their product is p(purchase). The value is ``price ** price_exponent``; an item without a price gets
the median known price of its category (else of the catalogue) under ``missing_price="median"``, or 1 under
``"one"`` (then unpriced items are ordered by p(purchase) alone, on a different scale from priced ones —
use it only when no item has a price). A catalogue with no prices at all gives value 1 everywhere, so
the order is by p(purchase).

Example:
    >>> import numpy as np, pyarrow as pa
    >>> attrs = ItemAttributes.from_table(pa.table({"item_id": ["a", "b", "c"], "price": [10.0, None, 30.0]}))
    >>> item_values(np.array([0, 1, 2]), attrs, MultiObjectiveConfig()).tolist()
    [10.0, 20.0, 30.0]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.config import MultiObjectiveConfig
from shelfwise.ranking.features import FeatureRequest, FeatureSet
from shelfwise.ranking.lgbm import LGBMModel
from shelfwise.ranking.state import FeatureState

__all__ = ["ExpectedValueRanker", "item_values"]


def item_values(items: np.ndarray, attributes: ItemAttributes, config: MultiObjectiveConfig) -> np.ndarray:
    """float32 value of each item: ``price ** exponent`` with missing prices filled per ``missing_price``."""
    price = attributes.price.astype(np.float64)
    known = np.isfinite(price) & (price > 0)
    p = price[items]
    if not known.any() or config.price_exponent == 0:
        return np.ones(len(items), dtype=np.float32)
    missing = ~(np.isfinite(p) & (p > 0))
    if missing.any():
        if config.missing_price == "one":
            p[missing] = 1.0
        else:
            fill = np.full(missing.sum(), float(np.median(price[known])))
            cats = attributes.category[items][missing]
            for c in np.unique(cats[cats >= 0]):
                in_cat = known & (attributes.category == c)
                if in_cat.any():
                    fill[cats == c] = float(np.median(price[in_cat]))
            p[missing] = fill
    return (p**config.price_exponent).astype(np.float32)


def _refit(model: LGBMModel, x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> LGBMModel:
    cfg = model.config.model_copy(update={"n_estimators": max(model.best_iteration, 1)})
    return LGBMModel(cfg).fit(x, y, feature_names=names)


class ExpectedValueRanker:
    """p(click) and p(purchase | click) models; scores = their product times the item's value.

    Attributes:
        click: the click model (all candidates).
        conversion: the conversion model (engaged candidates only).
        features: the feature set both models read (set by :meth:`fit`).
        state: the feature state read at request time (for :meth:`score_requests`).
    """

    name = "expected_value"

    def __init__(self, config: MultiObjectiveConfig | None = None) -> None:
        self.config = config or MultiObjectiveConfig()
        self.click = LGBMModel(self.config.click)
        self.conversion = LGBMModel(self.config.conversion)
        self.features: FeatureSet | None = None
        self.state: FeatureState | None = None

    def fit(
        self,
        x: np.ndarray,
        clicked: np.ndarray,
        purchased: np.ndarray,
        users: np.ndarray,
        features: FeatureSet,
        *,
        holdout: float = 0.2,
        seed: int = 0,
        refit: bool = False,
    ) -> ExpectedValueRanker:
        """Train both models; early stopping on a seeded fold of users.

        Args:
            x: float32 ``(n, n_features)`` from ``features``.
            clicked: 0/1 per row (any engagement in the label window).
            purchased: 0/1 per row (bought in the label window; implies clicked).
            users: the user of each row (the early-stopping fold is drawn by user).
            features: the feature set that produced ``x``.
            holdout: share of users in the early-stopping fold.
            seed: seed of the fold.
            refit: afterwards, refit both models on every user with the rounds early stopping chose.
        """
        clicked = np.maximum(np.asarray(clicked, np.float32), np.asarray(purchased, np.float32))
        purchased = np.asarray(purchased, np.float32)
        uniq = np.unique(users)
        held = np.random.default_rng(seed).choice(uniq, max(1, round(holdout * uniq.size)), replace=False)
        es = np.isin(users, held)
        names = features.names
        self.features = features
        self.click.fit(x[~es], clicked[~es], valid=(x[es], clicked[es], None), feature_names=names)
        eng = clicked > 0
        fit_rows, es_rows = eng & ~es, eng & es
        self.conversion.fit(
            x[fit_rows],
            purchased[fit_rows],
            valid=(x[es_rows], purchased[es_rows], None),
            feature_names=names,
        )
        if refit:
            self.click = _refit(self.click, x, clicked, names)
            self.conversion = _refit(self.conversion, x[eng], purchased[eng], names)
        return self

    def predict(self, x: np.ndarray, items: np.ndarray, attributes: ItemAttributes) -> dict[str, np.ndarray]:
        """``p_click``, ``p_purchase_given_click``, ``p_purchase``, ``value`` and ``expected_value`` per row."""
        p_click = self.click.predict(x)
        p_conv = self.conversion.predict(x)
        value = item_values(items, attributes, self.config)
        p_buy = p_click * p_conv
        return {
            "p_click": p_click,
            "p_purchase_given_click": p_conv,
            "p_purchase": p_buy,
            "value": value,
            "expected_value": p_buy * value,
        }

    def score_requests(self, requests: Sequence[FeatureRequest]) -> list[np.ndarray]:
        """Expected value of each request's candidates (the scorer interface shared with the ranker)."""
        if self.features is None or self.state is None:
            raise RuntimeError("fit the models and set .state before scoring")
        x = self.features.compute_many(requests, self.state)
        items = np.concatenate([r.candidates.items for r in requests]) if requests else np.zeros(0, np.int32)
        ev = self.predict(x, items, self.state.attributes)["expected_value"]
        bounds = np.cumsum([0] + [len(r.candidates) for r in requests])
        return [ev[bounds[k] : bounds[k + 1]] for k in range(len(requests))]

    def save(self, folder: Path) -> None:
        """Write ``multi_objective.json`` and the two LightGBM models in ``click/`` and ``conversion/``."""
        if self.features is None:
            raise RuntimeError("not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"config": self.config.model_dump(), "features": self.features.to_json()}
        (folder / "multi_objective.json").write_text(json.dumps(meta, indent=2))
        self.click.save(folder / "click")
        self.conversion.save(folder / "conversion")

    @classmethod
    def load(cls, folder: Path, state: FeatureState | None = None) -> ExpectedValueRanker:
        """Read what :meth:`save` wrote."""
        folder = Path(folder)
        meta = json.loads((folder / "multi_objective.json").read_text())
        model = cls(MultiObjectiveConfig(**meta["config"]))
        model.features = FeatureSet.from_json(meta["features"])
        model.click = LGBMModel.load(folder / "click")
        model.conversion = LGBMModel.load(folder / "conversion")
        model.state = state
        return model
