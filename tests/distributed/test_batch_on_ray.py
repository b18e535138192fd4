"""``--ray ADDRESS`` on the batch commands gives the in-process answers: catalogue encoding through Ray Data,
source fitting as Ray tasks (``train``), and models x parts as Ray tasks (``evaluate``), on the sample shop and
the real cluster (skipped with how to start one without ``SHELFWISE_TEST_RAY``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shelfwise.config import load_settings
from shelfwise.distributed.runner import InProcessRunner, RayRunner
from shelfwise.storage import open_store
from tests.web.conftest import ENCODER_CACHE, build_demo_store


@pytest.fixture(scope="module")
def ray_runner(ray_address: str) -> Iterator[RayRunner]:
    runner = RayRunner(ray_address)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, ray_runner: RayRunner) -> Path:
    """The sample shop, built and trained in process (version 1 of every artifact)."""
    return build_demo_store(tmp_path_factory.mktemp("ray-batch") / "shop")


def test_build_encodes_on_ray_data_as_in_process(shop: Path, tmp_path: Path, ray_runner: RayRunner) -> None:
    from shelfwise.build import build_item_artifacts

    built = {}
    for name, runner in (("local", InProcessRunner()), ("ray", ray_runner)):
        # an empty embedding cache each (every text is encoded, on the cluster for "ray"), with the shared
        # ONNX export of the tests' encoder cache (exporting and quantising again takes minutes)
        folder = tmp_path / f"cache-{name}"
        folder.mkdir()
        (folder / "onnx").symlink_to(ENCODER_CACHE / "onnx", target_is_directory=True)
        cache = f'search.encoder.cache_dir="{folder}"'
        settings = load_settings(shop / "shelfwise.toml", environ={}, overrides=[cache])
        with open_store(shop, create=False, artifacts=tmp_path / name) as st:
            report = build_item_artifacts(st, settings, runner=runner)
            built[name] = st.artifacts.latest("item-vectors")
        assert report["runner"] == runner.name
        assert report["texts_encoded"] > 1000
    on_ray, local = built["ray"], built["local"]
    assert json.loads((on_ray.path / "ids.json").read_text()) == json.loads(
        (local.path / "ids.json").read_text()
    )
    np.testing.assert_allclose(
        np.load(on_ray.path / "vectors.npy"), np.load(local.path / "vectors.npy"), atol=1e-5
    )


def _recommendations(store: Path, artifacts: Path | None, users: list[str]) -> list[list[str]]:
    from shelfwise.recommend import Recommender, RecommendRequest

    settings = load_settings(store / "shelfwise.toml", environ={})
    with open_store(store, create=False, artifacts=artifacts) as st:
        rec = Recommender.load(st, settings)
    return [[i.item_id for i in rec.recommend(RecommendRequest(user_id=u, k=10)).items] for u in users]


def test_train_fits_the_sources_as_ray_tasks_with_the_same_recommendations(
    shop: Path, tmp_path: Path, ray_runner: RayRunner
) -> None:
    from shelfwise.recommend import train_recommender

    settings = load_settings(shop / "shelfwise.toml", environ={})
    reports = {}
    for name, runner in (("local", InProcessRunner()), ("ray", ray_runner)):
        with open_store(shop, create=False, artifacts=tmp_path / name) as st:
            reports[name] = train_recommender(st, settings, show_progress=False, runner=runner)
    assert reports["ray"]["runner"] == "ray"
    assert reports["ray"]["validation_candidate_recall"] == reports["local"]["validation_candidate_recall"]
    users = ["u0001", "u0294", "u0319", "u0755", "u0561", "nobody-yet"]
    assert _recommendations(shop, tmp_path / "ray", users) == _recommendations(
        shop, tmp_path / "local", users
    )


def test_evaluate_runs_models_and_parts_as_ray_tasks_with_the_same_metrics(
    shop: Path, ray_runner: RayRunner
) -> None:
    from shelfwise.evaluation.runner import run_recommend

    settings = load_settings(shop / "shelfwise.toml", environ={}, overrides=["evaluation.report_valid=true"])
    models = ["popularity", "itemknn", "als"]
    with open_store(shop, create=False) as st:
        local = run_recommend(st, models, settings, runner=InProcessRunner())
        on_ray = run_recommend(st, models, settings, runner=ray_runner)
    assert [(r.model, r.part) for r in on_ray.runs] == [(r.model, r.part) for r in local.runs]
    assert len(on_ray.runs) == 6
    for a, b in zip(local.runs, on_ray.runs, strict=True):
        assert a.metrics == pytest.approx(b.metrics, abs=1e-9), a.model
