"""The locked pages: the dashboard needs an admin sign-in, forms need the session's CSRF token, shopper cookies
are signed, storefront writes are rate-limited, pages carry security headers, and ``web=False`` mounts none.

Runs on the sample shop ingested but not built (no model is needed to guard a door), over Starlette's
TestClient (the real app, real cookies); each test has its own browser (cookie jar).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shelfwise.api import create_app
from shelfwise.config import load_settings
from shelfwise.demo import run_demo
from tests.web.conftest import csrf_token, sign_in

#: A shopper of the sample shop with events (a profile the dashboard would show).
SHOPPER = "u0001"
PRODUCT = "B0000223UV"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("auth-pages") / "raw"
    run_demo(path)
    overrides = [
        "api.rate_limit.shopper_writes_per_minute=3",
        "api.rate_limit.client_writes_per_minute=5",
        "api.rate_limit.failed_auth_per_minute=4",
    ]
    application = create_app(
        load_settings(environ={}, overrides=overrides), store_path=path, background_load=False
    )
    with TestClient(application):  # runs the lifespan once: the state is loaded for every test
        yield application


@pytest.fixture
def browser(app: Any) -> Iterator[TestClient]:
    """A fresh browser (empty cookie jar) from its own client address (limits are per address)."""
    import secrets

    address = f"10.0.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    yield TestClient(app, client=(address, 50000))  # no `with`: the lifespan ran once, in `app`


@pytest.fixture(scope="module")
def admin_key(app: Any) -> str:
    key, _ = app.state.keys.create("auth-pages-admin", ["admin"])
    return key


def _events_of(app: Any, user_id: str) -> int:
    return app.state.store.read_events(["event_id"], user_ids=[user_id]).num_rows


@pytest.mark.parametrize("path", ["/admin", f"/admin?user={SHOPPER}", "/admin/report"])
def test_the_dashboard_without_a_sign_in_redirects_and_shows_no_shopper_data(
    browser: TestClient, path: str
) -> None:
    r = browser.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/admin/sign-in?next=%2Fadmin")
    assert SHOPPER not in r.text and "profile" not in r.text.lower() and len(r.content) == 0
    page = browser.get(r.headers["location"])
    assert page.status_code == 200 and 'name="key"' in page.text
    assert "data-user-id" not in page.text and 'id="profile' not in page.text
    assert SHOPPER not in page.text.replace(f'value="{path}"', "")  # only where to return to, in the form


def test_a_forged_session_cookie_does_not_sign_anyone_in(browser: TestClient, admin_key: str) -> None:
    sign_in(browser, admin_key)
    real = browser.cookies.get("sw_session")
    assert browser.get("/admin", follow_redirects=False).status_code == 200
    forged = real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB")
    browser.cookies.delete("sw_session")
    browser.cookies.set("sw_session", forged)
    assert browser.get("/admin", follow_redirects=False).status_code == 303


def test_sign_in_refuses_wrong_and_non_admin_keys_then_admits_an_admin(
    app: Any, browser: TestClient, admin_key: str
) -> None:
    token = csrf_token(browser, "/admin/sign-in")
    wrong = browser.post(
        "/admin/sign-in", data={"key": "sw_nope_nope", "csrf": token}, follow_redirects=False
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text
    reader, _ = app.state.keys.create("auth-pages-reader", ["read"])
    weak = browser.post("/admin/sign-in", data={"key": reader, "csrf": token}, follow_redirects=False)
    assert weak.status_code == 403 and "admin scope" in weak.text
    assert browser.get("/admin", follow_redirects=False).status_code == 303
    sign_in(browser, admin_key)
    page = browser.get("/admin", params={"user": SHOPPER})
    assert page.status_code == 200 and f'data-user-id="{SHOPPER}"' in page.text


def test_sign_in_rotates_the_csrf_token_and_sign_out_ends_the_session(
    browser: TestClient, admin_key: str
) -> None:
    before = csrf_token(browser)
    sign_in(browser, admin_key)
    after = csrf_token(browser)
    assert after != before  # a new session at sign-in: a token planted before it is worthless
    stale = browser.post("/admin/sign-out", data={"csrf": before}, follow_redirects=False)
    assert stale.status_code == 403
    out = browser.post("/admin/sign-out", data={"csrf": after}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/shop"
    assert browser.get("/admin", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(app: Any, browser: TestClient) -> None:
    key, record = app.state.keys.create("auth-pages-short-lived", ["admin"])
    sign_in(browser, key)
    assert browser.get("/admin", follow_redirects=False).status_code == 200
    assert app.state.keys.revoke(record.key_id)
    assert browser.get("/admin", follow_redirects=False).status_code == 303


def test_forms_without_the_sessions_csrf_token_are_refused(app: Any, browser: TestClient) -> None:
    before = _events_of(app, SHOPPER)
    browser.get("/shop")  # a session exists; its token is simply not sent
    assert browser.post("/shop/cart", data={"item_id": PRODUCT}).status_code == 403
    assert browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": "guessed"}).status_code == 403
    assert browser.post("/admin/sign-in", data={"key": "x"}).status_code == 403
    assert browser.post("/shop/shopper", data={"user_id": SHOPPER}).status_code == 403
    browser.cookies.clear()  # no session at all: a token from another browser does not carry over
    assert browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": "x" * 32}).status_code == 403
    assert _events_of(app, SHOPPER) == before


def test_a_hand_made_shopper_cookie_is_ignored_and_a_fresh_visitor_is_issued(
    app: Any, browser: TestClient
) -> None:
    before = _events_of(app, SHOPPER)
    token = csrf_token(browser)
    browser.cookies.delete("sw_visitor")
    browser.cookies.set("sw_shopper", SHOPPER)  # what the old storefront trusted
    r = browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    visitor = r.cookies.get("sw_visitor")
    assert visitor and visitor.startswith("visitor-")
    assert _events_of(app, SHOPPER) == before  # nothing written as the shopper named in the cookie
    assert _events_of(app, app.state.ingestor.user_key(visitor.rsplit(".", 1)[0])) == 1
    # an altered signed visitor id is not honoured either: another fresh visitor
    tampered = "visitor-000000000000." + visitor.rsplit(".", 1)[1]
    browser.cookies.delete("sw_visitor")
    browser.cookies.set("sw_visitor", tampered)
    page = browser.get("/shop")
    assert page.cookies.get("sw_visitor") not in (None, tampered)


def test_picking_a_shopper_needs_an_admin(browser: TestClient, admin_key: str) -> None:
    token = csrf_token(browser)
    r = browser.post("/shop/shopper", data={"user_id": SHOPPER, "csrf": token}, follow_redirects=False)
    assert r.status_code == 403 and "sw_shopper" not in r.cookies
    assert 'id="shopper"' not in browser.get("/shop").text  # no picker (no list of shopper ids) either
    sign_in(browser, admin_key)
    assert 'id="shopper"' in browser.get("/shop").text


def test_storefront_writes_are_limited_per_shopper_and_per_address(app: Any, browser: TestClient) -> None:
    token = csrf_token(browser)
    codes = [
        browser.post(
            "/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False
        ).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]  # 3 per shopper and minute
    limited = browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False)
    assert int(limited.headers["Retry-After"]) >= 1
    # a new visitor from the same address: the address has 2 of its 5 left
    browser.cookies.delete("sw_visitor")
    first = browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False)
    assert first.status_code == 303
    second = browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False)
    third = browser.post("/shop/cart", data={"item_id": PRODUCT, "csrf": token}, follow_redirects=False)
    assert (second.status_code, third.status_code) == (303, 429)
    # past the limit, a product page still renders (its view event is not recorded)
    assert browser.get(f"/shop/product/{PRODUCT}").status_code == 200


def test_repeated_failed_sign_ins_get_429(browser: TestClient, admin_key: str) -> None:
    token = csrf_token(browser, "/admin/sign-in")
    codes = [
        browser.post("/admin/sign-in", data={"key": f"wrong-{i}", "csrf": token}).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    # blocked for the minute, even with the right key: a guesser cannot tell a hit by its answer
    right = browser.post("/admin/sign-in", data={"key": admin_key, "csrf": token}, follow_redirects=False)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("path", ["/shop", "/admin/sign-in", f"/shop/product/{PRODUCT}"])
def test_pages_carry_security_headers_and_a_csp_without_unsafe_inline(browser: TestClient, path: str) -> None:
    r = browser.get(path)
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert ' style="' not in r.text and "<script>" not in r.text  # nothing the CSP would block


def test_page_cookies_are_httponly_samesite_and_secure_over_https(app: Any) -> None:
    r = TestClient(app, base_url="https://testserver").get("/shop")
    cookies = r.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"sw_session", "sw_visitor"}
    for cookie in cookies:
        lower = cookie.lower()
        assert "httponly" in lower and "samesite=lax" in lower and "secure" in lower
    plain = TestClient(app).get("/shop")  # plain http (loopback): not Secure, or the browser would drop it
    assert all("secure" not in x.lower() for x in plain.headers.get_list("set-cookie"))


def test_without_web_no_page_is_mounted(tmp_path: Path) -> None:
    run_demo(tmp_path / "shop")
    application = create_app(load_settings(environ={}), store_path=tmp_path / "shop", web=False)
    c = TestClient(application)
    for path in ("/shop", "/admin", "/admin/sign-in", "/web/static/shelfwise.css", "/"):
        assert c.get(path, follow_redirects=False).status_code == 404, path
    assert c.get("/health/live").status_code == 200
    application.state.store.close()
