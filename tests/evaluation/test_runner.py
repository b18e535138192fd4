"""The experiment runner and its reports, on the synthetic shop (a store filled through ingestion)."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.evaluation.report import write_reports
from shelfwise.evaluation.runner import run_recommend
from shelfwise.storage import Store


@pytest.fixture()
def filled(store: Store, shop: SyntheticShop) -> Store:
    Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
    return store


def test_models_are_compared_under_one_stated_protocol(filled: Store) -> None:
    settings = load_settings(overrides=["models.als.factors=16", "models.als.iterations=5"], environ={})
    result = run_recommend(
        filled, ["popularity", "als", "itemknn"], settings, overrides=["models.als.factors=16"]
    )
    table = result.table()
    assert set(table) == {"popularity", "als", "itemknn"}
    for metrics in table.values():
        assert {"ndcg@10", "hr@10", "mrr@10", "coverage@10", "ild_category@10", "miscalibration@10"} <= set(
            metrics
        )
        assert 0.0 <= metrics["ndcg@10"] <= metrics["hr@10"] <= 1.0
    # users have category tastes, so personalised models beat popularity by a wide margin here
    assert table["als"]["hr@10"] > 1.5 * table["popularity"]["hr@10"]
    assert table["itemknn"]["hr@10"] > 1.5 * table["popularity"]["hr@10"]
    assert result.protocol["history"] == "rankable" and result.protocol["ranking"] == "full"
    assert result.protocol["rerank"] == "none" and result.protocol["tie_break_seed"] == 0
    d = result.to_dict()
    assert d["overrides"] == ["models.als.factors=16"]
    assert d["models"]["als"]["params"]["factors"] == 16
    assert d["models"]["als"]["train_seconds"] >= 0 and "peak_memory_mb" in d["models"]["als"]


def test_excluding_history_is_labelled_and_changes_the_numbers(filled: Store) -> None:
    base = run_recommend(filled, ["itemknn"], load_settings(environ={}))
    excl = run_recommend(
        filled, ["itemknn"], load_settings(overrides=["evaluation.exclude_history=true"], environ={})
    )
    assert excl.runs[0].protocol["history"] == "excluded" and base.runs[0].protocol["history"] == "rankable"
    assert excl.table()["itemknn"]["ndcg@10"] != base.table()["itemknn"]["ndcg@10"]


def test_unknown_model_names_the_known_ones(filled: Store) -> None:
    with pytest.raises(ValueError, match=r"known: .*als"):
        run_recommend(filled, ["nope"], load_settings(environ={}))


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_has_table_and_embedded_plots(filled: Store, tmp_path: Path) -> None:
    result = run_recommend(filled, ["popularity", "itemknn"], load_settings(environ={}))
    paths = write_reports(result, tmp_path / "r")
    parser = _Collect()
    parser.feed(Path(paths["html"]).read_text())
    assert ("table", {"id": "comparison"}) in parser.tags
    images = [a for t, a in parser.tags if t == "img"]
    assert images and all((a.get("src") or "").startswith("data:image/png;base64,") for a in images)
    assert "| itemknn | test |" in Path(paths["markdown"]).read_text()
    assert json.loads(Path(paths["json"]).read_text())["models"]["itemknn"]["ndcg@10"] >= 0


def test_cli_evaluate_json(filled: Store, tmp_path: Path) -> None:
    folder = filled.url.removeprefix("duckdb://")
    filled.close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shelfwise",
            "evaluate",
            "--store",
            folder,
            "--task",
            "recommend",
            "--models",
            "popularity,itemknn",
            "--k",
            "5,10",
            "--seed",
            "3",
            "--json",
            "--set",
            "models.itemknn.k=10",
            "--report",
            str(tmp_path / "rep"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out["models"]) == {"popularity", "itemknn"}
    assert "ndcg@5" in out["models"]["itemknn"] and "ndcg@20" not in out["models"]["itemknn"]
    assert out["models"]["itemknn"]["protocol"]["tie_break_seed"] == 3
    assert "models.itemknn.k=10" in out["overrides"]
    assert Path(out["reports"]["html"]).exists()


def test_rerank_setting_adds_a_reranked_row_measured_from_the_same_candidates(filled: Store) -> None:
    settings = load_settings(overrides=["rerank.method=calibrated", "rerank.diversity=0.5"], environ={})
    result = run_recommend(filled, ["itemknn"], settings)
    table = result.table()
    assert set(table) == {"itemknn", "itemknn+calibrated@0.5"}
    raw, reranked = table["itemknn"], table["itemknn+calibrated@0.5"]
    assert reranked["miscalibration@10"] < raw["miscalibration@10"]
    assert "ndcg@20" not in reranked  # lists are 10 long: @20 cannot be computed from them
    off = run_recommend(
        filled, ["itemknn"], load_settings(overrides=["rerank.method=calibrated"], environ={})
    )
    assert off.table()["itemknn+calibrated@0"]["ndcg@10"] == pytest.approx(raw["ndcg@10"], abs=0.02)


def test_profile_model_needs_built_vectors_then_beats_popularity(filled: Store) -> None:
    from shelfwise.build import build_item_artifacts

    with pytest.raises(ValueError, match="shelfwise build"):
        run_recommend(filled, ["profile"], load_settings(environ={}))
    settings = load_settings(overrides=["search.encoder.type=sentence-transformers"], environ={})
    build_item_artifacts(filled, settings)
    table = run_recommend(filled, ["popularity", "profile"], settings).table()
    assert table["profile"]["hr@10"] > 1.5 * table["popularity"]["hr@10"]
    assert 0.0 < table["popularity"]["ild@10"] < 2.0  # built vectors -> ILD over them is reported


def test_coverage_reranking_uses_the_configured_candidates_and_spreads_exposure(filled: Store) -> None:
    overrides = ["rerank.method=coverage", "rerank.diversity=0.5", "rerank.candidates=50"]
    result = run_recommend(filled, ["popularity"], load_settings(overrides=overrides, environ={}))
    raw, reranked = result.table()["popularity"], result.table()["popularity+coverage@0.5"]
    assert next(r for r in result.runs if "+" in r.model).protocol["candidates"] == 50
    assert reranked["coverage@10"] > 2 * raw["coverage@10"]  # popularity shows everyone the same 10


def test_models_are_built_without_reranking_when_the_runner_reranks(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shelfwise.evaluation import registry
    from shelfwise.evaluation.baseline_models import _popularity

    seen: list[str] = []

    def recording(settings: Any) -> Any:
        seen.append(settings.rerank.method)
        return _popularity(settings)

    registry._load_plugins()
    monkeypatch.setitem(registry._RECOMMENDERS, "recording-popularity", recording)
    overrides = ["rerank.method=calibrated", "rerank.diversity=0.5"]
    result = run_recommend(filled, ["recording-popularity"], load_settings(overrides=overrides, environ={}))
    assert seen == ["none"]  # a model that re-ranks internally would otherwise be re-ranked twice
    assert set(result.table()) == {"popularity", "popularity+calibrated@0.5"}
