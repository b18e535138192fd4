"""Benchmark: what the online state costs one request, in-process vs shared on Redis, side by side in one run.

A served recommendation touches the online state with: the failed-auth window check (``limits`` moving
window), one token-bucket step, a cache read, and on a miss the generation read and the cache write, then the
exposure counters (one ``incr_many`` of the list's 10 items + surface + arm). This times exactly those calls
per request, for a miss and for a hit, on :class:`MemoryOnlineState` and :class:`RedisOnlineState` (loopback),
in alternating rounds so both see the same machine load.

    python benchmarks/bench_online_state.py --redis redis://127.0.0.1:6380/0 [--requests 2000 --rounds 5]

Writes ``benchmarks/results/online_state.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from shelfwise.online import OnlineState, open_online_state

RESPONSE = {"items": [{"item_id": f"i{i}", "score": 1.0 / (i + 1), "reason": "Popular"} for i in range(10)]}


def one_request(online: OnlineState, window: Any, item: Any, n: int, hit: bool) -> None:
    """The online-state calls of one served recommendation (``hit``: answered from the cache)."""
    window.test(item, "failed-auth", "127.0.0.1")
    online.take_token("ratelimit:key1:read", 1e9, 2.0)
    key = "hot" if hit else f"u{n}|home|10"
    if online.cache_get("recommend", key) is None:
        gen = online.generation(f"u{n}")
        online.cache_put("recommend", key, RESPONSE, owner=None if hit else f"u{n}", generation=gen)
    counts = {"exposures:recommend": 1, "exposures:arm:exp:a": 1}
    counts.update({f"exposures:item:i{i}": 1 for i in range(10)})
    online.incr_many(counts)


def time_round(online: OnlineState, requests: int, hit: bool) -> list[float]:
    """Seconds per request over ``requests`` requests."""
    from limits import RateLimitItemPerMinute
    from limits.strategies import MovingWindowRateLimiter

    window, item = MovingWindowRateLimiter(online.window_storage()), RateLimitItemPerMinute(20)
    if hit:
        online.cache_put("recommend", "hot", RESPONSE, owner=None, generation=online.generation(None))
    out = []
    for n in range(requests):
        started = time.perf_counter()
        one_request(online, window, item, n, hit)
        out.append(time.perf_counter() - started)
    online.invalidate_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=os.environ.get("SHELFWISE_TEST_REDIS", "redis://127.0.0.1:6380/0"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    prefix = f"sw-bench-{uuid.uuid4().hex[:8]}"
    states = {
        "memory": open_online_state("memory://", cache_ttl=60, cache_max_entries=50_000),
        "redis": open_online_state(f"{args.redis}?prefix={prefix}", cache_ttl=60, cache_max_entries=50_000),
    }
    times: dict[tuple[str, str], list[float]] = {}
    load = [os.getloadavg()[0]]
    try:
        for _ in range(args.rounds):
            for path in ("miss", "hit"):
                for name, online in states.items():  # alternating: both see the same load
                    times.setdefault((name, path), []).extend(
                        time_round(online, args.requests, path == "hit")
                    )
            load.append(os.getloadavg()[0])
    finally:
        import redis

        for online in states.values():
            online.close()  # sends the counters still held, so close before deleting the keys
        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    table = []
    for path in ("miss", "hit"):
        base = statistics.median(times[("memory", path)])
        for name in states:
            values = sorted(times[(name, path)])
            median = statistics.median(values)
            table.append(
                {
                    "request": path,
                    "online state": name,
                    "median µs": round(median * 1e6, 1),
                    "p99 µs": round(values[int(0.99 * (len(values) - 1))] * 1e6, 1),
                    "x memory": round(median / base, 1),
                }
            )
    notes = (
        f"{args.rounds} alternating rounds x {args.requests} requests per row, one thread, Redis on loopback. "
        f"Machine shared with other work: 1-minute load {min(load):.1f}-{max(load):.1f} on 2 cores."
    )
    path = write_results(
        "online_state", {"rounds": args.rounds, "requests": args.requests, "load": load}, table, notes
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
