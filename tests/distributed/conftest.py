"""The Ray cluster the distributed tests use: ``SHELFWISE_TEST_RAY`` (``scripts/dev_services.sh start`` starts a
head and a worker node and prints it); without it, the Ray half of each contract test is skipped."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def ray_address() -> str:
    address = os.environ.get("SHELFWISE_TEST_RAY")
    if not address:
        pytest.skip(
            "no Ray cluster: run `scripts/dev_services.sh start` (or `ray start --head --port 6390` and "
            "`ray start --address 127.0.0.1:6390`) and export SHELFWISE_TEST_RAY=127.0.0.1:6390"
        )
    if address.startswith(
        ("127.", "localhost")
    ):  # before anything imports ray (see scripts/ray_local_cluster.py)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    return address
