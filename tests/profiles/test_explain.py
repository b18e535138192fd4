from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from shelfwise.profiles import ItemCatalog, ProfileService
from shelfwise.profiles.explain import profile_json, summary
from shelfwise.profiles.segment_labels import category_name


def test_category_names_read_well() -> None:
    assert category_name("Beauty > Nails > Nail Polish") == "nail polish"
    assert category_name("2355072") == "category 2355072"  # Taobao's bare ids


def test_title_only_catalogue_explains_with_title_words() -> None:
    """Amazon Beauty has no categories: the summary falls back to telling title words of recent items."""
    items = pa.table(
        {
            "item_id": ["a", "b", "c", "d"],
            "title": [
                "OPI Nail Lacquer Red",
                "OPI Nail Lacquer Pink",
                "Shampoo for dry hair",
                "Hair conditioner",
            ],
        }
    )
    svc = ProfileService(ItemCatalog.from_items(items, np.eye(4, dtype=np.float32), ["a", "b", "c", "d"]))
    svc.apply_event("u", "a", "purchase", 0.0)
    svc.apply_event("u", "b", "purchase", 1.0)
    out = profile_json(svc.profile("u"))
    assert out["summary"].startswith("mostly buys items like '")
    assert {"lacquer", "nail", "opi"} & set(out["interests"]["terms"])
    assert "hair" not in out["interests"]["terms"]
    assert json.loads(json.dumps(out)) == out  # JSON-ready


def test_summary_mentions_recent_interest_only_when_it_differs() -> None:
    items = pa.table(
        {
            "item_id": ["s1", "s2", "n1"],
            "category": ["Beauty > Skincare", "Beauty > Skincare", "Beauty > Nails > Nail Polish"],
            "price": [10.0, 50.0, 5.0],
        }
    )
    svc = ProfileService(ItemCatalog.from_items(items))
    for k in range(5):
        svc.apply_event("u", "s2", "purchase", float(k))
    assert "recently" not in summary(svc.profile("u"))
    for k in range(3):
        svc.apply_event("u", "n1", "view", 10.0 + k)
    line = summary(svc.profile("u"))
    assert line.startswith("mostly buys skincare in the")
    assert line.endswith("recently browsing nail polish")
