"""The sample shop, built and trained once per session, for the assistant's HTTP and CLI tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ADMIN_KEY, NO_LIMITS, Live, serving
from tests.web.conftest import build_demo_store


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample shop with indexes built (read it; copy it before writing to it)."""
    pytest.importorskip("fastapi")
    return build_demo_store(tmp_path_factory.mktemp("assistant") / "shop")


@pytest.fixture(scope="session")
def live(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A served copy of the sample shop (with the admin key of the API tests)."""
    copy = tmp_path_factory.mktemp("assistant-live") / "shop"
    shutil.copytree(shop, copy)
    with (
        serving(copy, NO_LIMITS) as (server, app),
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120) as admin,
    ):
        yield Live(server.url, app, admin)
