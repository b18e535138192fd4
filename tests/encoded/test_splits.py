"""Split objects on small hand-made tables, and the leakage guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from shelfwise.encoded.splits import ByQuery, GivenSplit, LeakageError, LeaveOneOut, Split, TemporalSplit


def events() -> pd.DataFrame:
    # user a: 4 events, two at t=3 ordered by seq (e4 before e3); user b: 3 events; user c: 2 events
    return pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3", "e4", "b1", "b2", "b3", "c1", "c2"],
            "user_id": ["a", "a", "a", "a", "b", "b", "b", "c", "c"],
            "item_id": ["i1", "i2", "i3", "i4", "i1", "i5", "i6", "i2", "i3"],
            "type": ["view"] * 9,
            "timestamp": [1, 2, 3, 3, 5, 1, 9, 4, 2],
            "seq": [0, 1, 5, 4, 6, 7, 8, 9, 10],
        }
    )


def ids(split: Split, part: str) -> list[str]:
    return sorted(getattr(split, f"{part}_table").column("event_id").to_pylist())


def test_leave_one_out_orders_by_timestamp_then_seq() -> None:
    s = LeaveOneOut().split(events())
    # a: order e1(1) e2(2) e4(3, seq 4) e3(3, seq 5) -> test e3, valid e4
    # b: order b2(1) b1(5) b3(9) -> test b3, valid b1 ; c has 2 events -> all train
    assert ids(s, "test") == ["b3", "e3"]
    assert ids(s, "valid") == ["b1", "e4"]
    assert ids(s, "train") == ["b2", "c1", "c2", "e1", "e2"]
    assert s.meta["short_users"] == 1


def test_leave_one_out_drop_short_users() -> None:
    s = LeaveOneOut(short_users="drop").split(pa.Table.from_pandas(events()))
    assert ids(s, "train") == ["b2", "e1", "e2"]
    assert s.sizes() == {"train": 3, "valid": 2, "test": 2}


def test_leave_one_out_rejects_rows_without_item() -> None:
    ev = events()
    ev.loc[0, "item_id"] = None
    with pytest.raises(ValueError, match="item_id"):
        LeaveOneOut().split(ev)


def test_temporal_split_boundaries() -> None:
    s = TemporalSplit(cut_time=5, valid_cut_time=3).split(events())
    # train: t < 3 ; valid: 3 <= t < 5 ; test: t >= 5 (b1 at exactly 5 is test)
    assert ids(s, "train") == ["b2", "c2", "e1", "e2"]
    assert ids(s, "valid") == ["c1", "e3", "e4"]
    assert ids(s, "test") == ["b1", "b3"]
    with pytest.raises(ValueError):
        TemporalSplit(cut_time=3, valid_cut_time=5).split(events())


def test_temporal_split_on_datetime_column() -> None:
    ev = events()
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], unit="D", utc=True)  # 1970-01-02 ...
    s = TemporalSplit(cut_time="1970-01-06").split(ev)  # day 5 -> test
    assert ids(s, "test") == ["b1", "b3"]
    with pytest.raises(TypeError):
        TemporalSplit(cut_time=5).split(ev)


def judgements() -> pd.DataFrame:
    queries = [f"q{i}" for i in range(11) for _ in range(3)]
    return pd.DataFrame({"query": queries, "item_id": [f"p{i}" for i in range(33)], "relevance": 1.0})


def test_by_query_every_query_in_exactly_one_test_fold() -> None:
    splits = ByQuery(folds=5, seed=0).all_folds(judgements())
    test_queries = [set(s.test_table.column("query").to_pylist()) for s in splits]
    all_test = [q for qs in test_queries for q in qs]
    assert sorted(all_test) == sorted({f"q{i}" for i in range(11)})  # each query once
    assert sorted(len(q) for q in test_queries) == [2, 2, 2, 2, 3]  # round-robin: sizes differ by <= 1
    for s in splits:
        assert not set(s.train_table.column("query").to_pylist()) & set(
            s.test_table.column("query").to_pylist()
        )
        assert s.train.size + s.test.size == 33
    other_seed = ByQuery(folds=5, seed=1).all_folds(judgements())
    assert [set(s.test_table.column("query").to_pylist()) for s in other_seed] != test_queries


def test_by_query_valid_fold() -> None:
    s = ByQuery(folds=4, seed=0, valid_fold=True).split(judgements(), fold=1)
    parts = [set(getattr(s, f"{p}_table").column("query").to_pylist()) for p in ("train", "valid", "test")]
    assert parts[1] and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_given_split() -> None:
    given = pd.DataFrame({"event_id": ["e1", "e2", "e3", "zz"], "part": ["train", "train", "test", "test"]})
    s = GivenSplit(given).split(events())
    assert ids(s, "train") == ["e1", "e2"] and ids(s, "test") == ["e3"] and ids(s, "valid") == []
    assert s.meta == {"unassigned": 6, "unknown_event_ids": 1}
    conflicting = pd.DataFrame({"event_id": ["e1", "e1"], "part": ["train", "test"]})
    with pytest.raises(LeakageError):
        GivenSplit(conflicting).split(events())
    with pytest.raises(ValueError, match="unknown parts"):
        GivenSplit(pd.DataFrame({"event_id": ["e1"], "part": ["dev"]})).split(events())


def test_check_disjoint_catches_shared_events_and_queries() -> None:
    table = pa.Table.from_pandas(events())
    rows = np.arange(table.num_rows)
    ok = Split("manual", table, rows[:5], rows[5:6], rows[6:])
    ok.check_disjoint()
    with pytest.raises(LeakageError, match="train and test"):
        Split("manual", table, rows[:5], rows[5:6], rows[4:]).check_disjoint()
    # same event id on two different rows is leakage too
    dup = pa.Table.from_pandas(events().assign(event_id=["x"] * 9))
    with pytest.raises(LeakageError):
        Split("manual", dup, rows[:1], rows[1:2], rows[2:3]).check_disjoint()
    # a table without event ids is checked by row
    no_ids = table.drop(["event_id"])
    Split("manual", no_ids, rows[:1], rows[1:2], rows[2:3]).check_disjoint()
    with pytest.raises(LeakageError):
        Split("manual", no_ids, rows[:2], rows[1:2], rows[2:3]).check_disjoint()
    # by query: different rows, same query
    jt = pa.Table.from_pandas(judgements())
    with pytest.raises(LeakageError, match="queries"):
        Split("q", jt, np.array([0]), np.zeros(0, np.int64), np.array([1]), key="query").check_disjoint()
