"""One contract for every job runner: order kept, failures named, the same answers in process and on Ray."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from shelfwise.distributed.runner import InProcessRunner, JobFailedError, RayRunner


def _square(x: int) -> int:
    return x * x


def _where(_: int) -> tuple[int, str]:
    import time

    import ray

    time.sleep(0.5)  # long enough that one node's CPU is busy and the scheduler uses the other
    return os.getpid(), ray.get_runtime_context().get_node_id()


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


@pytest.fixture(params=["in-process", "ray"])
def runner(request: pytest.FixtureRequest) -> Iterator[InProcessRunner | RayRunner]:
    if request.param == "in-process":
        yield InProcessRunner()
        return
    address = request.getfixturevalue("ray_address")
    yield RayRunner(address)


def test_results_come_back_in_input_order(runner: InProcessRunner | RayRunner) -> None:
    assert runner.map(_square, range(20), desc="squares") == [x * x for x in range(20)]
    assert runner.map(_square, [], desc="nothing") == []


def test_a_failure_names_the_item(runner: InProcessRunner | RayRunner) -> None:
    with pytest.raises(JobFailedError, match="work item 3 failed: ValueError: three is not allowed") as info:
        runner.map(_fail_on_three, range(6))
    assert info.value.index == 3


def test_ray_tasks_run_in_other_processes_on_every_node(ray_address: str) -> None:
    runner = RayRunner(ray_address)
    assert runner.nodes() >= 2, "the dev cluster has a head and one more node"
    where = runner.map(_where, range(6), cpus=1, spread=True)
    assert os.getpid() not in {pid for pid, _ in where}
    assert len({node for _, node in where}) >= 2


def test_catalogue_encoding_on_ray_matches_in_process(ray_address: str) -> None:
    from shelfwise.distributed.encode import encode_texts_on_ray
    from shelfwise.encoders import build_encoder
    from shelfwise.encoders.base import EncoderConfig

    RayRunner(ray_address)
    texts = [f"red cotton t-shirt size {n}" for n in range(40)] + ["duct tape", "lipstick"]
    config = EncoderConfig(type="sentence-transformers")
    local = build_encoder(config, use_cache=False).encode_documents(texts)
    remote = encode_texts_on_ray(texts, config, actors=2, batch_size=8)
    assert remote.shape == local.shape
    np.testing.assert_allclose(remote, local, atol=1e-5)
