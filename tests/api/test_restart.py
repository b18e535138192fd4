"""Restarts lose nothing, and several workers on one store converge: real ``shelfwise serve`` processes on the
sample shop, real HTTP, ``kill -9``.

* An item with a new brand and category added by ``POST /v1/items`` is found by search and autocomplete
  after the server is killed and started again (the search pipeline catches up with the catalogue log).
* Events posted after training (for a shopper the model never saw) still shape that shopper's
  recommendations after a ``kill -9`` (the live history is rebuilt from the stored events), their profile
  exists (replayed since the last profile flush, which never ran here), and every profile answers 200.
* With ``--workers 2``, an event posted through one worker is reflected by every worker within seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from shelfwise.api.server import free_port
from tests.api.conftest import NO_LIMITS

KEY = "restart-tests-" + os.urandom(8).hex()
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW_ITEM = {
    "item_id": "restart-crimson-1",
    "title": "Crimson Velvet Zanzibarique Lipstick",
    "description": "A long-lasting crimson lipstick with a velvet finish.",
    "brand": "Zanzibarique",
    "category": "Beauty > Makeup > Zanzibarique Lips",
    "price": 14.5,
}


class Server:
    """A ``shelfwise serve`` subprocess on loopback."""

    def __init__(self, store: Path, log: Path, extra: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "SHELFWISE_ADMIN_KEY": KEY}
        sets = [a for s in [*NO_LIMITS, "api.follow_seconds=0.5"] for a in ("--set", s)]
        cmd = [sys.executable, "-m", "shelfwise", "serve", "--store", str(store), "--host", "127.0.0.1"]
        self._err = log.open("a")
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port), *extra, *sets],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
            start_new_session=True,  # kill -9 reaches uvicorn's worker processes too
        )

    def wait_ready(self, timeout: float = 420) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited: {self.tail()}"
            try:
                r = httpx.get(f"{self.url}/health/ready", timeout=5)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not ready within {timeout:.0f}s: {self.tail()}")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._err.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if not self._err.closed:
            self._err.close()

    def tail(self) -> str:
        return self.log.read_text()[-3000:]


@contextmanager
def serving(store: Path, log: Path, extra: list[str] | None = None) -> Iterator[Server]:
    server = Server(store, log, extra or [])
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _recommend(url: str, user: str) -> dict[str, Any]:
    """The shopper's home feed over a new connection (so any worker may answer), with ``worker`` added."""
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
        r = c.post("/v1/recommendations", json={"user_id": user, "slot": "home", "k": 10})
    assert r.status_code == 200, r.text
    return {**r.json(), "worker": r.headers.get("x-shelfwise-worker")}


def _reflects(resp: dict[str, Any], title: str) -> bool:
    """Personalised from the history (not a fallback) and explained by the viewed item."""
    return resp["fallback"] is None and any(title in (i["reason"] or "") for i in resp["items"])


def _store_facts(store: Path) -> tuple[list[str], str, str]:
    """Every shopper, and an item (id, title) to view, read while no server holds the store."""
    from collections import Counter

    from shelfwise.storage import open_store

    with open_store(store, create=False) as st:
        users = sorted(set(st.read_events(["user_id"]).column("user_id").to_pylist()))
        counts = Counter(st.read_events(["item_id"]).column("item_id").to_pylist())
        items = {r["item_id"]: r["title"] for r in st.read_items(["item_id", "title"]).to_pylist()}
    item = next(i for i, _ in counts.most_common() if items.get(i))
    return users, item, items[item]


@pytest.fixture()
def store(api_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(api_store, copy)
    return copy


def test_a_kill_9_loses_no_item_no_event_and_no_profile(store: Path, tmp_path: Path) -> None:
    users, item, title = _store_facts(store)
    shopper = "restart-shopper-" + os.urandom(4).hex()
    log = tmp_path / "serve.log"
    # profiles are flushed every 10 minutes here: after the kill they exist only if events are replayed
    flush = ["--set", "api.impression_flush_seconds=600"]
    server = Server(store, log, flush)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as c:
            assert _recommend(server.url, shopper)["fallback"] is not None  # a stranger: a fallback list
            r = c.post("/v1/items", json={"items": [NEW_ITEM]})
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            events = [
                {"user_id": shopper, "item_id": item, "type": t} for t in ("view", "click", "add_to_cart")
            ]
            r = c.post("/v1/events", json={"events": events})
            assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
            before = _recommend(server.url, shopper)
            assert _reflects(before, title), before  # the live service reflects them at once
            found = c.post("/v1/search", json={"query": "zanzibarique lipstick", "k": 10}).json()
            assert NEW_ITEM["item_id"] in [h["item_id"] for h in found["results"]]
        server.kill9()
    finally:
        server.stop()

    with (
        serving(store, log, flush) as again,
        httpx.Client(base_url=again.url, headers=AUTH, timeout=60) as c,
    ):
        hits = c.post("/v1/search", json={"query": "zanzibarique lipstick", "k": 10}).json()["results"]
        suggest = c.get("/v1/search/suggest", params={"prefix": "zanzib"}).json()["suggestions"]
        after = _recommend(again.url, shopper)
        own = c.get(f"/v1/users/{shopper}/profile")
        statuses = {u: c.get(f"/v1/users/{u}/profile").status_code for u in users}
    failures = []
    if NEW_ITEM["item_id"] not in [h["item_id"] for h in hits]:
        failures.append(f"search after restart misses the new item: {[h['item_id'] for h in hits]}")
    if not any("zanzibarique" in s.lower() for s in suggest):
        failures.append(f"autocomplete after restart misses the new brand: {suggest}")
    if not _reflects(after, title):
        failures.append(
            f"recommendations after restart ignore the stored events: fallback={after['fallback']}, "
            f"reasons={[i['reason'] for i in after['items'][:3]]}"
        )
    if own.status_code != 200 or own.json().get("n_events", 3) < 3:
        failures.append(f"the shopper's profile after restart: {own.status_code} {own.text[:300]}")
    bad = {u: s for u, s in statuses.items() if s != 200}
    if bad:
        failures.append(
            f"{len(bad)} of {len(users)} profiles do not answer 200, e.g. {list(bad.items())[:3]}"
        )
    assert not failures, "\n".join(failures)


def test_two_workers_converge_on_an_event(store: Path, tmp_path: Path) -> None:
    _, item, title = _store_facts(store)
    shopper = "two-workers-" + os.urandom(4).hex()
    with serving(store, tmp_path / "serve.log", ["--workers", "2"]) as server:
        workers = set()
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline:  # both are up and answering
            first = _recommend(server.url, shopper)
            assert first["fallback"] is not None  # a stranger: a fallback list (now cached by that worker)
            workers.add(first["worker"])
        assert len(workers) == 2, f"one worker answered every request: {server.tail()}"
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as c:
            r = c.post("/v1/events", json={"events": [{"user_id": shopper, "item_id": item, "type": "view"}]})
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        deadline = time.monotonic() + 15
        streak: list[str] = []
        while time.monotonic() < deadline and len(streak) < 12:
            resp = _recommend(server.url, shopper)
            streak = [*streak, resp["worker"]] if _reflects(resp, title) else []
        assert len(streak) >= 12, server.tail()
        assert len(set(streak)) == 2, f"only worker {set(streak)} answered after the event"
