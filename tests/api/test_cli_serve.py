"""``shelfwise serve`` as a process: ready on loopback, and a random admin key for the run when none is set."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shelfwise.api.server import free_port


def test_serve_answers_ready_and_makes_a_key_for_the_run(api_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "shop"
    shutil.copytree(api_store, store)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SHELFWISE_ADMIN_KEY"}
    err = (tmp_path / "stderr.txt").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shelfwise", "serve", "--store", str(store), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"{url}/health/ready", timeout=5).status_code
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert status == 200, (tmp_path / "stderr.txt").read_text()[-2000:]
        assert "/v1/recommendations" in httpx.get(f"{url}/openapi.json").json()["paths"]
        text = (tmp_path / "stderr.txt").read_text()
        key = re.search(r"admin key for this run: (\S+)", text).group(1)
        assert httpx.post(f"{url}/v1/recommendations", json={"k": 3}).status_code == 401
        ok = httpx.post(
            f"{url}/v1/recommendations", json={"k": 3}, headers={"Authorization": f"Bearer {key}"}
        )
        assert ok.status_code == 200 and len(ok.json()["items"]) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        err.close()
    from shelfwise.storage import open_store

    with open_store(store, create=False) as st:
        assert st.get_meta("api_keys") in (None, [])  # the run's key lives in memory only
