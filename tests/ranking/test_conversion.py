"""The conversion experiment on a shop where carts convert in the following days (the known answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from shelfwise.encoded.splits import LeakageError
from shelfwise.ranking import ConversionConfig, LGBMConfig
from shelfwise.ranking.conversion import build_windows, cut_seconds, run_conversion

DAY = 86_400
START = cut_seconds("2024-01-01")


def _shop(seed: int = 0, n_users: int = 250, n_items: int = 150) -> tuple[pa.Table, pa.Table]:
    """Views every day; 25% of viewed pairs are carted; half of the carted are bought 0.5-2.5 days later."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        for _ in range(rng.integers(8, 20)):
            item = int(rng.zipf(1.5) % n_items)  # popularity carries no purchase signal here
            t = START + rng.uniform(0, 9) * DAY
            rows.append((u, item, "view", t))
            if rng.random() < 0.25:
                rows.append((u, item, "add_to_cart", t + 60))
                if rng.random() < 0.5:
                    rows.append((u, item, "purchase", t + rng.uniform(0.5, 2.5) * DAY))
    rows.sort(key=lambda r: r[3])
    events = pa.table(
        {
            "event_id": [f"e{k}" for k in range(len(rows))],
            "user_id": [f"u{r[0]}" for r in rows],
            "item_id": [f"i{r[1]}" for r in rows],
            "type": [r[2] for r in rows],
            "timestamp": pa.array([int(r[3]) for r in rows], pa.int64()),
        }
    )
    items = pa.table(
        {"item_id": [f"i{i}" for i in range(n_items)], "category": [f"c{i % 7}" for i in range(n_items)]}
    )
    return events, items


def _config() -> ConversionConfig:
    lg = LGBMConfig(objective="binary", num_leaves=7, min_child_samples=20, n_estimators=200, num_threads=1)
    return ConversionConfig(
        test_cut="2024-01-07", train_cuts=["2024-01-03", "2024-01-04"], horizon_days=2.0, lgbm=lg
    )


def test_lightgbm_finds_the_cart_signal_and_beats_popularity() -> None:
    events, items = _shop()
    res = run_conversion(events, items, _config(), n_bootstrap=20)
    m = res.metrics
    assert m["lightgbm"]["auc"] > 0.8 and m["lightgbm"]["auc"] > m["popularity"]["auc"] + 0.2
    assert m["funnel_heuristic"]["auc"] > 0.7  # the heuristic sees carts too
    assert m["lightgbm"]["auc_ci_low"] <= m["lightgbm"]["auc"] <= m["lightgbm"]["auc_ci_high"]
    for name in m:
        assert 0 < m[name]["logloss"] < 0.7, name
    assert "ui_carts" in list(res.importance)[:3]
    assert set(res.data["validation"]) == {
        "lightgbm",
        "popularity",
        "item_conversion_rate",
        "funnel_heuristic",
    }


def test_test_labels_are_exactly_the_next_window_purchases_of_seen_pairs() -> None:
    events, items = _shop(seed=1)
    w = build_windows(events, items, _config())
    df = events.to_pandas()
    cut, end = cut_seconds("2024-01-07"), cut_seconds("2024-01-09")
    seen = df[df.timestamp < cut][["user_id", "item_id"]].drop_duplicates()
    bought = df[(df.timestamp >= cut) & (df.timestamp < end) & (df.type == "purchase")][
        ["user_id", "item_id"]
    ]
    expected = seen.merge(bought.drop_duplicates(), on=["user_id", "item_id"])
    assert int(w.test.purchased.sum()) == len(expected) > 0
    assert w.test.purchased.size == len(seen)
    assert [x["role"] for x in w.info["windows"]] == ["train", "train", "test"]
    # training rows only come from events before the test cut: changing test events changes no training row
    late = df.timestamp >= cut
    df.loc[late, "item_id"] = "i0"
    w2 = build_windows(pa.Table.from_pandas(df, preserve_index=False), items, _config())
    np.testing.assert_array_equal(w.train.features, w2.train.features)
    np.testing.assert_array_equal(w.train.purchased, w2.train.purchased)


def test_label_windows_may_not_reach_the_test_period() -> None:
    events, items = _shop(seed=2, n_users=20)
    bad = _config().model_copy(update={"train_cuts": ["2024-01-06"]})  # 2-day labels end after the cut
    with pytest.raises(LeakageError):
        build_windows(events, items, bad)
    assert pd.Timestamp("2024-01-07", tz="UTC").value / 1e9 == cut_seconds("2024-01-07")
