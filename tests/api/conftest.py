"""The real service over HTTP: the sample shop (built and trained once per session), served by
:class:`shelfwise.api.server.LiveServer` on a free loopback port, with an admin key from the environment."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import build_demo_store

ADMIN_KEY = "api-tests-admin-" + os.urandom(8).hex()


@dataclass
class Live:
    """A running app: base URL, the app (for its state) and an admin client."""

    url: str
    app: Any
    admin: httpx.Client

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample shop, built and trained (read it; copy it before serving it from a second app)."""
    pytest.importorskip("fastapi")
    return build_demo_store(tmp_path_factory.mktemp("api") / "shop")


NO_LIMITS = [
    "api.rate_limit.read_per_second=0",
    "api.rate_limit.admin_per_second=0",
    "api.rate_limit.events_per_second=0",
]


@contextmanager
def serving(store: Path, overrides: list[str] | None = None) -> Iterator[tuple[Any, Any]]:
    """``create_app`` on ``store`` served on loopback with the tests' admin key; yields (server, app)."""
    from shelfwise.api import create_app
    from shelfwise.api.server import LiveServer
    from shelfwise.config import load_settings

    old = os.environ.get("SHELFWISE_ADMIN_KEY")
    os.environ["SHELFWISE_ADMIN_KEY"] = ADMIN_KEY
    try:
        settings = load_settings(store / "shelfwise.toml", environ={}, overrides=overrides or [])
        app = create_app(settings, store_path=store)
        server = LiveServer(app).start(wait_ready=600)
        try:
            yield server, app
        finally:
            server.stop()
    finally:
        if old is None:
            os.environ.pop("SHELFWISE_ADMIN_KEY", None)
        else:
            os.environ["SHELFWISE_ADMIN_KEY"] = old


@pytest.fixture(scope="session")
def live(api_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One served copy of the sample shop for the HTTP tests (tests use distinct shoppers)."""
    copy = tmp_path_factory.mktemp("api-live") / "shop"
    shutil.copytree(api_store, copy)
    with (
        serving(copy, NO_LIMITS) as (server, app),
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60
        ) as admin,
    ):
        yield Live(server.url, app, admin)


@pytest.fixture(scope="session")
def shoppers(live: Live) -> list[str]:
    """Shoppers of the sample shop with at least 5 events, most active first."""
    from collections import Counter

    users = Counter(live.app.state.store.read_events(["user_id"]).column("user_id").to_pylist())
    return [u for u, n in users.most_common() if n >= 5]
