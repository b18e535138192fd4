"""Shared fixtures: settings, stores, the synthetic shop, and the location of ../shared/data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.data.synthetic import SyntheticShop, make_shop
from shelfwise.storage import Store, open_store

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("SHELFWISE_DATA_DIR", REPO.parent / "shared" / "data"))


def require_data(name: str) -> Path:
    """The dataset folder, or skip the test saying where it was looked for."""
    folder = DATA_DIR / name
    if not folder.is_dir():
        pytest.skip(
            f"dataset {name!r} not found at {folder} (set SHELFWISE_DATA_DIR or provide ../shared/data)"
        )
    return folder


@pytest.fixture()
def settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "store") as st:
        yield st


@pytest.fixture(scope="session")
def shop() -> SyntheticShop:
    return make_shop(n_users=120, n_items=400, n_events=6_000, seed=7)
