"""``/docs`` (Swagger UI) and ``/redoc`` render in Chromium with every request to another host blocked, under a
CSP that allows no inline script, and every script and stylesheet they load comes from the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import serve, shoot


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over an empty store (the docs need no trained model), served on a loopback port."""
    from shelfwise.api import create_app
    from shelfwise.config import load_settings
    from shelfwise.storage import open_store

    folder: Path = tmp_path_factory.mktemp("docs") / "store"
    open_store(folder).close()
    app = create_app(load_settings(environ={}), store_path=folder, background_load=False)
    with serve(app, wait_seconds=60, answers="/health/live") as url:  # never ready: nothing trained
        yield url


def _offline_page(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str], list[str]]:
    """A page whose requests to any other host are aborted; lists of those, of every request, of CSP reports."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    own = urlsplit(url).netloc
    foreign: list[str] = []
    seen: list[str] = []

    def route(r: Any) -> None:
        target = r.request.url
        seen.append(target)
        if target.startswith(("data:", "blob:")) or urlsplit(target).netloc == own:
            r.continue_()
        else:
            foreign.append(target)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    return context, page, foreign, seen, csp


def test_swagger_ui_renders_the_operations_with_no_other_host(browser: Any, docs_app: str) -> None:
    html = httpx.get(f"{docs_app}/docs", timeout=10)
    assert html.status_code == 200
    policy = html.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "<script>" not in html.text  # no inline script: only <script src=...>
    for src in re.findall(r'(?:src|href)="([^"]+)"', html.text):
        assert src.startswith(("/", "data:")), f"/docs loads {src} from elsewhere"
    context, page, foreign, seen, csp = _offline_page(browser, docs_app)
    try:
        page.goto("/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/v1/recommendations" in paths and "/v1/rules" in paths, paths[:10]
        assert page.locator(".opblock").count() >= 20
        page.locator(".opblock-summary", has_text="/v1/search").first.click()
        page.wait_for_selector(".opblock.is-open .parameters-container, .opblock.is-open .opblock-section")
        shoot(page, "docs-offline", full_page=False)
        assert foreign == [], foreign
        assert csp == [], csp
        assert any(u.endswith("/docs/assets/swagger-ui-bundle.js") for u in seen)
    finally:
        context.close()


def test_redoc_renders_with_no_other_host(browser: Any, docs_app: str) -> None:
    context, page, foreign, _, csp = _offline_page(browser, docs_app)
    try:
        page.goto("/redoc")
        page.wait_for_selector("h1", timeout=30_000)
        page.get_by_text("/v1/recommendations").first.wait_for(state="attached")
        assert "shelfwise" in page.locator("h1").first.inner_text()
        shoot(page, "redoc-offline", full_page=False)
        assert foreign == [], foreign
        # ReDoc's sidebar hard-codes its maker's logo on a CDN: the page CSP stops it before any request
        # leaves (the image hides itself on error); nothing else is refused
        assert [m for m in csp if "cdn.redoc.ly/redoc/logo-mini.svg" not in m] == [], csp
    finally:
        context.close()
