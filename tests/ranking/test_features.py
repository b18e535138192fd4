"""Features: hand-computed values, documentation of every column, no dependence on id values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.ranking import (
    FEATURE_GROUPS,
    EventBatch,
    FeatureConfig,
    FeatureRequest,
    FeatureSet,
    FeatureState,
    ItemAttributes,
    StateEvent,
    UserAffinity,
    merge_candidates,
)
from shelfwise.retrieval.base import Candidates, UserContext


@pytest.fixture()
def attrs() -> ItemAttributes:
    return ItemAttributes.from_table(
        pa.table(
            {
                "item_id": ["a", "b", "c", "d"],
                "category": ["X", "X", "Y", None],
                "brand": ["B1", "B2", "B1", None],
                "price": [10.0, 20.0, 200.0, None],
            }
        )
    )


@pytest.fixture()
def state(attrs: ItemAttributes) -> FeatureState:
    events = [
        StateEvent(0, 0, "view", 0.0),
        StateEvent(0, 1, "view", 10.0),
        StateEvent(0, 1, "add_to_cart", 20.0),
        StateEvent(1, 0, "view", 30.0),
        StateEvent(1, 1, "view", 40.0),
        StateEvent(1, 1, "purchase", 50.0),
    ]
    return FeatureState.from_batch(EventBatch.from_events(events), attrs, n_users=2)


def _request(items: list[int], history: list[int], user: int = 0) -> FeatureRequest:
    c = Candidates("src", np.asarray(items, np.int32), np.linspace(1, 0, len(items)).astype(np.float32))
    ctx = UserContext(user_index=user, history=np.asarray(history, np.int32))
    return FeatureRequest(ctx, merge_candidates([c]), now=3600.0 + 50.0)


def _values(fs: FeatureSet, req: FeatureRequest, state: FeatureState) -> dict[str, np.ndarray]:
    x = fs.compute(req, state)
    return {n: x[:, j] for j, n in enumerate(fs.names)}


def test_hand_computed_values(state: FeatureState) -> None:
    fs = FeatureSet(FeatureConfig(conversion_prior=0.0), ["src"])
    v = _values(fs, _request([1, 2, 0], history=[0, 1, 1]), state)
    assert v["src_rank"].tolist() == [1.0, 2.0, 3.0] and v["n_sources"].tolist() == [1.0, 1.0, 1.0]
    assert v["src_norm"].tolist() == [1.0, 0.5, 0.0]
    assert v["hist_count"].tolist() == [2.0, 0.0, 1.0]
    assert (
        v["hist_steps_since"][0] == 1.0
        and np.isnan(v["hist_steps_since"][1])
        and v["hist_steps_since"][2] == 3.0
    )
    assert v["ui_carts"].tolist() == [1.0, 0.0, 0.0] and v["ui_views"].tolist() == [1.0, 0.0, 1.0]
    assert v["ui_weighted"][0] == pytest.approx(1.0 + 3.0)
    assert v["pop_views"][0] == pytest.approx(np.log1p(2)) and v["pop_purchases"][0] == pytest.approx(
        np.log1p(1)
    )
    assert v["item_conversion"][0] == pytest.approx(0.5)  # b: 1 purchase / 2 views, no smoothing
    assert v["item_hours_since_last"][0] == pytest.approx(np.log1p(1.0))  # last event at 50 s, now 3650 s
    # history a, b, b: category X share 1, brand B1 1/3, B2 2/3; item c is category Y
    assert v["aff_category"].tolist() == [1.0, 0.0, 1.0]
    assert v["aff_brand"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    # transitions: user streams a->b (twice) so after b (the last item) nothing is known; after a, b
    assert v["trans_last"].tolist() == [0.0, 0.0, 0.0]
    v2 = _values(fs, _request([1, 2], history=[0]), state)
    assert v2["trans_last"].tolist() == [1.0, 0.0] and v2["trans_last_count"][0] == pytest.approx(np.log1p(2))
    # undirected: after b, a is adjacent twice (a->b by both users)
    sym = FeatureSet(FeatureConfig(groups=["sequence"], transition_symmetric=True))
    x = sym.compute(_request([0, 2], history=[0, 1]), state)
    assert x[:, 0].tolist() == [1.0, 0.0]


def test_unknown_values_are_nan_not_zero(state: FeatureState) -> None:
    fs = FeatureSet(FeatureConfig(), ["src"])
    v = _values(fs, _request([3], history=[0]), state)  # item d: no category, brand or price
    for col in ("aff_category", "aff_brand", "aff_price_band", "log_price", "cat_events", "item_rating"):
        assert np.isnan(v[col][0]), col
    assert np.isnan(v["item_hours_since_last"][0])  # never interacted with
    anonymous = _values(fs, _request([0], history=[], user=-1), state)
    assert np.isnan(anonymous["u_events"][0]) and anonymous["ui_views"][0] == 0.0


def test_precomputed_affinity_is_used(state: FeatureState, attrs: ItemAttributes) -> None:
    fs = FeatureSet(FeatureConfig(groups=["affinity"]), [])
    req = _request([0, 2], history=[0])
    aff = UserAffinity.from_named(attrs, categories={"Y": 3.0, "X": 1.0}, brands={"B1": 1.0})
    x = fs.compute(FeatureRequest(req.context, req.candidates, affinity=aff), state)
    assert x[:, 0].tolist() == [0.25, 0.75] and x[:, 1].tolist() == [1.0, 1.0]


def test_every_column_is_documented_and_groups_are_known() -> None:
    fs = FeatureSet(FeatureConfig(), ["als", "popular"])
    docs = fs.describe()
    assert list(docs) == list(fs.names) and all(docs.values())
    assert len(set(fs.names)) == len(fs.names)
    assert {f.group for f in fs.features} == set(FEATURE_GROUPS)
    with pytest.raises(ValueError, match="unknown feature groups"):
        FeatureSet(FeatureConfig(groups=["nope"]))
    assert FeatureSet.from_json(fs.to_json()).names == fs.names


def test_features_do_not_depend_on_id_values(state: FeatureState, attrs: ItemAttributes) -> None:
    """Relabelling items (a permutation of the catalogue) leaves every feature value unchanged."""
    perm = np.array([2, 0, 3, 1])  # new index of old item i is perm[i]
    inv = np.argsort(perm)
    table = pa.table(
        {
            "item_id": ["a", "b", "c", "d"],
            "category": [["X", "X", "Y", None][k] for k in inv],
            "brand": [["B1", "B2", "B1", None][k] for k in inv],
            "price": [[10.0, 20.0, 200.0, None][k] for k in inv],
        }
    )
    attrs2 = ItemAttributes.from_table(table)
    events = [
        StateEvent(0, 0, "view", 0.0),
        StateEvent(0, 1, "view", 10.0),
        StateEvent(1, 1, "purchase", 50.0),
    ]
    moved = [StateEvent(e.user, int(perm[e.item]), e.type, e.timestamp, e.value) for e in events]
    st1 = FeatureState.from_batch(EventBatch.from_events(events), attrs, 2)
    st2 = FeatureState.from_batch(EventBatch.from_events(moved), attrs2, 2)
    fs = FeatureSet(FeatureConfig(), ["src"])
    x1 = fs.compute(_request([1, 2, 0, 3], history=[0, 1]), st1)
    x2 = fs.compute(_request(perm[[1, 2, 0, 3]].tolist(), history=perm[[0, 1]].tolist()), st2)
    np.testing.assert_allclose(x1, x2, equal_nan=True)


def test_merge_keeps_source_columns_fixed() -> None:
    a = Candidates(
        "a", np.array([5, 6], np.int32), np.array([2.0, 1.0], np.float32), np.array([9, -1], np.int32)
    )
    b = Candidates("b", np.array([6, 7], np.int32), np.array([0.5, 0.4], np.float32))
    m = merge_candidates([b, a], ("a", "b", "c"))
    assert m.items.tolist() == [5, 6, 7] and m.sources == ("a", "b", "c")
    assert np.isnan(m.scores[:, 2]).all() and m.anchors.tolist() == [9, -1, -1]
    assert m.normalised("minmax")[:, 1].tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="not one of"):
        merge_candidates([a], ("b",))
