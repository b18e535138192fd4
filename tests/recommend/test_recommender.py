"""The served recommender on the demo shop: training, live events, new / out-of-stock / deleted items,
true reasons, shop filters, and the evaluation path scoring what serving returns."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.recommend import (
    NotTrainedError,
    RecommendedItem,
    Recommender,
    RecommendRequest,
    RecommendResponse,
    train_recommender,
)
from shelfwise.recommend.pipeline import harness_rows, make_context
from shelfwise.storage import open_store

OVERRIDES = [
    'recommend.sources=["als", "itemknn", "item2item", "popular"]',
    "recommend.ranker_max_users=400",
    "models.als.factors=32",
    "models.als.iterations=5",
]


def _settings(*extra: str) -> Settings:
    return load_settings(overrides=[*OVERRIDES, *extra], environ={})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from shelfwise.demo import run_demo

    path = tmp_path_factory.mktemp("rec") / "store"
    run_demo(path)
    with open_store(path) as st:
        report = train_recommender(st, _settings(), show_progress=False)
    return path, report


@pytest.fixture()
def rec(trained: tuple[Path, dict]) -> Recommender:
    with open_store(trained[0]) as st:
        return Recommender.load(st, _settings())


def _user_with_history(rec: Recommender, min_len: int = 4) -> str:
    for user, k in rec.users.items():
        if len(rec.histories[k]) >= min_len:
            return user
    raise AssertionError("no user with a history")


def _ids(resp: RecommendResponse) -> list[str]:
    return [i.item_id for i in resp.items]


def test_train_reports_and_versions(trained: tuple[Path, dict]) -> None:
    path, report = trained
    assert report["version"] == 1 and report["artifact"] == "recommender"
    assert report["sources"] == ["als", "itemknn", "item2item", "popular"]
    assert report["ranker_rounds"] >= 1 and 0 < report["validation_candidate_recall"] <= 1
    assert (path / "artifacts" / "recommender" / "v0001" / "ranker" / "model.txt").exists()


def test_untrained_store_raises_a_clear_error(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty") as st, pytest.raises(NotTrainedError, match="shelfwise train"):
        Recommender.load(st, _settings())


def test_personal_list_is_full_distinct_and_explained(rec: Recommender) -> None:
    user = _user_with_history(rec)
    resp = rec.recommend(RecommendRequest(user_id=user, k=10))
    assert resp.model == "shelfwise" and resp.version == 1 and resp.fallback is None
    assert len(resp.items) == 10 and len(set(_ids(resp))) == 10
    assert all(isinstance(i, RecommendedItem) and i.reason and i.sources for i in resp.items)


def test_reasons_are_true(rec: Recommender) -> None:
    checked = 0
    for user, k in list(rec.users.items())[:60]:
        history = {rec.catalog.ids[i] for i in rec.histories[k]}
        for item in rec.recommend(RecommendRequest(user_id=user, k=10)).items:
            claim = item.breakdown["claims"][0]
            if claim["claim"] == "similar_to":
                assert claim["anchor"] in history, (user, item)
                assert item.reason.startswith("Similar to")
                checked += 1
            elif claim["claim"] == "popular":
                assert "popular" in item.sources
            elif claim["claim"] == "collaborative":
                assert "als" in item.sources
    assert checked > 0


def test_an_event_changes_the_next_recommendation(rec: Recommender) -> None:
    user = _user_with_history(rec)
    before = _ids(rec.recommend(RecommendRequest(user_id=user, k=10)))
    k = rec.users[user]
    last_category = rec.catalog.categories[int(rec.histories[k][-1])]
    other = next(
        i
        for i in range(rec.catalog.n_trained)
        if rec.catalog.categories[i] != last_category and rec.catalog.available[i]
    )
    events = [
        {"user_id": user, "item_id": rec.catalog.ids[other], "type": "view", "timestamp": 2_000_000_000 + t}
        for t in range(3)
    ]
    assert rec.observe(events) == 3
    assert int(rec.histories[k][-1]) == other
    after = rec.recommend(RecommendRequest(user_id=user, k=10))
    assert _ids(after) != before
    anchors = {c.get("anchor") for i in after.items for c in i.breakdown["claims"]}
    assert rec.catalog.ids[other] in anchors  # "similar to <the item just viewed>"


def test_a_new_user_is_served_after_one_event(rec: Recommender) -> None:
    cold = rec.recommend(RecommendRequest(user_id="brand-new", k=5))
    assert cold.fallback == "popular" and all(i.reason == "Popular in the shop" for i in cold.items)
    item = rec.catalog.ids[int(rec.histories[0][-1])]
    rec.observe([{"user_id": "brand-new", "item_id": item, "event_type": "purchase"}])
    warm = rec.recommend(RecommendRequest(user_id="brand-new", k=5))
    assert warm.fallback is None and item not in _ids(warm)  # bought: filtered (recommend.exclude_purchased)


def test_a_new_item_becomes_servable(rec: Recommender) -> None:
    user = _user_with_history(rec)
    last = int(rec.histories[rec.users[user]][-1])
    cat = rec.catalog
    row = {
        "item_id": "NEW-1",
        "title": cat.titles[last],
        "category": cat.categories[last],
        "brand": cat.brands[last],
        "price": 10.0,
        "available": True,
    }
    assert "NEW-1" not in _ids(rec.recommend(RecommendRequest(user_id=user, k=10)))
    rec.upsert_items([row])
    resp = rec.recommend(RecommendRequest(user_id=user, k=10))
    assert "NEW-1" in _ids(resp)
    new = next(i for i in resp.items if i.item_id == "NEW-1")
    assert new.sources == ["new_items"] and new.reason.startswith("Picked for its product details")
    rec.observe([{"user_id": user, "item_id": "NEW-1", "type": "view"}])  # events on it are accepted
    assert rec.catalog.index["NEW-1"] in rec.histories[rec.users[user]]
    rec.upsert_items([{"item_id": "NEW-1", "available": False}])
    assert "NEW-1" not in _ids(rec.recommend(RecommendRequest(user_id=user, k=10)))


def test_out_of_stock_and_deleted_items_never_appear(rec: Recommender) -> None:
    users = list(rec.users)[:30]
    top = {rec.recommend(RecommendRequest(user_id=u, k=5)).items[0].item_id for u in users}
    gone = sorted(top)
    rec.upsert_items([{"item_id": i, "available": False} for i in gone[::2]])
    rec.delete_items(gone[1::2])
    for u in users:
        for slot in ("home", "cart"):
            assert not set(_ids(rec.recommend(RecommendRequest(user_id=u, slot=slot, k=10)))) & top
    anchor = rec.catalog.ids[int(rec.histories[rec.users[users[0]]][-1])]
    similar = rec.recommend(RecommendRequest(slot="similar", item_id=anchor, k=10))
    assert not set(_ids(similar)) & top and anchor not in _ids(similar)


def test_shop_filters_purchased_shown_cart_and_exclude(rec: Recommender) -> None:
    for user, k in list(rec.users.items())[:40]:
        bought = {rec.catalog.ids[i] for i in rec._purchased(k)}
        first = rec.recommend(RecommendRequest(user_id=user, k=10))
        assert not set(_ids(first)) & bought
        shown, cart = _ids(first)[:3], _ids(first)[3:4]
        second = rec.recommend(
            RecommendRequest(user_id=user, k=10, shown=shown, cart=cart, exclude=_ids(first)[4:5])
        )
        assert not set(_ids(second)) & set(_ids(first)[:5])


def test_anonymous_session_and_forget_user(trained: tuple[Path, dict], tmp_path: Path) -> None:
    store = tmp_path / "copy"  # forgetting rewrites the artifact: not the shared store
    shutil.copytree(trained[0], store)
    with open_store(store) as st:
        rec = Recommender.load(st, _settings())
    cart = [rec.catalog.ids[int(rec.histories[0][-1])]]
    anon = rec.recommend(RecommendRequest(user_id=None, k=5, cart=cart))
    assert anon.fallback == "session" and cart[0] not in _ids(anon)
    user = _user_with_history(rec)
    assert rec.recommend(RecommendRequest(user_id=user, k=5)).fallback is None
    assert rec.forget_user(user)["user_found"] and not rec.forget_user(user)["user_found"]
    assert rec.recommend(RecommendRequest(user_id=user, k=5)).fallback == "popular"


def test_per_request_rerank_overrides(rec: Recommender) -> None:
    user = _user_with_history(rec)
    plain = rec.recommend(RecommendRequest(user_id=user, k=10))
    varied = rec.recommend(RecommendRequest(user_id=user, k=10, method="xquad", diversity=1.0))
    cats = rec.catalog.rerank_catalog().categories
    n_cats = [len({cats[rec.catalog.index[i]] for i in _ids(r)}) for r in (plain, varied)]
    assert n_cats[1] >= n_cats[0]
    assert any(i.breakdown["placed_by"] == "diversity" for i in varied.items) or n_cats[1] == n_cats[0]


def test_method_coverage_spreads_what_serving_shows_across_requests(trained: tuple[Path, dict]) -> None:
    """Served lists are counted per slot; with method coverage later requests favour what earlier ones
    did not show, so 40 shoppers see more distinct items than without it (same shoppers, same models)."""
    users: list[str] = []
    shown: dict[str, set[str]] = {}
    for name, extra in (("plain", ()), ("coverage", ("rerank.method=coverage", "rerank.diversity=0.5"))):
        with open_store(trained[0]) as st:
            rec = Recommender.load(st, _settings(*extra))
        users = users or [u for u, k in rec.users.items() if len(rec.histories[k])][:40]
        shown[name] = {i for u in users for i in _ids(rec.recommend(RecommendRequest(user_id=u, k=10)))}
        counts = rec.exposure.counter("home", len(rec.catalog)).counts
        assert counts.sum() > 0.9 * 10 * len(users)  # every served list was recorded (minus ageing)
    assert len(shown["coverage"]) > len(shown["plain"]), {k: len(v) for k, v in shown.items()}


def test_evaluation_scores_rank_what_serving_returns(trained: tuple[Path, dict]) -> None:
    # with the shop filters off and no re-ranking, the harness's top-k is the served list
    settings = _settings("recommend.exclude_purchased=false", "recommend.exclude_out_of_stock=false")
    with open_store(trained[0]) as st:
        rec = Recommender.load(st, settings)
    users = [k for k in range(len(rec.histories)) if len(rec.histories[k])][:25]
    ids = {k: u for u, k in rec.users.items()}
    for u in users:
        context = make_context(u, rec.histories[u], settings.recommend.max_history)
        row = harness_rows(rec.pipeline.rank_many([context]), rec.catalog.n_trained)[0]
        served = rec.catalog.encode(_ids(rec.recommend(RecommendRequest(user_id=ids[u], k=10))))
        # the served items hold the harness's 10 best scores, in its order (equal scores may swap)
        assert np.array_equal(row[served], np.sort(row)[::-1][:10])


def test_cli_train_and_recommend(trained: tuple[Path, dict], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shelfwise.cli import app

    store = tmp_path / "copy"
    shutil.copytree(trained[0], store)
    with open_store(store) as st:
        user = next(iter(Recommender.load(st, _settings()).users))
    result = CliRunner().invoke(app, ["recommend", user, "--store", str(store), "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    assert payload["model"] == "shelfwise" and len(payload["items"]) == 3
    assert all(i["reason"] for i in payload["items"])
