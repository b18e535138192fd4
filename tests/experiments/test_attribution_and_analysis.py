"""Attribution (impressions joined with interactions) and the per-arm scorecard on tables with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from shelfwise.data.schema import IMPRESSION_SCHEMA
from shelfwise.experiments.analysis import analyse_tables, render_markdown
from shelfwise.experiments.attribution import attribute
from shelfwise.experiments.config import Experiment, ExperimentSettings, Variant

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVENT_COLS = ["event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id"]


def _imp(rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "request_id": r,
                "user_id": u,
                "timestamp": t,
                "context": "{}",
                "item_ids": ids,
                "scores": None,
                "arm": arm,
            }
            for r, u, t, ids, arm in rows
        ],
        schema=IMPRESSION_SCHEMA,
    )


def _events(rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(EVENT_COLS, r, strict=True)) for r in rows])


def test_direct_then_latest_impression_within_the_window() -> None:
    imp = _imp(
        [
            ("r1", "u1", T0, ["a", "b", "c"], None),
            ("r2", "u1", T0 + timedelta(hours=1), ["c", "d"], None),
        ]
    )
    ev = _events(
        [
            ("e1", "u1", "b", "click", None, T0 + timedelta(minutes=1), "r1"),  # direct
            (
                "e2",
                "u1",
                "c",
                "purchase",
                5.0,
                T0 + timedelta(hours=2),
                None,
            ),  # latest showing c: r2, position 1
            ("e3", "u1", "a", "purchase", 5.0, T0 + timedelta(days=3), None),  # outside the window
            ("e4", "u2", "a", "click", None, T0 + timedelta(minutes=1), None),  # another user
            ("e5", "u1", "d", "click", None, T0 - timedelta(minutes=1), None),  # before any impression
        ]
    )
    out = attribute(imp, ev, window_seconds=86_400).to_pylist()
    got = {(r["event_id"], r["request_id"], r["position"], r["direct"]) for r in out}
    assert got == {("e1", "r1", 2, True), ("e2", "r2", 1, False)}


def test_scorecard_detects_an_injected_ctr_difference_and_measures_diversity() -> None:
    rng = np.random.default_rng(1)
    exp = Experiment(name="x", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    items = pa.table(
        {
            "item_id": [f"i{j}" for j in range(20)],
            "brand": [f"br{j % 4}" for j in range(20)],
            "category": [f"c{j % 2}" if j < 10 else "c0" for j in range(20)],
            "price": [2.0] * 20,
        }
    )
    imps, events = [], []
    for u in range(600):
        arm = "a" if u % 2 else "b"
        ids = [f"i{j}" for j in (range(0, 10) if arm == "a" else range(10, 20))]  # b lists: one category only
        for n in range(3):
            rid = f"r{u}-{n}"
            imps.append((rid, f"u{u}", T0, ids, f"x:{arm}"))
            p = 0.05 if arm == "a" else 0.10
            for pos, item in enumerate(ids):
                if rng.random() < p:
                    events.append(
                        (f"e{rid}-{pos}", f"u{u}", item, "click", None, T0 + timedelta(seconds=1), rid)
                    )
    result = analyse_tables(exp, _imp(imps), _events(events), items, ExperimentSettings()).to_dict()
    cmp = {c["metric"]: c for c in result["comparisons"]}
    assert cmp["ctr"]["significant"] and cmp["ctr"]["diff"] > 0
    assert result["arms"]["a"]["metrics"]["diversity"]["value"] > 0.5
    assert result["arms"]["b"]["metrics"]["diversity"]["value"] == 0.0
    assert cmp["diversity"]["significant"]
    assert result["srm"]["passed"] and result["arms"]["a"]["users"] == 300
    assert not cmp["conversion"]["significant"]  # nobody bought anything in either arm
    assert "x" in render_markdown(result) and "passed" in render_markdown(result)


def test_metrics_the_catalogue_cannot_support_are_reported_as_such() -> None:
    exp = Experiment(name="x", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    items = pa.table(
        {
            "item_id": ["i1", "i2"],
            "brand": pa.array([None, None], pa.string()),
            "category": pa.array([None, None], pa.string()),
            "price": [1.0, 2.0],
        }
    )
    imps = _imp([("r1", "u1", T0, ["i1", "i2"], "x:a"), ("r2", "u2", T0, ["i2", "i1"], "x:b")])
    events = _events([("e1", "u1", "i1", "click", None, T0 + timedelta(seconds=1), "r1")])
    result = analyse_tables(exp, imps, events, items, ExperimentSettings()).to_dict()
    assert {c["metric"] for c in result["comparisons"]} == {
        "ctr",
        "conversion",
        "revenue_per_user",
        "gini_item_exposure",
        "long_tail_share",
    }
    assert result["arms"]["a"]["metrics"]["gini_brand_exposure"]["value"] is None
    assert result["arms"]["a"]["metrics"]["brand_fairness"]["value"] is None
    assert any("no item has a brand" in n for n in result["notes"])
    assert "n/a" in render_markdown(result)
