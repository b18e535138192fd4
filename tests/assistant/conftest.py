"""The sample shop, built and trained once per session, for the assistant's HTTP and CLI tests; ``live`` is the
API tests' served copy of it (``tests/api/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import live  # noqa: F401  (the served shop, over this package's api_store)
from tests.web.conftest import build_demo_store


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample shop with indexes built and the recommender trained (read it; copy it before writing)."""
    pytest.importorskip("fastapi")
    return build_demo_store(tmp_path_factory.mktemp("assistant") / "shop")


@pytest.fixture(scope="session")
def shop(api_store: Path) -> Path:
    """The built sample shop (the CLI tests copy it)."""
    return api_store
