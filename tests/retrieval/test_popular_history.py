"""Popular / trending sources and the history helpers, on tiny hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.data.sequences import SYNTHETIC_EPOCH
from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.history import DAY, EventLog, RecencyConfig, TimedContext, train_only, weigh_history
from shelfwise.retrieval.popular import PopularConfig, PopularSource, TrendingConfig, TrendingSource
from tests.retrieval.conftest import tiny_data


def test_popular_sums_event_weights_or_counts() -> None:
    data = tiny_data({"u1": ["a", "b"], "u2": ["a"]}, types={"u1": ["view", "purchase"], "u2": ["view"]})
    a, b = data.ranking.items.encode(["a", "b"]).tolist()
    weighted = PopularSource().fit(data).score_all([UserContext()])[0]
    assert weighted[a] == 2.0 and weighted[b] == 5.0  # view 1 + view 1; purchase 5
    counted = PopularSource(PopularConfig(event_weights=False)).fit(data).score_all([UserContext()])[0]
    assert counted[a] == 2.0 and counted[b] == 1.0


def _old_vs_new() -> RecommendData:
    """x bought by three users 30 days ago, y by two users today."""
    old, new = 1_000_000.0, 1_000_000.0 + 30 * DAY
    seqs = {"u1": ["x"], "u2": ["x"], "u3": ["x"], "u4": ["y"], "u5": ["y"]}
    times = {u: [old if s == ["x"] else new] for u, s in seqs.items()}
    return tiny_data(seqs, times=times)


def test_trending_decays_old_sales_by_half_life_in_days() -> None:
    data = _old_vs_new()
    x, y = data.ranking.items.encode(["x", "y"]).tolist()
    assert PopularSource().fit(data).candidates(UserContext(), 1).items.tolist() == [x]
    trending = TrendingSource(TrendingConfig(half_life_days=7.0)).fit(data)
    assert trending.clock_used == "time"
    scores = trending.score_all([UserContext()])[0]
    assert scores[x] == pytest.approx(3 * 5.0 * 2 ** (-30 / 7), rel=1e-4) and scores[y] == pytest.approx(10.0)
    assert trending.candidates(UserContext(), 1).items.tolist() == [y]


def test_trending_on_order_keys_decays_by_later_events_of_the_user() -> None:
    seqs = {"u1": ["x", "y", "z"], "u2": ["y", "x"]}
    times = {u: [float(SYNTHETIC_EPOCH + p) for p in range(len(s))] for u, s in seqs.items()}
    data = tiny_data(seqs, times=times)
    x, y, z = data.ranking.items.encode(["x", "y", "z"]).tolist()
    src = TrendingSource(TrendingConfig(half_life_events=1.0, event_weights=False)).fit(data)
    assert src.clock_used == "order"
    scores = src.score_all([UserContext()])[0]
    assert scores[x] == pytest.approx(0.25 + 1.0)  # two later events for u1, newest for u2
    assert scores[y] == pytest.approx(0.5 + 0.5) and scores[z] == pytest.approx(1.0)


def test_weigh_history_by_hand() -> None:
    ctx = TimedContext(
        history=np.array([4, 7, 4, 9], dtype=np.int32),
        weights=np.array([1.0, 5.0, 1.0, 3.0], dtype=np.float32),
        times=np.array([0.0, 0.0, DAY, 2 * DAY]),
    )
    items, w = weigh_history(ctx, RecencyConfig(half_life_events=None))
    assert items.tolist() == [4, 7, 9] and w.tolist() == [2.0, 5.0, 3.0]
    items, w = weigh_history(ctx, RecencyConfig(half_life_events=1.0, event_weights=False))
    np.testing.assert_allclose(w, [0.125 + 0.5, 0.25, 1.0])
    items, w = weigh_history(ctx, RecencyConfig(half_life_events=None, half_life_days=1.0, max_history=3))
    assert items.tolist() == [7, 4, 9]
    np.testing.assert_allclose(w, [5.0 / 4, 1.0 / 2, 3.0])
    assert weigh_history(UserContext(), RecencyConfig())[0].size == 0


def test_event_log_is_time_ordered_with_sessions_and_detects_order_keys() -> None:
    data = tiny_data({"u": ["a", "b", "c", "d"]}, times={"u": [0.0, 10.0, 5000.0, 5010.0]})
    events = EventLog.from_data(data)
    assert not events.order_keys()
    ctx = events.context(0)
    assert data.ranking.items.decode(ctx.history).tolist() == ["a", "b", "c", "d"]
    assert data.ranking.items.decode(ctx.session).tolist() == ["c", "d"]
    keys = tiny_data(
        {"u": ["a", "b"], "v": ["b"]},
        times={"u": [SYNTHETIC_EPOCH, SYNTHETIC_EPOCH + 1.0], "v": [SYNTHETIC_EPOCH]},
    )
    keyed = EventLog.from_data(keys)
    assert keyed.order_keys() and keyed.context(0).session.size == 0
    assert keyed.events_after().tolist() == [1, 0, 0]


def test_train_only_view_hides_validation_events(shop_data: RecommendData) -> None:
    view = train_only(shop_data)
    assert view.ranking.train_valid is shop_data.ranking.train
    assert EventLog.from_data(view).items.size == shop_data.split.train.size
    assert sum(len(s) for s in view.train_valid_sequences) == shop_data.split.train.size
