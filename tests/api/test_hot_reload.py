"""Hot reload across processes: two ``shelfwise serve`` replicas read one shared artifact location
(``--artifacts``); ``shelfwise train`` in a third process writes a new recommender version there; both replicas
serve it (``/health/ready`` and the recommendation responses name it) within a bounded time, and no request
fails meanwhile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shelfwise.api.server import free_port
from tests.web.conftest import build_demo_store

ADMIN_KEY = "hot-reload-admin-" + os.urandom(8).hex()
ROOT = Path(__file__).resolve().parents[2]
#: How long both replicas may take to serve a version once `train` returned (poll 0.5 s + load + catch-up on
#: a loaded 2-core machine).
RELOAD_WITHIN = 120.0


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "SHELFWISE_ADMIN_KEY": ADMIN_KEY,
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": "1",
    }


def _serve(store: Path, artifacts: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "shelfwise", "serve", "--store", str(store), "--artifacts", f"file://{artifacts}",
        "--host", "127.0.0.1", "--port", str(port), "--no-web",
        "--set", "api.follow_seconds=0.5", "--set", "api.rate_limit.read_per_second=0",
    ]  # fmt: skip
    return subprocess.Popen(cmd, env=_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"replica exited {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            r = httpx.get(f"{url}/health/ready", timeout=5)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready in {timeout}s: {log.read_text()[-3000:]}")


@pytest.fixture
def shared_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The sample shop, with its artifacts moved out of the store folder into a shared location."""
    base = tmp_path_factory.mktemp("hot-reload")
    store = build_demo_store(base / "shop")
    shared = base / "shared-artifacts"
    shutil.move(str(store / "artifacts"), shared)
    yield store, shared


def test_two_replicas_move_to_a_version_trained_by_a_third_process(
    shared_shop: tuple[Path, Path], tmp_path: Path
) -> None:
    store, shared = shared_shop
    assert not (store / "artifacts").exists()
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    logs = [tmp_path / f"replica{n}.log" for n in range(2)]
    procs = [_serve(store, shared, p, lg) for p, lg in zip(ports, logs, strict=True)]
    statuses: Counter[int] = Counter()
    versions_seen: list[set[str]] = [set(), set()]
    failures: list[str] = []
    stop = threading.Event()

    def load(n: int) -> None:
        with httpx.Client(base_url=urls[n], headers={"X-API-Key": ADMIN_KEY}, timeout=30) as c:
            while not stop.is_set():
                try:
                    r = c.post("/v1/recommendations", json={"user_id": "u0294", "k": 5})
                except httpx.HTTPError as exc:
                    failures.append(f"replica {n}: {type(exc).__name__}: {exc}")
                    continue
                statuses[r.status_code] += 1
                if r.status_code == 200:
                    versions_seen[n].add(str(r.json()["version"]))
                else:
                    failures.append(f"replica {n}: {r.status_code} {r.text[:200]}")
                time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(2)]
    try:
        before = [_ready(u, p, lg) for u, p, lg in zip(urls, procs, logs, strict=True)]
        assert [b["versions"]["recommender"] for b in before] == [1, 1], before
        for t in threads:
            t.start()
        trained = subprocess.run(
            [sys.executable, "-m", "shelfwise", "train", "--store", str(store), "--artifacts", str(shared),
             "--json"],
            env=_env(), capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert trained.returncode == 0, trained.stderr[-3000:]
        assert '"version": 2' in trained.stdout
        assert not (store / "artifacts").exists()  # written where --artifacts said, not beside the store
        deadline = time.monotonic() + RELOAD_WITHIN
        served = [0, 0]
        while time.monotonic() < deadline and served != [2, 2]:
            for n, u in enumerate(urls):
                body = httpx.get(f"{u}/health/ready", timeout=10).json()
                served[n] = body["versions"]["recommender"]
            time.sleep(0.5)
        waited = RELOAD_WITHIN - (deadline - time.monotonic())
        assert served == [2, 2], f"after {waited:.0f}s: {served}; logs: {logs[0].read_text()[-2000:]}"
        time.sleep(1.5)  # a few more requests on the new version
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert not failures, failures[:5]
        assert statuses[200] > 20, statuses
        assert all({"1", "2"} <= seen for seen in versions_seen), versions_seen
        for u in urls:
            body = httpx.get(f"{u}/health/ready", timeout=10).json()
            assert body["versions"]["artifacts"]["recommender"] == 2
            assert body["versions"]["reloads"] == 1
            metrics = httpx.get(f"{u}/metrics", headers={"X-API-Key": ADMIN_KEY}, timeout=10).text
            assert 'shelfwise_artifact_version{artifact="recommender"} 2.0' in metrics
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
