"""Fair exposure in serving, through HTTP: the per-request ``fairness`` knob of ``POST /v1/recommendations``.

The sample shop is synthetic (``shelfwise demo``: shoppers with a known favourite brand, brands of very
different sizes), so relevance-ordered home feeds concentrate on the big brands; amortised fair exposure must
spread them. Exposure is counted in the service's :class:`~shelfwise.online.base.OnlineState`.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from shelfwise.metrics.beyond_accuracy import gini_coefficient
from tests.api.conftest import ADMIN_KEY, NO_LIMITS, serving
from tests.web.conftest import build_demo_store

NO_CACHE = ["api.cache.ttl_seconds=0"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Any]]:
    pytest.importorskip("fastapi")
    store = build_demo_store(tmp_path_factory.mktemp("fair") / "shop")
    copy = tmp_path_factory.mktemp("fair-live") / "shop"
    shutil.copytree(store, copy)
    with (
        serving(copy, NO_LIMITS + NO_CACHE) as (server, app),
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as c,
    ):
        yield c, app


def _shoppers(app: Any, n: int) -> list[str]:
    users = Counter(app.state.store.read_events(["user_id"]).column("user_id").to_pylist())
    return [u for u, _ in users.most_common(n)]


def _brand_gini(app: Any, lists: list[list[str]]) -> float:
    """Gini of position-weighted brand exposure over every brand of the catalogue."""
    items = app.state.store.read_items(["item_id", "brand"])
    brand_of = dict(zip(items.column("item_id").to_pylist(), items.column("brand").to_pylist(), strict=True))
    brands = sorted({b for b in brand_of.values() if b})
    exposure = dict.fromkeys(brands, 0.0)
    for ids in lists:
        for rank, item in enumerate(ids):
            if brand_of.get(item):
                exposure[brand_of[item]] += 1.0 / np.log2(rank + 2.0)
    return gini_coefficient(np.array([exposure[b] for b in brands]))


def _serve(client: httpx.Client, users: list[str], **extra: Any) -> list[dict[str, Any]]:
    out = []
    for user in users:
        r = client.post("/v1/recommendations", json={"user_id": user, "k": 10, **extra})
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def test_fairness_zero_is_byte_identical_to_no_knob(shop: tuple[httpx.Client, Any]) -> None:
    client, app = shop
    users = _shoppers(app, 20)
    plain = _serve(client, users)
    zero = _serve(client, users, fairness=0.0)
    assert [json.dumps(p["items"]) for p in plain] == [json.dumps(z["items"]) for z in zero]


def test_fairness_one_lowers_brand_exposure_gini_and_is_counted_in_online_state(
    shop: tuple[httpx.Client, Any],
) -> None:
    client, app = shop
    users = _shoppers(app, 150)
    relevance = [[i["item_id"] for i in r["items"]] for r in _serve(client, users, fairness=0.0)]
    fair = [[i["item_id"] for i in r["items"]] for r in _serve(client, users, fairness=1.0)]
    g0, g1 = _brand_gini(app, relevance), _brand_gini(app, fair)
    assert g1 < 0.9 * g0, (g0, g1)
    online = app.state.services.online
    assert int(online.get("fair:home:lists")) == len(users)  # only the fair lists were counted
    assert online.counters("fair:home:0:e:")  # per-brand exposure, keyed by brand name


def test_fairness_outside_the_unit_interval_is_a_4xx_that_says_so(shop: tuple[httpx.Client, Any]) -> None:
    client, app = shop
    r = client.post("/v1/recommendations", json={"user_id": _shoppers(app, 1)[0], "fairness": 1.5})
    assert r.status_code == 422 and "fairness" in r.text


def test_replicas_sharing_one_online_state_see_each_others_exposure() -> None:
    from shelfwise.online import MemoryOnlineState
    from shelfwise.rerank.catalog import ItemCatalog
    from shelfwise.rerank.fair_shared import SharedFairLedger

    cat = ItemCatalog(brands=np.array([0, 0, 1, 1]), brand_names=["acme", "zeta"])
    online = MemoryOnlineState()
    one, two = SharedFairLedger(online, "home", cat), SharedFairLedger(online, "home", cat)
    for _ in range(3):
        one.record(np.array([0, 1]))  # replica one shows acme only
    view = two.brand_view(cat, np.array([0, 2]), np.array([1.0, 1.0]), 2, np.array([0, 1]))
    assert view.exposure[0] == pytest.approx(3 * (1 + 1 / np.log2(3)), rel=1e-6)
    assert view.exposure[1] == 0.0 and view.merit[0] == view.merit[1] > 0
