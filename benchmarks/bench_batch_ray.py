"""``build``, ``train`` and ``evaluate`` in process vs ``--ray ADDRESS``, side by side in one run.

    python benchmarks/bench_batch_ray.py --ray 127.0.0.1:6390                 # the sample shop
    python benchmarks/bench_batch_ray.py --ray 127.0.0.1:6390 --store /tmp/beauty-copy --repeats 1
    python benchmarks/bench_batch_ray.py --ray 127.0.0.1:6390 --commands evaluate

Each command runs as its own ``shelfwise`` process (so Ray's connection and worker start-up are counted), on a
copy of the store, in-process then on Ray, ``--repeats`` times; ``build`` gets an empty embedding cache each time
(else an unchanged catalogue encodes nothing), sharing the ONNX export of ``~/.cache/shelfwise/onnx``. The wall-clock median is reported. The Ray cluster and this
process share one 2-core machine with other work, so the cluster has no more cores than the in-process run:
what this shows is the overhead and that the results match, not a speed-up.

Writes ``benchmarks/results/batch_ray.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results

ROOT = Path(__file__).resolve().parents[1]
#: Exported and quantised encoders (exporting again takes minutes and is not what is compared here).
ONNX_EXPORTS = Path.home() / ".cache" / "shelfwise" / "onnx"
COMMANDS = {
    "build": ["build"],
    "train": ["train"],
    "evaluate": ["evaluate", "--models", "popularity,itemknn,als"],
}


def sample_store(folder: Path) -> Path:
    """The sample shop, ingested (``shelfwise demo --json`` without serving)."""
    run([sys.executable, "-m", "shelfwise", "demo", "--store", str(folder), "--json", "--no-serve"])
    return folder


def run(cmd: list[str]) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return seconds, json.loads(lines[-1]) if lines else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ray", required=True, help="Ray cluster address")
    ap.add_argument("--store", type=Path, help="a store with items and events (default: the sample shop)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--commands", default=",".join(COMMANDS), help="which of build,train,evaluate to time")
    ap.add_argument("--results", default="batch_ray")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-batch-ray-"))
    store = work / "store"
    if args.store:
        shutil.copytree(args.store, store)
    else:
        sample_store(store)
    load_before = os.getloadavg()
    table, outputs = [], {}
    for name in args.commands.split(","):
        command = COMMANDS[name]
        times: dict[str, list[float]] = {"in-process": [], "ray": []}
        for n in range(args.repeats):
            for mode in ("in-process", "ray"):
                cache = work / f"cache-{name}-{mode}-{n}"  # an empty embedding cache, the shared ONNX export
                cache.mkdir()
                if ONNX_EXPORTS.is_dir():
                    (cache / "onnx").symlink_to(ONNX_EXPORTS, target_is_directory=True)
                cmd = [sys.executable, "-m", "shelfwise", *command, "--store", str(store), "--json"]
                cmd += ["--set", f'search.encoder.cache_dir="{cache}"']
                if mode == "ray":
                    cmd += ["--ray", args.ray]
                seconds, out = run(cmd)
                times[mode].append(seconds)
                outputs[f"{name}/{mode}/{n}"] = {
                    k: out.get(k)
                    for k in ("texts_encoded", "encode_seconds", "version", "total_seconds", "runner", "seconds")
                }
                print(name, mode, round(seconds, 1), flush=True)
        local, ray = statistics.median(times["in-process"]), statistics.median(times["ray"])
        table.append(
            {
                "command": name,
                "in-process s": round(local, 1),
                "ray s": round(ray, 1),
                "ray / in-process": round(ray / local, 2),
                "runs": args.repeats,
                "load_avg": round(os.getloadavg()[0], 2),
            }
        )
    notes = (
        f"Store: {args.store or 'the sample shop (1,200 items, 4,463 events)'}; Ray cluster at {args.ray} "
        "(a head and one worker node on this same 2-core machine). Wall clock of each `shelfwise` process, median "
        f"of {args.repeats}; load average {[round(x, 2) for x in load_before]} before the run (shared machine)."
    )
    write_results(args.results, {"store": str(args.store), "ray": args.ray, "outputs": outputs}, table, notes)
    print(notes, flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
