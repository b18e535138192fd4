"""The dashboard's new pages over HTTP on the small shop of ``test_dashboard_trends`` (known counts): trends and
top items, search analytics, merchandising rules (forms with CSRF, the same checks as the API), the privacy
budget. No trained model is needed: the pages read the store."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shelfwise.storage import open_store
from tests.web.conftest import csrf_token, sign_in
from tests.web.test_dashboard_trends import _fill

ADMIN = "dashboard-pages-admin-key"
RANGE = "start=2024-03-01&end=2024-03-03"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from shelfwise.api import create_app
    from shelfwise.config import load_settings

    folder: Path = tmp_path_factory.mktemp("pages") / "store"
    with open_store(folder) as st:
        _fill(st)
    old = os.environ.get("SHELFWISE_ADMIN_KEY")
    os.environ["SHELFWISE_ADMIN_KEY"] = ADMIN
    try:
        app = create_app(load_settings(environ={}), store_path=folder, background_load=False)
        with TestClient(app) as c:
            sign_in(c, ADMIN)
            yield c
    finally:
        if old is None:
            os.environ.pop("SHELFWISE_ADMIN_KEY", None)
        else:
            os.environ["SHELFWISE_ADMIN_KEY"] = old


def _charts(html: str) -> list[dict[str, Any]]:
    import json

    return [
        json.loads(m)
        for m in re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', html)
    ]


def test_every_new_page_needs_a_sign_in(client: TestClient) -> None:
    stranger = TestClient(client.app)  # no session cookie (and no second start-up: the app is running)
    for path in ("/admin/trends", "/admin/search-analytics", "/admin/rules", "/admin/privacy"):
        r = stranger.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/sign-in"), path
    assert stranger.post("/admin/rules", data={"csrf": "x"}, follow_redirects=False).status_code == 303


def test_trends_page_shows_the_days_charts_and_top_items(client: TestClient) -> None:
    html = client.get(f"/admin/trends?{RANGE}").text
    charts = _charts(html)
    assert [c["title"] for c in charts][:4] == [
        "Traffic per day",
        "CTR and conversion per day",
        "Revenue per day",
        "Diversity of recommendation lists per day",
    ]
    rates = charts[1]
    assert rates["axis"] == {"min": 0.0, "max": 1.0, "unit": "rate"} and rates["labels"][0] == "2024-03-01"
    assert "<script>" not in html  # only the JSON blocks and <script src>
    rows = re.findall(r'<tr data-item-id="([^"]+)" data-known="(true|false)">(.*?)</tr>', html, re.S)
    assert [(i, k) for i, k, _ in rows] == [
        ("a", "true"),
        ("x", "false"),
        ("d", "true"),
        ("b", "true"),
        ("c", "true"),
    ]
    unknown = rows[1][2]
    assert "<a " not in unknown and "not in the catalogue" in unknown  # plain text, not a link
    assert '<a href="/shop/product/a">Duct tape</a>' in rows[0][2]
    assert "(not in the catalogue)" in html.split('id="top-categories-table"')[1]


def test_trends_range_and_sort_come_from_the_url_and_bad_input_is_explained(client: TestClient) -> None:
    html = client.get("/admin/trends?start=2024-03-02&end=2024-03-02&sort=views").text
    assert 'value="2024-03-02"' in html and "(1 day, UTC)" in html
    first = re.search(r'<tr data-item-id="([^"]+)"', html)
    assert first and first.group(1) == "a"  # the one item clicked on day 2
    bad = client.get("/admin/trends?start=2024-03-09&end=2024-03-01")
    assert bad.status_code == 200 and "starts (2024-03-09) after it ends" in bad.text
    assert client.get("/admin/trends?sort=nonsense").status_code == 422
    # the presets end at the newest data (2024-03-02), not at today
    presets = client.get("/admin/trends").text
    assert "start=2024-02-25&amp;end=2024-03-02" in presets  # the last 7 days
    assert "start=2024-03-01&amp;end=2024-03-02" in presets  # all
    assert "Figures as of " in presets and "fresh=1" in presets  # the copy's age, and a way to read again


def test_search_analytics_lists_top_zero_result_and_unclicked_queries(client: TestClient) -> None:
    html = client.get(f"/admin/search-analytics?{RANGE}").text

    def table(name: str) -> list[str]:
        part = html.split(f'id="{name}"')[1].split("</table>")[0]
        return re.findall(r'<tr data-query="([^"]+)"', part)

    assert table("top-queries-table") == ["tape", "glue", "red lipstick"]
    assert table("zero-result-table") == ["glue"]
    assert table("low-click-table") == ["red lipstick"]
    assert _charts(html)[0]["series"][0]["values"] == [0, 4, 0]
    assert "4 searches served in this range" in html


def test_rules_are_added_and_deleted_from_the_page_with_csrf(client: TestClient) -> None:
    token = csrf_token(client, "/admin/rules")
    refused = client.post("/admin/rules", data={"action": "boost", "target": "brand", "value": "x"})
    assert refused.status_code == 403  # no CSRF token
    unknown = client.post(
        "/admin/rules", data={"csrf": token, "action": "boost", "target": "category", "value": "Garden"}
    )
    assert unknown.status_code == 422 and "no category &#39;Garden&#39; in the catalogue" in unknown.text
    bad_pin = client.post(
        "/admin/rules", data={"csrf": token, "action": "pin", "target": "item_id", "value": "a"}
    )
    assert bad_pin.status_code == 422 and "a pin rule needs an item_id and a position" in bad_pin.text
    added = client.post(
        "/admin/rules",
        data={
            "csrf": token,
            "action": "bury",
            "target": "category",
            "value": "Home",
            "amount": "0.5",
            "slot_home": "1",
        },
        follow_redirects=True,
    )
    assert "Rule added" in added.text
    rule_id = re.search(r'data-rule-id="([^"]+)" data-action="bury"', added.text)
    assert rule_id is not None and "bury category Home (-0.5)" in added.text
    api = client.get("/v1/rules", headers={"X-API-Key": ADMIN}).json()
    assert [(r["rule_id"], r["category"], r["slots"]) for r in api] == [(rule_id.group(1), "Home", ["home"])]
    gone = client.post(f"/admin/rules/{rule_id.group(1)}/delete", data={"csrf": token}, follow_redirects=True)
    assert "Rule deleted" in gone.text and 'id="no-rules"' in gone.text
    again = client.post(f"/admin/rules/{rule_id.group(1)}/delete", data={"csrf": token})
    assert again.status_code == 404


def test_rules_api_validates_and_answers_what_to_fix(client: TestClient) -> None:
    h = {"X-API-Key": ADMIN}
    r = client.post("/v1/rules", headers=h, json={"action": "pin", "item_id": "zzz", "position": 1})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_item"
    r = client.post("/v1/rules", headers=h, json={"action": "boost", "brand": "A", "category": "Home"})
    assert (
        r.status_code == 422 and "exactly one of item_id, category or brand" in r.json()["error"]["message"]
    )
    r = client.post(
        "/v1/rules", headers=h, json={"action": "pin", "item_id": "c", "position": 2, "slots": ["home"]}
    )
    assert r.status_code == 201
    made = r.json()
    assert made["rule_id"] and made["created_at"] > 0
    assert client.delete(f"/v1/rules/{made['rule_id']}", headers=h).json() == {"deleted": made["rule_id"]}
    assert client.get("/v1/rules").status_code == 401  # an API key is needed


def test_privacy_page_shows_the_ledger_and_the_remaining_budget(client: TestClient) -> None:
    from shelfwise.privacy.releases import ledger_of

    state: Any = client.app.state  # type: ignore[attr-defined]
    empty = client.get("/admin/privacy").text
    assert "No DP release yet" in empty and 'id="epsilon-remaining">10<' in empty
    ledger = ledger_of(state.store, state.settings.privacy.dp)
    ledger.spend(1.5, 0.0, "event counts per item", params={"max_contributions": 20})
    ledger.spend(0.5, 1e-7, "event counts per day")
    html = client.get("/admin/privacy").text
    assert 'id="epsilon-spent">2<' in html and 'id="epsilon-remaining">8<' in html
    rows = re.findall(
        r"<tr data-release-id=[^>]+><td[^>]*>[^<]+</td><td>([^<]+)</td><td class=\"num\">([^<]+)</td>", html
    )
    assert rows == [("event counts per day", "0.5"), ("event counts per item", "1.5")]  # newest first
    assert "max_contributions=20" in html and 'value="0.2000"' in html
