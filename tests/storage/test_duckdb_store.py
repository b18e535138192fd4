from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.storage import open_store
from shelfwise.storage.duckdb_store import DuckDBStore


def test_open_missing_store_without_create_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shelfwise init"):
        open_store(tmp_path / "nothing", create=False)


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown store scheme 'mongo'"):
        open_store("mongo://x")


def test_url_form_opens_duckdb(tmp_path: Path) -> None:
    with open_store(f"duckdb://{tmp_path / 's'}") as st:
        assert isinstance(st, DuckDBStore)
        assert st.counts()["events"] == 0
