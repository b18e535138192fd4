"""Recommendation throughput in threads: lock-free requests against the old one-lock-per-request baseline.

    python benchmarks/bench_recommend_threads.py                       # demo shop, trained here
    python benchmarks/bench_recommend_threads.py --store DIR --requests 400 --repeats 5

One loaded :class:`~shelfwise.recommend.Recommender`, a fixed list of mixed requests (home feeds of known
shoppers, cart, "similar items", unknown shoppers). Each configuration sends the whole list through a thread
pool; ``baseline`` wraps every request in one shared lock (what ``Recommender.recommend`` did before the live
state became copy-on-write), ``lock-free`` calls it directly. Same process, same requests, interleaved
repeats; medians of requests per second and the ratio to the baseline at the same thread count. The machine
is shared: the load average is recorded.

Writes ``benchmarks/results/recommend_threads.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from shelfwise.config import load_settings
from shelfwise.recommend import Recommender, RecommendRequest, train_recommender
from shelfwise.storage import open_store

OVERRIDES = ['recommend.sources=["als", "itemknn", "item2item", "popular"]', "recommend.ranker_max_users=400"]


def _requests(rec: Recommender, n: int) -> list[RecommendRequest]:
    users = [u for u, k in rec.users.items() if len(rec.histories[k]) >= 2]
    out: list[RecommendRequest] = []
    for j in range(n):
        u = users[j % len(users)]
        anchor = rec.catalog.ids[int(rec.histories[rec.users[u]][-1])]
        kind = j % 5
        if kind in (0, 1):
            out.append(RecommendRequest(user_id=u, k=10))
        elif kind == 2:
            out.append(RecommendRequest(user_id=u, slot="cart", cart=[anchor], k=10))
        elif kind == 3:
            out.append(RecommendRequest(slot="similar", item_id=anchor, k=10))
        else:
            out.append(RecommendRequest(user_id=f"unknown-{j}", k=10))
    return out


def _run(
    rec: Recommender, requests: list[RecommendRequest], threads: int, lock: threading.Lock | None
) -> float:
    def one(req: RecommendRequest) -> int:
        if lock is None:
            return len(rec.recommend(req).items)
        with lock:
            return len(rec.recommend(req).items)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        served = sum(pool.map(one, requests))
    seconds = time.perf_counter() - t0
    assert served > 0
    return len(requests) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=None, help="a trained store (default: train the demo shop)")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2,4")
    args = ap.parse_args()
    settings = load_settings(overrides=OVERRIDES, environ={})
    tmp = None
    store = args.store
    if store is None:
        from shelfwise.demo import run_demo

        tmp = Path(tempfile.mkdtemp(prefix="bench-threads-"))
        store = tmp / "demo"
        run_demo(store)
        with open_store(store) as st:
            train_recommender(st, settings, show_progress=False)
    try:
        with open_store(store) as st:
            rec = Recommender.load(st, settings)
        requests = _requests(rec, args.requests)
        for r in requests[:20]:  # warm caches, lazy parts
            rec.recommend(r)
        counts = [int(t) for t in args.threads.split(",")]
        runs: dict[tuple[str, int], list[float]] = {}
        for _ in range(args.repeats):  # interleaved: drift in the machine's load hits both alike
            for threads in counts:
                for mode in ("baseline", "lock-free"):
                    lock = threading.Lock() if mode == "baseline" else None
                    runs.setdefault((mode, threads), []).append(_run(rec, requests, threads, lock))
        table: list[dict[str, Any]] = []
        for threads in counts:
            base = statistics.median(runs[("baseline", threads)])
            for mode in ("baseline", "lock-free"):
                med = statistics.median(runs[(mode, threads)])
                table.append(
                    {
                        "threads": threads,
                        "mode": mode,
                        "req_per_s_median": round(med, 1),
                        "runs": [round(x, 1) for x in runs[(mode, threads)]],
                        "ratio_to_baseline": round(med / base, 3),
                    }
                )
        payload = {
            "store": str(args.store or "demo (trained in this run)"),
            "requests": len(requests),
            "repeats": args.repeats,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        }
        notes = (
            "baseline = one lock around every request (the old Recommender.recommend); lock-free = the "
            "copy-on-write live state. Same process, same request list, repeats interleaved; the machine is "
            f"shared (load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())})."
        )
        path = write_results("recommend_threads", payload, table, notes)
        print(path.read_text())
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
