"""Exposure fairness per arm on the scorecard (what ``shelfwise experiment report --json`` prints): brand and
item exposure Gini and long-tail share from logged impressions, with scipy bootstrap intervals by user."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.data.schema import IMPRESSION_SCHEMA
from shelfwise.experiments.analysis import analyse_tables, render_markdown
from shelfwise.experiments.config import Experiment, ExperimentSettings, Variant
from shelfwise.experiments.exposure import ExposureCatalogue, exposure_estimates, exposure_matrix
from shelfwise.experiments.stats import gini

T0 = datetime(2026, 1, 1, tzinfo=UTC)
#: 40 items, 8 brands of 5 items; items i0..i7 are the popular head (20%): every click is on them.
ITEMS = pa.table(
    {
        "item_id": [f"i{j}" for j in range(40)],
        "brand": [f"br{j // 5}" for j in range(40)],
        "category": ["c"] * 40,
        "price": [1.0] * 40,
    }
)


def _events(n: int) -> pa.Table:
    rows = [
        {
            "event_id": f"e{k}",
            "user_id": f"x{k}",
            "item_id": f"i{k % 8}",
            "type": "click",
            "value": None,
            "timestamp": T0,
            "request_id": None,
        }
        for k in range(n)
    ]
    return pa.Table.from_pylist(rows)


def _impressions(users: int, rng: np.random.Generator) -> pa.Table:
    rows = []
    for u in range(users):
        arm = "a" if u % 2 else "b"
        if arm == "a":  # concentrated: the first brands and the head, in relevance order
            ids = [f"i{j}" for j in range(10)]
        else:  # spread: ten items drawn from the whole catalogue
            ids = [f"i{j}" for j in rng.choice(40, 10, replace=False)]
        rows.append(
            {
                "request_id": f"r{u}",
                "user_id": f"u{u}",
                "timestamp": T0,
                "context": "{}",
                "item_ids": ids,
                "scores": None,
                "arm": f"x:{arm}",
            }
        )
    return pa.Table.from_pylist(rows, schema=IMPRESSION_SCHEMA)


def test_a_spread_arm_has_lower_exposure_gini_and_more_long_tail_with_intervals() -> None:
    exp = Experiment(name="x", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    imps = _impressions(400, np.random.default_rng(0))
    result = analyse_tables(exp, imps, _events(50), ITEMS, ExperimentSettings()).to_dict()
    a, b = result["arms"]["a"]["metrics"], result["arms"]["b"]["metrics"]
    # known answers for arm a: every list is i0..i9 (brands br0, br1; head i0..i7 and tail i8, i9)
    w = 1 / np.log2(np.arange(2, 12))
    assert a["gini_brand_exposure"]["value"] == pytest.approx(
        gini(np.r_[w[:5].sum(), w[5:].sum(), [0] * 6]), abs=1e-6
    )
    assert a["long_tail_share"]["value"] == pytest.approx(w[8:].sum() / w.sum(), abs=1e-6)
    for m in ("gini_brand_exposure", "gini_item_exposure", "long_tail_share"):
        assert b[m]["low"] <= b[m]["value"] <= b[m]["high"] and b[m]["high"] > b[m]["low"], m
    assert b["gini_brand_exposure"]["value"] < 0.2 < a["gini_brand_exposure"]["value"]
    assert b["gini_item_exposure"]["value"] < a["gini_item_exposure"]["value"]
    assert b["long_tail_share"]["value"] > 0.6 > a["long_tail_share"]["value"]
    cmp = {c["metric"]: c for c in result["comparisons"]}
    assert cmp["gini_brand_exposure"]["significant"] and cmp["gini_brand_exposure"]["diff"] < 0
    assert cmp["long_tail_share"]["significant"] and cmp["long_tail_share"]["diff"] > 0
    assert cmp["ctr"]["verdict"]  # the decision metrics are still judged beside them
    md = render_markdown(result)
    assert "brand exposure Gini" in md and "long-tail share" in md


def test_the_interval_comes_from_resampling_users_not_lists() -> None:
    """Ten identical lists of one shopper are one unit: the error by user is larger than by list."""
    cat = ExposureCatalogue.from_tables(ITEMS, _events(8))
    by_user = [[["i0", "i1"]] * 10 for _ in range(6)] + [[[f"i{10 + u}", f"i{20 + u}"]] for u in range(12)]
    by_list = [[ids] for lists in by_user for ids in lists]
    user = exposure_estimates(exposure_matrix(by_user, cat), cat, alpha=0.05, seed=1)["long_tail_share"]
    lst = exposure_estimates(exposure_matrix(by_list, cat), cat, alpha=0.05, seed=1)["long_tail_share"]
    assert user.n == 18 and lst.n == 72
    assert user.low <= user.value <= user.high and lst.low <= lst.value <= lst.high
    assert user.se > 1.5 * lst.se  # the standard error the arm comparisons use
