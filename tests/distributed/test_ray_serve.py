"""Ray Serve: two replicas of the service on one store, behind Ray's HTTP proxy."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.conftest import ADMIN_KEY
from tests.web.conftest import build_demo_store


def test_two_replicas_serve_one_shop(ray_address: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from shelfwise.api.server import free_port
    from shelfwise.distributed.serve import run_on_ray

    store = build_demo_store(tmp_path_factory.mktemp("rayserve") / "shop")
    port = free_port()
    run_on_ray(
        ray_address,
        store=str(store),
        replicas=2,
        host="127.0.0.1",
        port=port,
        config=str(store / "shelfwise.toml"),
        extra_env={"SHELFWISE_ADMIN_KEY": ADMIN_KEY},
        blocking=False,
    )
    from ray import serve  # imported after run_on_ray has chosen the loopback settings

    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health/ready", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the ray serve replicas never became ready")
        status = serve.status().applications["shelfwise"]
        assert status.status == "RUNNING"
        assert status.deployments["shelfwise"].replica_states.get("RUNNING") == 2
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        r = httpx.post(url + "/v1/recommendations", json={"k": 5}, headers=headers, timeout=60)
        assert r.status_code == 200 and len(r.json()["items"]) == 5
    finally:
        serve.shutdown()
