"""Expected-value ordering: values with missing prices, the two models, and the order they give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.metrics import get_metric
from shelfwise.ranking import (
    ExpectedValueRanker,
    FeatureConfig,
    FeatureSet,
    ItemAttributes,
    LGBMConfig,
    MultiObjectiveConfig,
    item_values,
)


def _attrs(prices: list[float | None], cats: list[str | None] | None = None) -> ItemAttributes:
    cols: dict[str, list[object]] = {"item_id": [str(i) for i in range(len(prices))], "price": list(prices)}
    if cats is not None:
        cols["category"] = list(cats)
    return ItemAttributes.from_table(pa.table(cols))


def test_missing_prices_take_the_category_median_or_one() -> None:
    attrs = _attrs([10.0, 30.0, None, 100.0, None], ["A", "A", "A", "B", None])
    items = np.arange(5)
    median = item_values(items, attrs, MultiObjectiveConfig())
    assert median.tolist() == [10.0, 30.0, 20.0, 100.0, 30.0]  # A's median 20; no category: overall 30
    assert item_values(items, attrs, MultiObjectiveConfig(missing_price="one")).tolist() == [
        10,
        30,
        1,
        100,
        1,
    ]
    assert item_values(items, attrs, MultiObjectiveConfig(price_exponent=0)).tolist() == [1.0] * 5
    assert item_values(items, _attrs([None] * 5), MultiObjectiveConfig()).tolist() == [1.0] * 5
    assert item_values(np.array([0]), attrs, MultiObjectiveConfig(price_exponent=0.5))[0] == pytest.approx(
        10**0.5
    )


def _data(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    clicked = (rng.random(n) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(np.float32)  # click follows x0
    buy_given = rng.random(n) < 1 / (1 + np.exp(-2 * x[:, 1]))  # purchase after a click follows x1
    purchased = (clicked * buy_given).astype(np.float32)
    return x, clicked, purchased, rng.integers(0, 300, n)


def test_click_and_conversion_models_learn_their_own_signal(tmp_path: Path) -> None:
    x, clicked, purchased, users = _data()
    fs = FeatureSet(FeatureConfig(groups=[]), [])
    lg = LGBMConfig(objective="binary", n_estimators=80, min_child_samples=20, num_threads=1)
    model = ExpectedValueRanker(MultiObjectiveConfig(click=lg, conversion=lg)).fit(
        x, clicked, purchased, users, fs
    )
    attrs = _attrs([10.0] * len(x))
    out = model.predict(x, np.arange(len(x)), attrs)
    auc = get_metric("auc")
    assert auc.compute(clicked, out["p_click"]) > 0.7
    assert auc.compute(clicked, x[:, 0]) > 0.7 and auc.compute(clicked, out["p_purchase_given_click"]) < 0.6
    eng = clicked > 0
    assert auc.compute(purchased[eng], out["p_purchase_given_click"][eng]) > 0.7
    np.testing.assert_allclose(
        out["expected_value"], out["p_click"] * out["p_purchase_given_click"] * 10, rtol=1e-5
    )
    # equal probabilities, different prices: the dearer item is worth more
    same = np.repeat(x[:1], 2, axis=0)
    ev = model.predict(same, np.array([0, 1]), _attrs([5.0, 50.0]))["expected_value"]
    assert ev[1] == pytest.approx(10 * ev[0], rel=1e-5)
    model.save(tmp_path)
    back = ExpectedValueRanker.load(tmp_path)
    np.testing.assert_allclose(
        back.predict(x[:50], np.arange(50), attrs)["p_purchase"], out["p_purchase"][:50], rtol=1e-6
    )
