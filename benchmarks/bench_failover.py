"""Failover: two replicas under a bounded mixed load, one killed with ``kill -9``; nothing acknowledged is lost.

    python benchmarks/bench_failover.py --store /tmp/beauty-copy --rate 10 --seconds 120 --kill-at 60

The two replicas are ``shelfwise serve --workers 2``: two worker processes on one listening socket under
uvicorn's supervisor, which restarts a worker that dies; a restarted worker loads its pipelines before it
accepts a connection (``api.server.loaded_app_from_environment``), so it takes traffic only once it can
serve. The load is open loop on loopback (the request mix of ``bench_serving_load.py``: recommendations and
searches, plus ``POST /v1/events`` with a unique ``event_id`` each). At ``--kill-at`` seconds one worker gets
SIGKILL. Afterwards the benchmark checks:

* every acknowledged event (2xx on ``POST /v1/events``) is in the store;
* every failed request was in flight at the kill (sent before it, failed after it);
* the supervisor started a new worker and it answered requests again (its ``X-Shelfwise-Worker`` id).

The store is copied first (the run writes events into the copy). Writes ``benchmarks/results/failover.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from bench_serving_load import ADMIN_KEY, Workload, start_server, stop_server, wait_ready


def worker_pids(supervisor: int) -> list[int]:
    """The uvicorn worker processes under the ``serve`` process (multiprocessing spawn children)."""
    import psutil

    out = []
    for child in psutil.Process(supervisor).children():
        try:
            if any("spawn_main" in part for part in child.cmdline()):
                out.append(child.pid)
        except psutil.Error:
            continue
    return sorted(out)


async def run_load(
    url: str, work: Workload, rate: float, seconds: float, kill: dict[str, Any], kill_at: float, seed: int
) -> list[dict[str, Any]]:
    """Open-loop requests at ``rate`` for ``seconds``; SIGKILL one worker at ``kill_at`` (recorded in
    ``kill``). Returns one record per request: kind, send / end times (s from start), status or error,
    the answering worker, the event id."""
    import httpx

    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10.0) as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05

        async def one(kind: str, path: str, body: dict[str, Any], event_id: str | None) -> None:
            rec: dict[str, Any] = {"kind": kind, "sent": loop.time() - start, "event_id": event_id}
            try:
                r = await client.post(path, json=body)
                rec["status"] = r.status_code
                rec["worker"] = r.headers.get("x-shelfwise-worker")
                if r.status_code >= 300:
                    rec["error"] = f"{r.status_code}"
            except httpx.HTTPError as exc:
                rec["error"] = type(exc).__name__
            rec["end"] = loop.time() - start
            records.append(rec)

        tasks = []
        for i in range(int(rate * seconds)):
            at = start + i / rate
            if not kill.get("done") and at - start >= kill_at:
                kill["pid"] = kill["pick"]()
                kill["at"] = loop.time() - start
                os.kill(kill["pid"], signal.SIGKILL)
                kill["done"] = True
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if rng.random() < 0.3:
                event_id = f"failover-{os.getpid()}-{i}"
                body = {
                    "events": [
                        {
                            "event_id": event_id,
                            "user_id": f"failover-shopper-{rng.randrange(500)}",
                            "item_id": rng.choice(work.items),
                            "type": "view",
                        }
                    ]
                }
                tasks.append(asyncio.create_task(one("event", "/v1/events", body, event_id)))
            else:
                kind, path, body = work.next()
                tasks.append(asyncio.create_task(one(kind, path, body, None)))
        await asyncio.gather(*tasks)
    return records


def comeback(url: str, seen: set[str], offset: float, seconds: float) -> list[dict[str, Any]]:
    """After the load: ``/health/ready`` until a worker id not in ``seen`` answers (a fresh connection each
    time, so the kernel spreads them); one record with its time on the load's clock (``offset``: that clock
    at the end of the load)."""
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            r = httpx.get(f"{url}/health/ready", timeout=10)
            worker = r.headers.get("x-shelfwise-worker")
            if r.status_code == 200 and worker and worker not in seen:
                return [{"worker": worker, "sent": offset + time.monotonic() - t0, "after_load": True}]
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--store",
        required=True,
        help="a built and trained store folder (copied first) or a PostgreSQL URL (used as is)",
    )
    ap.add_argument("--artifacts", help="the artifact location to serve (serve --artifacts)")
    ap.add_argument("--rate", type=float, default=10.0, help="requests per second (bounded, open loop)")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--kill-at", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--comeback-seconds",
        type=float,
        default=900.0,
        help="how long to wait after the load for the new worker",
    )
    ap.add_argument("--results", default="failover")
    args = ap.parse_args()

    from shelfwise.api.server import free_port
    from shelfwise.storage import open_store

    work_dir = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    store: Any = args.store
    if "://" not in args.store:  # a folder: the run writes events, so into a copy
        store = work_dir / "store"
        shutil.copytree(args.store, store)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work_dir / "serve.log"
    extra = ["--workers", "2", "--set", "api.rate_limit.events_per_second=0"]
    extra += ["--artifacts", args.artifacts] if args.artifacts else []
    proc = start_server(store, port, log, extra)
    try:
        ready_s = wait_ready(url, proc)
        before = worker_pids(proc.pid)
        print(f"ready in {ready_s:.0f}s, workers {before} (log {log})", flush=True)
        work = Workload(store, args.seed)
        kill: dict[str, Any] = {"pick": lambda: worker_pids(proc.pid)[0]}
        restarted: dict[str, Any] = {}

        def watch_restart() -> None:  # when the supervisor has two workers again
            while "at" not in kill:
                time.sleep(0.1)
            t_kill = time.monotonic()
            while time.monotonic() - t_kill < args.seconds:
                pids = worker_pids(proc.pid)
                if len(pids) == 2 and kill["pid"] not in pids:
                    restarted["pids"] = pids
                    restarted["after_s"] = round(time.monotonic() - t_kill, 2)
                    return
                time.sleep(0.2)

        watcher = threading.Thread(target=watch_restart, daemon=True)
        watcher.start()
        load_avg = [os.getloadavg()[0]]
        records = asyncio.run(run_load(url, work, args.rate, args.seconds, kill, args.kill_at, args.seed))
        load_avg.append(os.getloadavg()[0])
        watcher.join(timeout=5)
        seen = {r["worker"] for r in records if r.get("worker") and r["end"] < kill["at"]}
        back = [r for r in records if r.get("worker") and r["worker"] not in seen and r["sent"] > kill["at"]]
        if not back:  # the restarted worker is still loading: wait for it to answer (bounded)
            back = comeback(url, seen, max(r["end"] for r in records), args.comeback_seconds)
        after = worker_pids(proc.pid)
    finally:
        stop_server(proc)

    t_kill = kill["at"]
    acked = [
        r["event_id"]
        for r in records
        if r["kind"] == "event" and r.get("status", 0) < 300 and "error" not in r
    ]
    with open_store(store, read_only=True) as st:
        stored = set(st.read_events(["event_id"]).column("event_id").to_pylist())
    missing = [e for e in acked if e not in stored]
    errors = [r for r in records if "error" in r]
    in_flight = [r for r in errors if r["sent"] <= t_kill <= r["end"]]
    other = [r for r in errors if not (r["sent"] <= t_kill <= r["end"])]
    first_new = min((r["sent"] for r in back), default=None)
    payload = {
        "store": str(args.store),
        "rate": args.rate,
        "seconds": args.seconds,
        "kill_at_s": round(t_kill, 2),
        "killed_pid": kill["pid"],
        "workers_before": before,
        "workers_after": after,
        "supervisor_restarted_after_s": restarted.get("after_s"),
        "new_worker_first_answer_s_after_kill": None if first_new is None else round(first_new - t_kill, 2),
        "new_worker_answered_during_load": bool(back) and not back[0].get("after_load"),
        "requests": len(records),
        "events_acknowledged": len(acked),
        "events_acknowledged_missing_from_store": len(missing),
        "errors": len(errors),
        "errors_in_flight_at_kill": len(in_flight),
        "errors_not_in_flight": len(other),
        "error_kinds": sorted({r["error"] for r in errors}),
        "unexpected_errors": other[:20],
        "load_avg": [round(x, 2) for x in load_avg],
        "ready_seconds": round(ready_s, 1),
    }
    ok = not missing and not other and first_new is not None
    table = [
        {
            "requests": len(records),
            "events acked": len(acked),
            "acked missing": len(missing),
            "errors": len(errors),
            "in flight at kill": len(in_flight),
            "other errors": len(other),
            "worker back after s": restarted.get("after_s"),
            "new worker answers after s": payload["new_worker_first_answer_s_after_kill"],
            "passed": ok,
        }
    ]
    notes = (
        f"`serve --workers 2` on {args.store if '://' in args.store else 'a copy of ' + args.store}, {args.rate:g} req/s for {args.seconds:g} s (30% POST "
        f"/v1/events, the rest recommendations and searches), one worker SIGKILLed at {t_kill:.1f} s; load "
        f"average {payload['load_avg']} (the machine is shared with other work). Error kinds: "
        f"{payload['error_kinds']}."
    )
    write_results(args.results, payload, table, notes)
    print(payload, flush=True)
    shutil.copy(log, Path(tempfile.gettempdir()) / f"bench-failover-{port}.log")  # kept for a look afterwards
    shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
