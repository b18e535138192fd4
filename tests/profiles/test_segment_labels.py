"""Segment labels say what sets each segment apart (issue #20: two segments shared "mixed interests, mid
price, regular buyers" and all six said "mid price, regular buyers")."""

from __future__ import annotations

import re

import numpy as np

from shelfwise.data.synthetic import SyntheticShop
from shelfwise.profiles import ItemCatalog
from shelfwise.profiles.price import weighted_median
from shelfwise.profiles.segment_labels import _distinct_labels
from tests.profiles.test_segments import service


def test_colliding_labels_get_the_next_fact_until_all_differ() -> None:
    same = [["mixed interests"], [], [], [], [], ["40-60th price pct", "1.5x the average activity"]]
    other = [["mixed interests"], [], [], [], [], ["40-60th price pct", "0.9x the average activity"]]
    twin = [["mixed interests"], [], [], [], [], ["40-60th price pct", "0.9x the average activity"]]
    tape = [["duct tape"], [], ["Gorilla"], [], [], ["40-60th price pct"]]
    labels = _distinct_labels([same, other, twin, tape])
    assert len(set(labels)) == 4
    assert labels[0] == "mixed interests, 40-60th price pct, 1.5x the average activity"
    assert labels[3] == "duct tape, Gorilla"  # no clash: no filler
    assert labels[1].startswith("mixed interests, 40-60th price pct, 0.9x") and "(segment" in labels[2]


def test_fitted_labels_are_distinct_and_only_say_what_differs(
    shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    model = service(shop, catalog, k_min=6, k_max=6).fit_segments()
    assert len(set(model.labels)) == model.k == 6
    sizes = np.asarray([st["size"] for st in model.stats], dtype=np.float64)
    overall = weighted_median((sizes[:, None] * model.prior_price).sum(axis=0))
    events = np.asarray([st["events_mean"] for st in model.stats])
    mean_events = float((events * sizes).sum() / sizes.sum())
    for label, st in zip(model.labels, model.stats, strict=True):
        assert "mid price" not in label and "regular" not in label  # the old filler
        typical = st["price_typical_percentile"]
        if "premium price" in label:
            assert typical >= overall + 10
        if "budget price" in label:
            assert typical <= overall - 10
        if label.endswith("frequent shoppers") or "frequent " in label:
            assert st["events_mean"] >= 1.5 * mean_events - 1e-6
        for top in re.findall(r"^([^,]+)", label):
            if "mixed" not in top:  # a named category is over-represented in the segment
                names = {c["name"].split(">")[-1].strip().lower() for c in st["top_categories"]}
                assert any(n in top for n in names), (label, names)
        assert st["view_to_purchase"] is None or 0 <= st["view_to_purchase"] <= 1
