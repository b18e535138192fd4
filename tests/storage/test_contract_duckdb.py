"""The shared :class:`Store` contract against the embedded DuckDB store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shelfwise.storage import Store, open_store
from tests.storage.contract import StoreContract


class TestDuckDBContract(StoreContract):
    @pytest.fixture()
    def make_store(self, tmp_path: Path) -> Callable[[], Store]:
        return lambda: open_store(tmp_path / "shop")
