"""The real service for the web tests: the sample shop built and trained, served by ``create_app`` over HTTP
on a loopback port, and a headless Debian chromium driven by Playwright.

Browser tests skip with a message when Playwright or a chromium binary is missing (CI installs
``chromium`` with apt; set ``SHELFWISE_CHROMIUM`` to use another binary). Screenshots go to
``test-artifacts/web/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
#: Encoder exports and encodings are cached across runs (shared with the search tests).
ENCODER_CACHE = Path.home() / ".cache" / "shelfwise"
ADMIN_KEY = "web-tests-admin-key"
#: The demo's settings, with a smaller ALS, fewer candidates per source and the ranker fitted on 200
#: shoppers, so training takes about a fifth of the time (the pipeline is the same; the ranker's fit is
#: most of the cost).
TEST_SETTINGS = """[search.encoder]
cache_dir = "{cache}"

[models.als]
factors = 32

[recommend]
k_per_source = 50
ranker_max_users = 200
"""


def chromium_path() -> str | None:
    """The chromium binary to drive: ``$SHELFWISE_CHROMIUM``, else ``chromium`` on PATH, else None."""
    for candidate in (os.environ.get("SHELFWISE_CHROMIUM"), shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class LiveApp:
    """A running app: its base URL and the app object (for its state)."""

    url: str
    app: Any


def build_demo_store(path: Path) -> Path:
    """The sample shop as ``shelfwise demo`` loads it, with indexes built and the recommender trained
    (``TEST_SETTINGS``: smaller ALS, fewer candidates; shared encoder cache)."""
    from shelfwise.build import build_item_artifacts
    from shelfwise.config import load_settings
    from shelfwise.demo import run_demo
    from shelfwise.recommend import train_recommender
    from shelfwise.storage import open_store

    run_demo(path)
    (path / "shelfwise.toml").write_text(TEST_SETTINGS.format(cache=ENCODER_CACHE))
    settings = load_settings(path / "shelfwise.toml", environ={})
    with open_store(path, create=False) as st:
        build_item_artifacts(st, settings)
        train_recommender(st, settings, show_progress=False)
    return path


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("web") / "shop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, wait_seconds: float = 300, answers: str = "/health/ready") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port until the block ends; yields its base URL once
    ``answers`` (a path) answers 200."""
    import httpx
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{answers}", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        server.should_exit = True
        pytest.fail(f"the app did not answer {answers} within {wait_seconds:.0f} s")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def live_app(demo_store: Path) -> Iterator[LiveApp]:
    """``create_app`` on the demo store, served by uvicorn on a loopback port until the session ends."""
    from shelfwise.api import create_app
    from shelfwise.config import load_settings

    old = os.environ.get("SHELFWISE_ADMIN_KEY")
    os.environ["SHELFWISE_ADMIN_KEY"] = ADMIN_KEY
    settings = load_settings(demo_store / "shelfwise.toml", environ={})
    app = create_app(settings, store_path=demo_store, background_load=False)
    try:
        with serve(app) as url:
            yield LiveApp(url, app)
    finally:
        if old is None:
            os.environ.pop("SHELFWISE_ADMIN_KEY", None)
        else:
            os.environ["SHELFWISE_ADMIN_KEY"] = old


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless chromium (skips with a message when Playwright or the binary is missing)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no chromium binary (apt-get install chromium, or set SHELFWISE_CHROMIUM): browser tests skipped"
        )
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


def shoot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a screenshot of ``page`` as ``test-artifacts/web/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


_CSRF = re.compile(r'name="csrf" (?:value|content)="([^"]+)"')


def csrf_token(client: Any, path: str = "/shop") -> str:
    """The CSRF token of ``client``'s session, read from a page's form (the page also sets the session)."""
    found = _CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: Any, key: str) -> None:
    """Sign ``client`` (an httpx / TestClient with a cookie jar) in to the dashboard with an admin key."""
    token = csrf_token(client, "/admin/sign-in")
    r = client.post(
        "/admin/sign-in", data={"key": key, "csrf": token, "next": "/admin"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin", r.text[:500]
