"""Training the full recommendation pipeline on Amazon Beauty: wall time, CPU time, peak memory; then
serving latency of the trained artifact (one request at a time, in process).

    python benchmarks/bench_train_pipeline.py                                   # default sources
    python benchmarks/bench_train_pipeline.py --sources als,itemknn,item2item,sequential,popular --update

``shelfwise train`` on a copy of the store (the artifact is written there): each run appends a row
(``--update``) to ``benchmarks/results/train_pipeline.{json,md}``. Goal (issue #5): under 20 minutes on
this 2-core machine. The machine is shared: the load average at start and end is recorded beside each row.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, write_results
from shelfwise.config import load_settings
from shelfwise.evaluation.runner import peak_memory
from shelfwise.recommend import Recommender, RecommendRequest, train_recommender
from shelfwise.storage import open_store

NAME = "train_pipeline"
GOAL_SECONDS = 20 * 60


def serving_latency(store: Path, settings: Any, n: int, seed: int = 0) -> dict[str, float]:
    """Load time and per-request latency (ms) of ``n`` home-slot requests for random known users."""
    t0 = time.perf_counter()
    with open_store(store) as st:
        rec = Recommender.load(st, settings)
    load_s = time.perf_counter() - t0
    users = list(rec.users)
    pick = np.random.default_rng(seed).choice(len(users), size=min(n, len(users)), replace=False)
    for u in pick[:20]:  # warm-up
        rec.recommend(RecommendRequest(user_id=users[u], k=10))
    wall, cpu = [], []
    for u in pick:
        t, c = time.perf_counter(), time.thread_time()
        rec.recommend(RecommendRequest(user_id=users[u], k=10))
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    out: dict[str, float] = {"load_s": round(load_s, 2), "requests": len(wall)}
    for name, values in (("", wall), ("cpu_", cpu)):
        for q in (50, 95, 99):
            out[f"{name}p{q}_ms"] = round(float(np.percentile(values, q)), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", type=Path, default=Path("/tmp/stores/amazon-beauty"))
    parser.add_argument(
        "--sources", default=None, help="comma-separated recommend.sources (default: settings)"
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="settings override")
    parser.add_argument("--requests", type=int, default=500, help="serving requests timed after training")
    parser.add_argument("--update", action="store_true", help="append to the existing results")
    parser.add_argument("--keep", type=Path, default=None, help="keep the trained store here")
    parser.add_argument(
        "--latency-only", type=Path, default=None, help="only time serving on this already trained store"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not (args.store / "shop.duckdb").exists():
        sys.exit(f"no store at {args.store}: `shelfwise ingest --dataset amazon-beauty --store {args.store}`")
    overrides = list(args.overrides)
    if args.sources:
        overrides.append("recommend.sources=" + json.dumps(args.sources.split(",")))
    settings = load_settings(overrides=overrides, environ={})
    if args.latency_only is not None:
        load = os.getloadavg()[0]
        latency = serving_latency(args.latency_only, settings, args.requests)
        path = RESULTS / f"{NAME}_latency.json"
        runs = json.loads(path.read_text()) if args.update and path.exists() else []
        runs.append({"command": " ".join(sys.argv), "load_start_end": [load, os.getloadavg()[0]], **latency})
        path.write_text(json.dumps(runs, indent=2))
        print(json.dumps(runs[-1]))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-train-")) / "store"
    shutil.copytree(args.store, work, ignore=shutil.ignore_patterns("artifacts", "reports"))
    load_start = os.getloadavg()[0]
    cpu0 = time.process_time()
    with open_store(work) as st, peak_memory() as peak:
        t0 = time.perf_counter()
        report = train_recommender(st, settings, show_progress=False)
        wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    load_end = os.getloadavg()[0]
    latency = serving_latency(work, settings, args.requests)
    row = {
        "sources": "+".join(report["sources"]),
        "wall_s": round(wall, 1),
        "wall_min": round(wall / 60, 2),
        "cpu_s": round(cpu, 1),
        "under_20_min": wall < GOAL_SECONDS,
        "peak_rss_growth_mb": peak[0],
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_start_end": f"{load_start:.1f}, {load_end:.1f}",
        "serve_p50_ms": latency["p50_ms"],
        "serve_p99_ms": latency["p99_ms"],
        "serve_cpu_p50_ms": latency["cpu_p50_ms"],
        "serve_cpu_p99_ms": latency["cpu_p99_ms"],
    }
    runs: list[dict[str, Any]] = []
    previous = RESULTS / f"{NAME}.json"
    if args.update and previous.exists():
        runs = json.loads(previous.read_text()).get("runs", [])
    runs.append({"row": row, "report": report, "latency": latency, "overrides": overrides})
    notes = (
        "Training = `train_recommender` (what `shelfwise train` runs) on every event of the Beauty store "
        "(198,502 events, 22,363 users, 12,101 items): sources fitted twice (validation view, then all "
        "events), the sequential model once, ranker requests for every user, LightGBM lambdarank. "
        "Item texts are encoded through the on-disk embedding cache (a first run on a new catalogue also "
        "pays the encoding). `peak_rss_growth_mb` = RSS growth during training, `max_rss_mb` = the "
        "process's peak RSS (training + serving check). Serving latency: in-process `Recommender.recommend` "
        "(home slot, k=10, reasons built), one request at a time on the same loaded machine (wall time, and "
        "the request thread's CPU time, which the load inflates less), "
        f"{args.requests} random known users. Timings are from a shared 2-core machine (load averages beside "
        "each row); each row's command is in the JSON (`runs[].overrides`)."
    )
    rows = [r["row"] for r in runs]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = [{c: r.get(c) for c in columns} for r in rows]
    write_results(NAME, {"goal_seconds": GOAL_SECONDS, "runs": runs}, table, notes)
    if args.keep is not None:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work.parent, ignore_errors=True)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
