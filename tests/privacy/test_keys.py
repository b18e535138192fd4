"""Where keys live: outside the store by default, from the environment first; an old store keeps its key."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.privacy import pseudonymise
from shelfwise.privacy.pseudonymise import CONFIG_KEY_FILE, KEY_FILE, Pseudonymiser, load_key
from shelfwise.storage import open_store

EVENTS = "event_id,user_id,item_id,type,timestamp\ne1,alice@example.com,i1,view,2024-01-01T00:00:00Z\n"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("SHELFWISE_CONFIG_DIR", str(folder))
    for name in ("SHELFWISE_PSEUDONYMISE_KEY", "SHELFWISE_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _ingest(store_path: Path, tmp_path: Path) -> str:
    settings = load_settings(overrides=["privacy.pseudonymise=true"], environ={})
    source = tmp_path / "ev.csv"
    source.write_text(EVENTS)
    with open_store(store_path) as st:
        ing = Ingestor(st, settings)
        ing.ingest_path(source, "events")
        return str(st.read_users().column("user_id").to_pylist()[0])


def test_a_new_pseudonymised_store_keeps_its_key_outside(config_dir: Path, tmp_path: Path) -> None:
    pseudonym = _ingest(tmp_path / "store", tmp_path)
    key_file = config_dir / CONFIG_KEY_FILE
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not any(p.name.endswith(".key") for p in (tmp_path / "store").rglob("*"))
    assert pseudonym == Pseudonymiser(bytes.fromhex(key_file.read_text()))("alice@example.com")
    assert "alice" not in pseudonym


def test_the_environment_wins_over_the_key_file(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFWISE_PSEUDONYMISE_KEY", "ab" * 32)
    assert load_key(None, "SHELFWISE_PSEUDONYMISE_KEY") == bytes.fromhex("ab" * 32)
    assert not (config_dir / CONFIG_KEY_FILE).exists()


def test_an_old_store_with_its_key_inside_keeps_working_and_warns_once(
    config_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "old"
    store.mkdir()
    (store / KEY_FILE).write_text("cd" * 32)
    pseudonymise._warned.discard(str(store / KEY_FILE))
    with caplog.at_level(logging.WARNING, logger="shelfwise.privacy.pseudonymise"):
        first = load_key(store, "SHELFWISE_PSEUDONYMISE_KEY")
        second = load_key(store, "SHELFWISE_PSEUDONYMISE_KEY")
    assert first == second == bytes.fromhex("cd" * 32)
    warnings = [r for r in caplog.records if "inside the store" in r.getMessage()]
    assert len(warnings) == 1 and "SHELFWISE_PSEUDONYMISE_KEY" in warnings[0].getMessage()
    assert not (config_dir / CONFIG_KEY_FILE).exists()  # nothing new made beside it


def test_a_short_key_file_is_refused_with_where_it_came_from(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / CONFIG_KEY_FILE).write_text("abcd")
    with pytest.raises(ValueError, match=str(config_dir / CONFIG_KEY_FILE)):
        load_key(None, "SHELFWISE_PSEUDONYMISE_KEY")
    assert os.environ.get("SHELFWISE_PSEUDONYMISE_KEY") is None
