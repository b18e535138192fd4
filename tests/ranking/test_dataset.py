"""Training data of the ranker: the validation view never sees test events; labels and sampling are right."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.encoded.data import RecommendData
from shelfwise.encoded.interactions import RankingData
from shelfwise.encoded.splits import LeakageError, Split
from shelfwise.ranking import (
    FeatureConfig,
    FeatureSet,
    RankingFrame,
    RecommenderSource,
    RequestSet,
    build_frame,
    contexts_for,
    fit_state,
    generate_requests,
    validation_view,
)
from shelfwise.retrieval.baselines import ItemKNN, Popularity

from .conftest import K


def _frame(data: RecommendData, negatives: int | None = 20) -> tuple[RequestSet, RankingFrame]:
    view = validation_view(data)
    sources = [RecommenderSource(ItemKNN(k=50, num_threads=1)), RecommenderSource(Popularity())]
    for s in sources:
        s.fit(view)
    requests = generate_requests(
        sources, contexts_for(view, view.ranking.test_users), view.ranking.test_targets, K
    )
    fs = FeatureSet(FeatureConfig(), [s.name for s in sources])
    return requests, build_frame(requests, fs, fit_state(view), negatives_per_group=negatives, seed=0)


def test_view_holds_out_the_validation_events_and_drops_the_test_events(loo_data: RecommendData) -> None:
    view = validation_view(loo_data)
    assert view.split.test.tolist() == loo_data.split.valid.tolist()
    assert view.split.valid.size == 0 and view.split.train.tolist() == loo_data.split.train.tolist()
    assert np.intersect1d(view.split.test, loo_data.split.test).size == 0
    assert (view.ranking.items.ids == loo_data.ranking.items.ids).all()  # same dense ids
    assert (view.ranking.train_valid != loo_data.ranking.train).nnz == 0
    assert view.ranking.test_users.tolist() == loo_data.ranking.valid_users.tolist()
    view.split.check_disjoint()


def test_view_refuses_a_split_whose_validation_overlaps_test(loo_data: RecommendData) -> None:
    s = loo_data.split
    bad = Split(s.name, s.table, s.train, s.valid, np.union1d(s.test, s.valid[:3]))
    with pytest.raises(LeakageError):
        validation_view(RecommendData(bad, loo_data.ranking, loo_data.items))


def _with_test_items_changed(data: RecommendData) -> RecommendData:
    table = data.split.table
    items = np.asarray(table.column("item_id").to_pylist(), dtype=object)
    rng = np.random.default_rng(1)
    items[data.split.test] = rng.choice(data.ranking.items.ids, data.split.test.size)
    changed = table.set_column(table.column_names.index("item_id"), "item_id", pa.array(items.tolist()))
    s = data.split
    split = Split(s.name, changed, s.train, s.valid, s.test, s.key, s.meta)
    return RecommendData(split, RankingData.from_split(split), data.items)


def test_training_frame_does_not_depend_on_test_events(loo_data: RecommendData) -> None:
    changed = _with_test_items_changed(loo_data)
    assert (changed.ranking.test_targets != loo_data.ranking.test_targets).any()
    _, a = _frame(loo_data)
    _, b = _frame(changed)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.items, b.items)


def test_labels_mark_the_validation_targets_and_negatives_are_sampled(loo_data: RecommendData) -> None:
    requests, frame = _frame(loo_data, negatives=20)
    view = validation_view(loo_data)
    target_of = dict(zip(view.ranking.test_users.tolist(), view.ranking.test_targets.tolist(), strict=True))
    for ctx, merged, y in zip(requests.contexts, requests.merged, requests.labels, strict=True):
        assert merged.items[y > 0].tolist() == [target_of[ctx.user_index]]
    assert 0 < requests.recall <= 1 and len(requests.merged) == round(requests.recall * requests.n_requests)
    assert (frame.group_sizes <= 21).all() and frame.labels.sum() == frame.group_sizes.size
    assert frame.features.dtype == np.float32 and frame.features.shape[0] == frame.labels.size
    fit, held = frame.split_by_user(0.25, seed=0)
    assert np.intersect1d(fit.users, held.users).size == 0
    assert fit.group_sizes.sum() + held.group_sizes.sum() == frame.labels.size
