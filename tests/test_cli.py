"""The command line as a user runs it: a real subprocess, JSON on stdout, logs on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_data


def run(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "shelfwise", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def test_ingest_stats_and_reingest_json(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,user_id,item_id,type,timestamp\n"
        "e1,u1,i1,view,2024-01-01T00:00:00Z\ne2,u2,i1,purchase,1704067200\ne3,u2,i2,nope,1704067200\n"
    )
    store = str(tmp_path / "st")
    out = json.loads(run("ingest", str(events), "--kind", "events", "--store", store, "--json").stdout)
    assert (out["users"], out["events"], out["accepted"], out["quarantined"], out["duplicates"]) == (
        2,
        2,
        2,
        1,
        0,
    )
    again = json.loads(run("ingest", str(events), "--kind", "events", "--store", store, "--json").stdout)
    assert (again["events"], again["accepted"], again["duplicates"]) == (2, 0, 2)
    stats = json.loads(run("stats", "--store", store, "--json").stdout)
    assert (stats["users"], stats["items"], stats["events"]) == (2, 0, 2)
    strict = run(
        "ingest", str(events), "--kind", "events", "--store", store, "--json", "--strict", check=False
    )
    assert strict.returncode == 1


def test_validate_writes_nothing_and_lists_problems(tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item_id,title,price\na,A,1\nb,B,-2\n")
    proc = run(
        "validate", str(items), "--kind", "items", "--store", str(tmp_path / "st"), "--json", check=False
    )
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert (
        out["valid"] == 1
        and out["problems"][0]["line"] == 3
        and "negative price" in out["problems"][0]["reason"]
    )
    assert not (tmp_path / "st").exists()


def test_usage_errors_are_one_clear_line(tmp_path: Path) -> None:
    proc = run(
        "ingest",
        str(tmp_path / "missing.csv"),
        "--kind",
        "events",
        "--store",
        str(tmp_path / "s"),
        check=False,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("ingest", "--store", str(tmp_path / "s"), check=False)
    assert proc.returncode == 2 and "--dataset" in proc.stderr
    proc = run("stats", "--store", str(tmp_path / "nowhere"), check=False)
    assert proc.returncode == 2 and "shelfwise init" in proc.stderr


def test_demo_loads_the_bundled_sample(tmp_path: Path) -> None:
    out = json.loads(run("demo", "--store", str(tmp_path / "demo"), "--json").stdout)
    assert out["counts"]["items"] > 500 and out["counts"]["events"] > 1_000
    assert all(r["quarantined"] == 0 for r in out["ingestion"])
    again = json.loads(run("demo", "--store", str(tmp_path / "demo"), "--json").stdout)
    assert again["counts"] == out["counts"]


@pytest.mark.data
def test_ingest_beauty_dataset_matches_source_counts(tmp_path: Path) -> None:
    data = require_data("amazon-beauty").parent
    args = (
        "ingest",
        "--dataset",
        "amazon-beauty",
        "--data-dir",
        str(data),
        "--store",
        str(tmp_path / "b"),
        "--json",
    )
    out = json.loads(run(*args).stdout)
    assert (out["users"], out["items"], out["events"]) == (22_363, 12_101, 198_502)
    again = json.loads(run(*args).stdout)
    assert (again["users"], again["items"], again["events"], again["accepted"]) == (
        22_363,
        12_101,
        198_502,
        0,
    )


def test_profile_and_segments_on_the_demo_shop(tmp_path: Path) -> None:
    store = str(tmp_path / "demo")
    run("demo", "--store", store, "--json")
    seg = json.loads(run("segments", "--store", store, "--json").stdout)
    assert seg["k"] >= 2 and sum(s["size"] for s in seg["segments"]) == 802
    assert all(s["label"] for s in seg["segments"])
    prof = json.loads(run("profile", "u0294", "--store", store, "--json").stdout)
    assert prof["user_id"] == "u0294" and prof["summary"] and prof["funnel"]["purchases"] >= 1
    missing = run("profile", "nobody", "--store", store, check=False)
    assert missing.returncode == 2 and "no shopper 'nobody'" in missing.stderr


def test_build_makes_item_artifacts_and_rebuild_encodes_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "demo")
    run("demo", "--store", store, "--json")
    shipped = json.loads(run("build", "--store", store, "--json").stdout)
    assert shipped["texts_encoded"] == 0  # the demo store starts with the sample's shipped vectors
    cache = f"search.encoder.cache_dir={tmp_path / 'fresh-cache'}"
    args = (
        "build",
        "--store",
        store,
        "--json",
        "--set",
        "search.encoder.type=sentence-transformers",
        "--set",
        cache,
    )
    first = json.loads(run(*args).stdout)
    assert first["items"] == 1_200 and first["dim"] == 384
    assert set(first["artifacts"]) >= {"item-vectors", "vector-index", "lexical-index", "query-vocabulary"}
    second = json.loads(run(*args).stdout)
    assert first["texts_encoded"] > 1_000
    assert second["texts_encoded"] == 0  # every text came from the content-hash cache
