"""``shelfwise serve --state``: an unreachable or unknown online state is one line and exit 2 (one process and
``--workers``), and the workers' app factory opens the state named by the environment, under the shop's prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.api.server import ENV_STATE, app_from_environment, worker_environment
from shelfwise.online.redis import RedisOnlineState, prefix_for
from shelfwise.storage import open_store
from tests.online.redis_server import REDIS_URL, needs_redis
from tests.test_cli_store_errors import one_line, shelfwise


@pytest.fixture()
def empty_store(tmp_path: Path) -> Path:
    with open_store(tmp_path / "shop"):
        pass
    return tmp_path / "shop"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_unreachable_state_is_one_line_and_exit_2(empty_store: Path, workers: str) -> None:
    proc = shelfwise(
        "serve", "--store", str(empty_store), "--workers", workers, "--state", "redis://:pw@127.0.0.1:1/0"
    )
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "127.0.0.1:1" in line and "unreachable" in line and "pw" not in line


def test_an_unknown_state_names_the_known_ones(empty_store: Path) -> None:
    proc = shelfwise("serve", "--store", str(empty_store), "--state", "memcached://127.0.0.1:11211")
    assert proc.returncode == 2
    assert "redis://" in one_line(proc.stderr)


@needs_redis
def test_workers_open_the_state_the_environment_names(
    empty_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = worker_environment(str(empty_store), None, [], web=False, state=REDIS_URL)
    assert env[ENV_STATE] == REDIS_URL
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = app_from_environment()
    online = app.state.services.online
    try:
        assert isinstance(online, RedisOnlineState)
        assert online.prefix == prefix_for(str(empty_store.resolve()))  # the same for every replica
        assert online.health() == "ok"
    finally:
        online.close()
        app.state.services.store.close()
