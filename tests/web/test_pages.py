"""The pages over HTTP on a store that is ingested but not built or trained: they say what to run, never 5xx,
and the form endpoints refuse what they must refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shelfwise.api import create_app
from shelfwise.config import load_settings
from shelfwise.demo import run_demo
from tests.web.conftest import csrf_token, sign_in


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A browser signed in to the dashboard with an admin key made for the test."""
    path = tmp_path_factory.mktemp("pages") / "raw"
    run_demo(path)
    app = create_app(load_settings(environ={}), store_path=path, background_load=False)
    with TestClient(app) as c:
        key, _ = app.state.keys.create("pages-admin", ["admin"])
        sign_in(c, key)
        yield c


def test_front_page_redirects_to_the_storefront(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"] == "/shop"


def test_home_without_a_trained_recommender_says_what_to_run(client: TestClient) -> None:
    r = client.get("/shop")
    assert r.status_code == 200
    assert "shelfwise train" in r.text
    assert 'name="viewport"' in r.text and 'lang="en"' in r.text


def test_out_of_range_diversity_is_clamped_not_an_error(client: TestClient) -> None:
    r = client.get("/shop", params={"diversity": 7})
    assert r.status_code == 200 and 'value="1.0"' in r.text


def test_search_without_indexes_says_what_to_run(client: TestClient) -> None:
    r = client.get("/shop/search", params={"q": "glue under $20"})
    assert r.status_code == 200 and "shelfwise build" in r.text


def test_a_new_visitor_gets_a_visitor_cookie_and_keeps_it(client: TestClient) -> None:
    client.cookies.delete("sw_visitor")
    first = client.get("/shop")
    visitor = first.cookies.get("sw_visitor")
    assert visitor and visitor.startswith("visitor-") and visitor.count(".") == 1  # id.signature
    assert client.get("/shop").cookies.get("sw_visitor") is None  # already set: not re-issued


def test_picking_a_shopper_sets_the_signed_cookie_and_stays_on_this_site(client: TestClient) -> None:
    token = csrf_token(client)
    r = client.post(
        "/shop/shopper",
        data={"user_id": "u0001", "next": "/shop/search?q=tape", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/shop/search?q=tape"
    cookie = r.cookies.get("sw_shopper")
    assert cookie and cookie.startswith("u0001.") and cookie != "u0001"  # signed
    assert "Picked for u0001" in client.get("/shop").text
    evil = client.post(
        "/shop/shopper",
        data={"user_id": "", "next": "//evil.example/x", "csrf": token},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/shop"
    assert "Popular right now" in client.get("/shop").text


def test_unknown_product_is_404_and_cart_refuses_unknown_items(client: TestClient) -> None:
    assert client.get("/shop/product/NOPE").status_code == 404
    assert client.post("/shop/cart", data={"item_id": "NOPE", "csrf": csrf_token(client)}).status_code == 400


def test_dashboard_renders_stats_segments_and_a_profile(client: TestClient) -> None:
    r = client.get("/admin", params={"user": "u0001"})
    assert r.status_code == 200
    assert "1,200" in r.text  # products
    assert 'id="segments"' in r.text and "shoppers" in r.text
    assert 'data-user-id="u0001"' in r.text


def test_dashboard_shows_the_latest_evaluation_report_with_its_plots(client: TestClient) -> None:
    from shelfwise.evaluation.report import write_reports
    from shelfwise.evaluation.runner import run_recommend

    assert "No evaluation report" in client.get("/admin").text
    state = client.app.state
    result = run_recommend(state.store, ["popularity"], state.settings)
    write_reports(result, Path(state.store.folder) / "reports" / "recommend")
    page = client.get("/admin").text
    section = page[page.index('id="evaluation"') :]
    assert "<td>popularity</td>" in section
    assert f"{result.table()['popularity']['ndcg@10']:.4f}" in section
    assert 'src="data:image/png;base64,' in section
    full = client.get("/admin/report")
    assert full.status_code == 200 and 'id="comparison"' in full.text


def test_static_files_ship_in_the_package_and_nothing_else_is_served(client: TestClient) -> None:
    assert client.get("/web/static/shelfwise.css").headers["content-type"].startswith("text/css")
    assert client.get("/web/static/shelfwise.js").status_code == 200
    assert client.get("/web/static/..%2Fdashboard.py").status_code == 404
    page = client.get("/shop").text
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


def test_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/shop", "/admin", "/web"))]


def test_an_anonymous_visitors_view_is_a_real_event_and_the_dashboard_shows_their_profile(
    client: TestClient,
) -> None:
    client.cookies.delete("sw_visitor")
    client.cookies.delete("sw_shopper")
    first = client.get("/admin")
    assert 'id="profile-card"' not in first.text  # no events yet: no profile offered
    visitor = first.cookies["sw_visitor"].rsplit(".", 1)[0]  # the signed value: id.signature
    assert client.get("/shop/product/B0000223UV").status_code == 200
    page = client.get("/admin").text
    assert f'data-user-id="{visitor}"' in page
    assert 'data-item-id="B0000223UV"><td class="nowrap">' in page and "<td>view</td>" in page


def test_while_the_app_loads_pages_say_so_and_reload_themselves(tmp_path: Path) -> None:
    run_demo(tmp_path / "shop")
    app = create_app(load_settings(environ={}), store_path=tmp_path / "shop")
    c = TestClient(app)  # no lifespan: the state is attached, the models are not loaded yet
    page = c.get("/shop").text
    assert "still loading" in page and "shelfwise train" not in page
    assert '<meta http-equiv="refresh" content="5">' in page
    app.state.store.close()


def test_an_event_on_an_item_the_catalogue_lacks_is_plain_text_not_a_link(client: TestClient) -> None:
    from shelfwise.data.ingest import Ingestor

    store = client.app.state.store  # type: ignore[attr-defined]
    with Ingestor(store, load_settings(environ={})) as ing:  # accepted with a warning (ingest.unknown_items)
        ing.ingest_table(
            [{"user_id": "u0001", "item_id": "GHOST-ITEM-1", "type": "view", "timestamp": 1_730_000_000}],
            "events",
        )
    page = client.get("/admin", params={"user": "u0001"}).text
    assert "GHOST-ITEM-1 (not in the catalogue)" in page
    assert "/shop/product/GHOST-ITEM-1" not in page and 'href="#"' not in page
