"""Throughput of two replicas against one, side by side in one run (issue 18's goal: ratio >= 1.6x).

    python benchmarks/bench_replicas.py --store /tmp/beauty-copy --rates 10,20,30,40,50,60 --step-seconds 15

"Replica" here is a ``shelfwise serve`` worker process: 1 replica = ``serve``, 2 replicas = ``serve --workers
2`` (two processes on one listening socket, the kernel spreading connections; each loads its own pipelines
and follows the store). Both run the ladder of ``bench_serving_load.py`` (same open-loop client, same request
sequence, same store, one after the other): the rate rises until a step has an error or misses a goal; the
figure is the highest zero-error rate with recommendations p99 <= 50 ms (and search p99 <= 80 ms).

What is not measured here: two ``serve`` processes on separate ports behind a client-side round robin (on one
2-core machine the kernel's balancing on one socket is the same thing without the extra hop) and Ray Serve
replicas (``serve --ray``; its proxy is one more process on the same two cores).

Writes ``benchmarks/results/replicas.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from bench_serving_load import GOALS_MS, ROOT, Workload, _row, run_variant

VARIANTS = [("1 replica", []), ("2 replicas (--workers 2)", ["--workers", "2"])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True, help="a built and trained store")
    ap.add_argument("--rates", default="10,15,20,25,30,35,40,50,60,70,80")
    ap.add_argument("--step-seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], help="settings override for the servers")
    ap.add_argument("--results", default="replicas")
    args = ap.parse_args()
    args.soak_seconds = 0.0  # run_variant's soak: not part of this comparison

    load_before = os.getloadavg()
    results = []
    for label, extra in VARIANTS:
        work = Workload(args.store, args.seed)  # the same request sequence for both
        results.append(run_variant(label, ROOT / "src", extra, args, work))
    one, two = (r["highest_passing_rate"] for r in results)
    ratio = round(two / one, 2) if one and two else None
    table = [_row(r["label"], "ladder", s) for r in results for s in r["ladder"]]
    notes = (
        f"Highest passing rate (zero errors, recommendations p99 <= {GOALS_MS['recommend']:.0f} ms, search p99 <= "
        f"{GOALS_MS['search']:.0f} ms): 1 replica {one} req/s, 2 replicas {two} req/s, ratio {ratio} (goal >= 1.6). "
        f"Client and servers share this 2-core machine with other engineers' work: load average "
        f"{[round(x, 2) for x in load_before]} before the run, per step in the load_avg column. Open-loop client, "
        "latency from each request's scheduled send time; half recommendations, half searches."
    )
    write_results(
        args.results,
        {"store": str(args.store), "variants": results, "ratio_two_to_one": ratio, "goals_ms": GOALS_MS,
         "load_avg_before": load_before},
        table,
        notes,
    )  # fmt: skip
    print(notes, flush=True)


if __name__ == "__main__":
    main()
