"""A Redis of this test's own (``redis-server`` on a free port) stopped and started again under a live
:class:`RedisOnlineState`: health says what is down, nothing blocks forever, and afterwards the state works
again: commands reconnect, the pub/sub listener re-subscribes, in-flight cache writes are refused."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfwise.api.server import free_port
from shelfwise.online import INVALIDATE_CHANNEL, open_online_state
from tests.online.contract import eventually

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class RedisServer:
    """``redis-server`` on loopback, no persistence, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen(
            args, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        import redis

        client = redis.Redis.from_url(self.url)
        assert eventually(lambda: _pings(client), 10), "redis-server did not start"
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(client: object) -> bool:
    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except Exception:
        return False


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path)
    srv.start()
    yield srv
    srv.stop()


def test_a_redis_restart_is_reported_and_survived(server: RedisServer) -> None:
    s = open_online_state(server.url + "?prefix=shop")
    other = open_online_state(server.url + "?prefix=shop")
    try:
        heard: list[bytes] = []
        s.subscribe(INVALIDATE_CHANNEL, heard.append)
        gen = s.generation("u1")
        assert s.cache_put("recommend", "k", [1], owner="u1", generation=gen)
        s.invalidate_owner("u1")  # generation 1 ...
        in_flight = s.generation("u1")

        server.stop()
        assert s.health().startswith("failed:") and server.url.split("//")[1].split("/")[0] in s.health()
        started = time.monotonic()
        with pytest.raises(
            ConnectionError
        ) as err:  # not redis-py's own error class: callers need not know it
            s.get("k")
        assert "\n" not in str(err.value) and f":{server.port}" in str(err.value)
        assert time.monotonic() - started < 10

        server.start()  # empty: nothing persisted
        assert eventually(lambda: s.health() == "ok", 10), s.health()
        assert s.cache_get("recommend", "k") is None
        other.invalidate_owner(
            "u1"
        )  # ... generation 1 again after the restart: the in-flight write is refused
        assert not s.cache_put("recommend", "k", [2], owner="u1", generation=in_flight)
        assert eventually(lambda: b"u1" in heard, 10), heard  # the listener subscribed again by itself
    finally:
        s.close()
        other.close()
