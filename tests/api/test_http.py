"""The HTTP API through real HTTP against the running app (uvicorn on a loopback port)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, Live


def _recommend(live: Live, user: str | None, **extra: object) -> dict:
    r = live.admin.post("/v1/recommendations", json={"user_id": user, "k": 10, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def _ids(body: dict) -> list[str]:
    return [i["item_id"] for i in body["items"]]


def test_health_openapi_and_request_ids(live: Live) -> None:
    c = live.client()
    assert c.get("/health/live").json()["status"] == "live"
    ready = c.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["components"]["recommender"] == "ok"
    spec = c.get("/openapi.json").json()
    assert {"/v1/recommendations", "/v1/search", "/v1/events", "/v1/users/{user_id}"} <= set(spec["paths"])
    echoed = c.get("/health/live", headers={"X-Request-ID": "client-chosen-id-1"})
    assert echoed.headers["x-request-id"] == "client-chosen-id-1"
    replaced = c.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert (
        replaced.headers["x-request-id"] != "bad id with spaces"
        and len(replaced.headers["x-request-id"]) == 32
    )


def test_recommendations_carry_reasons_and_the_request_id(live: Live, shoppers: list[str]) -> None:
    r = live.admin.post("/v1/recommendations", json={"user_id": shoppers[0], "k": 5})
    body = r.json()
    assert r.status_code == 200 and len(body["items"]) == 5
    assert body["request_id"] == r.headers["x-request-id"]
    assert all(i["reason"] for i in body["items"]) and all(i["title"] for i in body["items"])
    similar = _recommend(live, None, slot="similar", item_id=body["items"][0]["item_id"])
    assert similar["items"] and body["items"][0]["item_id"] not in _ids(similar)


def test_an_event_changes_the_very_next_recommendation(live: Live, shoppers: list[str]) -> None:
    user = shoppers[1]
    before = _recommend(live, user)
    again = _recommend(live, user)
    assert again["cached"] and _ids(again) == _ids(before)
    bought = before["items"][0]["item_id"]
    event = {"user_id": user, "item_id": bought, "type": "purchase", "request_id": before["request_id"]}
    r = live.admin.post("/v1/events", json={"events": [event]})
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["cache_entries_dropped"] >= 1
    after = _recommend(live, user)
    assert not after["cached"]
    assert _ids(after) != _ids(before)
    assert bought not in _ids(after)  # a purchased item is not recommended again on the home feed


def test_events_are_idempotent_and_bad_rows_say_why(live: Live, shoppers: list[str]) -> None:
    user = shoppers[2]
    item = _recommend(live, user)["items"][0]["item_id"]
    ev = {"event_id": f"idem-{time.time_ns()}", "user_id": user, "item_id": item, "type": "view"}
    first = live.admin.post("/v1/events", json={"events": [ev]}).json()
    second = live.admin.post("/v1/events", json={"events": [ev]}).json()
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (1, 0, 1)
    bad = live.admin.post(
        "/v1/events", json={"events": [{"user_id": user, "item_id": item, "type": "teleport"}]}
    )
    assert bad.status_code == 422
    assert "teleport" in bad.json()["problems"][0]["reason"] and bad.json()["problems"][0]["row"] == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"user_id": "u", "k": 0}, "body.k"),
        ({"user_id": "u", "k": 500}, None),  # above api.max_k
        ({"user_id": "u", "slot": "everywhere"}, "body.slot"),
        ({"user_id": "u", "colour": "red"}, "body.colour"),
        ({"slot": "similar"}, None),  # needs item_id
    ],
)
def test_wrong_input_is_a_4xx_that_says_what_to_fix(live: Live, body: dict, where: str | None) -> None:
    r = live.admin.post("/v1/recommendations", json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["message"] and err["fix"] and r.json()["request_id"] == r.headers["x-request-id"]
    if where:
        assert err["problems"][0]["where"] == where
    broken = live.admin.post(
        "/v1/recommendations", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_request"
    assert live.admin.get("/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_keys_are_scoped_hashed_and_revocable(live: Live) -> None:
    anon = live.client()
    assert anon.post("/v1/recommendations", json={}).status_code == 401
    assert live.client("sw_nope_nope").post("/v1/recommendations", json={}).status_code == 401
    created = live.admin.post("/v1/keys", json={"name": "storefront", "scopes": ["read"]})
    assert created.status_code == 201
    token, key_id = created.json()["key"], created.json()["key_id"]
    reader = live.client(token)
    assert reader.post("/v1/recommendations", json={"k": 3}).status_code == 200
    denied = reader.post("/v1/events", json={"events": [{"user_id": "x", "item_id": "y", "type": "view"}]})
    assert denied.status_code == 403 and "events" in denied.json()["error"]["message"]
    stored = str(live.app.state.store.get_meta("api_keys"))
    assert token not in stored and token.split("_", 2)[2] not in stored and key_id in stored
    assert ADMIN_KEY not in stored
    assert live.admin.delete(f"/v1/keys/{key_id}").status_code == 200
    assert reader.post("/v1/recommendations", json={"k": 3}).status_code == 401


def test_rate_limit_answers_429_with_retry_after(live: Live) -> None:
    token = live.admin.post(
        "/v1/keys", json={"name": "slow", "scopes": ["read"], "rate_per_second": 0.5}
    ).json()["key"]
    c = live.client(token)
    codes = [c.post("/v1/recommendations", json={"k": 2}).status_code for _ in range(4)]
    assert codes[0] == 200 and codes[-1] == 429
    limited = c.post("/v1/recommendations", json={"k": 2})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_search_and_suggest(live: Live) -> None:
    title = live.app.state.store.read_items(["title"]).column("title").to_pylist()[0]
    query = " ".join(title.split()[:3])
    r = live.admin.post("/v1/search", json={"query": query, "k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["results"] and all(h["reason"] for h in body["results"])
    assert body["request_id"] == r.headers["x-request-id"]
    s = live.admin.get("/v1/search/suggest", params={"prefix": query[:3]})
    assert s.status_code == 200 and isinstance(s.json()["suggestions"], list)


def test_search_pages_sorts_and_takes_shop_rules(live: Live) -> None:
    first = live.admin.post("/v1/search", json={"query": "tape", "k": 4}).json()
    second = live.admin.post("/v1/search", json={"query": "tape", "k": 4, "offset": 4}).json()
    assert first["total"] == second["total"] > 8 and second["offset"] == 4
    assert not {h["item_id"] for h in first["results"]} & {h["item_id"] for h in second["results"]}
    up = live.admin.post("/v1/search", json={"query": "tape", "k": 6, "sort": "price_asc"}).json()
    prices = [h["price"] for h in up["results"]]
    assert up["sort"] == "price_asc" and prices == sorted(prices)
    assert all(h["highlights"] for h in first["results"])
    bad = live.admin.post("/v1/search", json={"query": "tape", "sort": "cheapest"})
    assert bad.status_code == 422 and "sort" in bad.text
    rules = {"synonyms": {"sellotape": ["tape"]}, "redirects": {"gift card": "/pages/gift"}}
    assert live.client().put("/v1/search/rules", json=rules).status_code == 401
    assert live.admin.put("/v1/search/rules", json=rules).status_code == 200
    assert live.admin.post("/v1/search", json={"query": "sellotape", "k": 3}).json()["total"] > 0
    assert live.admin.post("/v1/search", json={"query": "Gift card"}).json()["redirect"] == "/pages/gift"
    assert live.admin.put("/v1/search/rules", json={}).json() == {"synonyms": {}, "redirects": {}}
    products = live.admin.get("/v1/search/suggest", params={"prefix": "duct ta"}).json()["products"]
    assert products and all("tape" in p["title"].lower() for p in products)


def test_catalogue_changes_reach_search_without_restart(live: Live) -> None:
    item = {
        "item_id": "NEW-ZX81",
        "title": "Quixotic zirconium spanner",
        "brand": "Zedco",
        "price": 12.5,
        "category": "Tools > Spanners",
    }
    assert live.admin.post("/v1/items", json={"items": [item]}).json()["accepted"] == 1
    hits = live.admin.post("/v1/search", json={"query": "quixotic zirconium spanner", "k": 3}).json()[
        "results"
    ]
    assert hits[0]["item_id"] == "NEW-ZX81"
    assert live.admin.delete("/v1/items/NEW-ZX81").json()["deleted"] == ["NEW-ZX81"]
    hits = live.admin.post("/v1/search", json={"query": "quixotic zirconium spanner", "k": 3}).json()[
        "results"
    ]
    assert "NEW-ZX81" not in [h["item_id"] for h in hits]
    assert live.admin.delete("/v1/items/NEW-ZX81-missing").status_code == 404


def test_a_stock_change_reaches_the_next_list(live: Live, shoppers: list[str]) -> None:
    anchor = _recommend(live, shoppers[6])["items"][0]["item_id"]
    similar = _recommend(live, None, slot="similar", item_id=anchor)
    gone = similar["items"][0]["item_id"]
    row = live.app.state.store.read_items().to_pylist()
    item = next(r for r in row if r["item_id"] == gone)
    update = {k: item[k] for k in ("item_id", "title", "brand", "category", "price")} | {"available": False}
    assert live.admin.post("/v1/items", json={"items": [update]}).json()["accepted"] == 1
    after = _recommend(live, None, slot="similar", item_id=anchor)
    assert not after["cached"] and gone not in _ids(after)


def test_deleting_a_user_removes_everything_and_nothing_of_theirs_is_served(
    live: Live, shoppers: list[str]
) -> None:
    state = live.app.state
    user = shoppers[3]
    before = _recommend(live, user)
    assert before["fallback"] is None
    assert live.admin.get(f"/v1/users/{user}/profile").status_code == 200
    live.admin.post(
        "/v1/events",
        json={"events": [{"user_id": user, "item_id": before["items"][1]["item_id"], "type": "click"}]},
    )
    _recommend(live, user)  # cached again, impression buffered
    search_personal = live.admin.post("/v1/search", json={"query": "tape", "user_id": user, "k": 10}).json()

    r = live.admin.delete(f"/v1/users/{user}")
    assert r.status_code == 200, r.text
    removed = r.json()["removed"]
    assert removed["events"] >= 5 and removed["profiles"] == 1 and removed["profile_in_memory"] == 1
    assert removed["impressions"] + removed["impressions_buffered"] >= 2

    state.feedback.flush()
    store = state.store
    assert store.read_events(user_ids=[user]).num_rows == 0
    assert store.read_profiles([user]).num_rows == 0
    assert store.read_impressions(user).num_rows == 0
    assert not state.caches.holds_owner(user)
    assert user not in state.profiles.states
    assert live.admin.get(f"/v1/users/{user}/profile").status_code == 404
    # what is served now is exactly what a never-seen shopper gets
    after = _recommend(live, user)
    stranger = _recommend(live, "never-seen-shopper-0001")
    assert not after["cached"] and after["fallback"] == stranger["fallback"] == "popular"
    assert _ids(after) == _ids(stranger) and _ids(after) != _ids(before)
    anon_search = live.admin.post("/v1/search", json={"query": "tape", "k": 10}).json()
    again = live.admin.post("/v1/search", json={"query": "tape", "user_id": user, "k": 10}).json()
    assert [h["item_id"] for h in again["results"]] == [h["item_id"] for h in anon_search["results"]]
    assert search_personal["results"]  # the personalised search had run before
    assert (
        live.admin.delete(f"/v1/users/{user}").status_code == 200
    )  # the two recommend calls above logged again
    assert live.admin.delete("/v1/users/nobody-ever").status_code == 404


def test_impressions_are_joined_to_later_interactions(live: Live, shoppers: list[str]) -> None:
    user = shoppers[4]
    shown = _recommend(live, user)
    item = shown["items"][2]["item_id"]
    live.admin.post(
        "/v1/events",
        json={
            "events": [
                {"user_id": user, "item_id": item, "type": "click", "request_id": shown["request_id"]},
                {"user_id": user, "item_id": item, "type": "purchase", "value": 9.5},
            ]
        },
    )
    att = live.admin.get("/v1/attribution", params={"limit": 1000}).json()
    mine = [r for r in att["latest"] if r["request_id"] == shown["request_id"]]
    assert {(r["type"], r["position"], r["direct"]) for r in mine} == {
        ("click", 3, True),
        ("purchase", 3, False),
    }


def test_experiments_assign_sticky_arms_and_report(live: Live, shoppers: list[str]) -> None:
    bad = live.admin.post(
        "/v1/experiments",
        json={"name": "bad", "variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.6}]},
    )
    assert bad.status_code == 422 and "add up to 1" in bad.json()["error"]["message"]
    exp = {
        "name": "cart-div",
        "slots": ["cart"],
        "variants": [
            {"name": "control", "share": 0.5},
            {"name": "diverse", "share": 0.5, "params": {"diversity": 0.9}},
        ],
    }
    assert live.admin.post("/v1/experiments", json=exp).status_code == 201
    assert live.admin.post("/v1/experiments", json=exp).status_code == 409
    try:
        item = _recommend(live, shoppers[5])["items"][0]["item_id"]
        arms = {}
        for user in shoppers[5:25]:
            first = _recommend(live, user, slot="cart", cart=[item])["arm"]
            second = _recommend(live, user, slot="cart", cart=[item])["arm"]
            assert first == second and first.startswith("cart-div:")
            arms[user] = first
            assert _recommend(live, user)["arm"] is None  # home slot is outside the experiment
        assert len(set(arms.values())) == 2
        res = live.admin.get("/v1/experiments/cart-div/results").json()
        assert sum(a["users"] for a in res["arms"].values()) == 20
        assert {c["metric"] for c in res["comparisons"]} >= {
            "ctr",
            "conversion",
            "diversity",
            "brand_fairness",
        }
        assert "p_value" in res["srm"]
    finally:
        live.admin.delete("/v1/experiments/cart-div")


def test_metrics_and_logs_carry_no_ids(
    live: Live, shoppers: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    secret_user = "shopper-with-email-like-id@example.com"
    with caplog.at_level(logging.DEBUG):
        live.admin.post(
            "/v1/events", json={"events": [{"user_id": secret_user, "item_id": "x", "type": "view"}]}
        )
        live.admin.get(f"/v1/users/{secret_user}/profile")
        _recommend(live, secret_user)
    server_side = [
        r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]  # clients log URLs
    assert any(r.name == "shelfwise.api.access" for r in server_side)
    assert not any(secret_user in r.getMessage() for r in server_side)
    text = live.client().get("/metrics").text
    assert 'route="/v1/users/{user_id}/profile"' in text and "shelfwise_request_seconds_bucket" in text
    assert secret_user not in text and "process_resident_memory_bytes" in text


def test_experiment_report_command(live: Live, shoppers: list[str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shelfwise.cli import app as cli_app

    exp = {"name": "report-me", "variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}
    assert live.admin.post("/v1/experiments", json=exp).status_code == 201
    try:
        for user in shoppers[30:50]:
            _recommend(live, user)
        live.app.state.feedback.flush()
        folder = str(live.app.state.store.folder)
        res = CliRunner().invoke(
            cli_app,
            [
                "experiment",
                "report",
                "report-me",
                "--store",
                folder,
                "--json",
                "--output",
                str(tmp_path / "rep"),
            ],
        )
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert sum(a["users"] for a in out["arms"].values()) == 20 and "srm" in out
        assert "Sample ratio" in (tmp_path / "rep" / "report.md").read_text()
        missing = CliRunner().invoke(cli_app, ["experiment", "report", "nope", "--store", folder])
        assert missing.exit_code == 2
    finally:
        live.admin.delete("/v1/experiments/report-me")
