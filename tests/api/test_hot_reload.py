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
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shelfwise.api.server import free_port

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


def _top_manifest(root: Path) -> Callable[[str, list[str]], list[str]]:
    """A ``copytree`` ignore: the version's own manifest, not those of its sub-folders."""
    return lambda folder, names: ["manifest.json"] if Path(folder) == root else []


@pytest.fixture
def shared_shop(api_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A copy of the sample shop, with its artifacts moved out of the store folder into a shared location."""
    base = tmp_path_factory.mktemp("hot-reload")
    store = base / "shop"
    shutil.copytree(api_store, store)
    shared = base / "shared-artifacts"
    shutil.move(str(store / "artifacts"), shared)
    yield store, shared


@pytest.mark.timeout(1800)  # three processes loading and training on a 2-core machine shared with others
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


def test_a_version_that_fails_to_load_leaves_the_served_one_and_the_next_good_one_is_swapped_in(
    api_store: Path, tmp_path: Path
) -> None:
    from shelfwise.api.components import build_services, load, stop
    from shelfwise.config import load_settings
    from shelfwise.recommend import RecommendRequest
    from shelfwise.storage import open_store

    shop = tmp_path / "shop"
    shutil.copytree(api_store, shop)
    settings = load_settings(shop / "shelfwise.toml", environ={})
    with open_store(shop, create=False) as st:
        services = build_services(settings, st)
        load(services, follow=False)
        try:
            watch = services.artifact_watch
            assert watch is not None and services.recommender is not None
            served = services.recommender.version
            good = st.artifacts.get("recommender", served)
            with st.artifacts.writer("recommender") as d:  # a version without the model's files
                (d / "broken.json").write_text("{}")
            assert watch.check() == []
            assert watch.last_error and "failed" in watch.last_error
            assert services.recommender.version == served  # still serving, and answering
            assert services.recommender.recommend(RecommendRequest(user_id="u0294", k=5)).items
            assert watch.check() == []  # not retried at once
            skip = {"name", "version", "created", "shelfwise_version", "config", "config_hash", "files"}
            info = {k: v for k, v in good.manifest.items() if k not in skip}
            with st.artifacts.writer("recommender", config=good.config, **info) as d:  # the good one again
                shutil.copytree(good.path, d, dirs_exist_ok=True, ignore=_top_manifest(good.path))
            assert watch.check() == ["recommender"]
            assert services.recommender.version == served + 2
            assert watch.served()["recommender"] == served + 2 and "error" not in watch.served()
            resp = services.recommender.recommend(RecommendRequest(user_id="u0294", k=5))
            assert resp.version == served + 2 and resp.items
        finally:
            stop(services)
