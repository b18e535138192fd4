"""Benchmark: one DuckDB store shared by processes (lease + cross-process lock), and physical erasure.

Three measurements, each against a baseline in the same run:

1. ``op``: a small read on the leased connection vs opening the file for every operation (connect, query,
   close: what holding the store for one operation only would cost).
2. ``contention``: a "server" process doing small reads and writes back to back while this process opens
   the store as a CLI command does (open, counts, close) every 0.3 s; per lease quantum, the CLI's wait
   (median, max) and the server's throughput relative to running alone.
3. ``erasure``: on a copy of an ingested store (``--store``, e.g. amazon-beauty), rewriting the file after
   a deletion (``erase_deleted``) vs the ``CHECKPOINT`` a plain delete would end with; and whether the
   deleted shopper's search text is still in the store's files afterwards.

    shelfwise ingest --dataset amazon-beauty --store /tmp/h1beauty
    python benchmarks/bench_store_processes.py --store /tmp/h1beauty

Writes ``benchmarks/results/store_processes.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage.duckdb_store import DB_FILE, DuckDBStore

SERVER = textwrap.dedent(
    """
    import sys, time
    from shelfwise.storage.duckdb_store import DuckDBStore
    st = DuckDBStore(sys.argv[1], quantum=float(sys.argv[2]))
    print("ready", flush=True)
    n, end = 0, time.monotonic() + float(sys.argv[3])
    while time.monotonic() < end:
        st.counts()
        st.set_meta("n", n)
        n += 1
    st.close()
    print(n / float(sys.argv[3]), flush=True)
    """
)


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3)


def bench_op(folder: Path, n: int) -> list[dict[str, Any]]:
    st = DuckDBStore(folder)
    leased = []
    for _ in range(n):
        t = time.perf_counter()
        st.get_meta("schema_version")
        leased.append(time.perf_counter() - t)
    st.close()
    reopen = []
    for _ in range(max(10, n // 5)):
        t = time.perf_counter()
        con = duckdb.connect(str(folder / DB_FILE))
        con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        con.close()
        reopen.append(time.perf_counter() - t)
    return [
        {"measure": "op: get_meta on the leased connection", "median_ms": _ms(leased), "ratio": 1.0},
        {
            "measure": "op baseline: connect + query + close per operation",
            "median_ms": _ms(reopen),
            "ratio": round(statistics.median(reopen) / statistics.median(leased), 1),
        },
    ]


def _server(folder: Path, quantum: float, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(folder), str(quantum), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def bench_contention(folder: Path, quanta: list[float], seconds: float) -> list[dict[str, Any]]:
    rows = []
    for quantum in quanta:
        solo = _server(folder, quantum, seconds)
        solo_rate = float(solo.communicate()[0].strip())
        busy = _server(folder, quantum, seconds)
        waits = []
        end = time.monotonic() + seconds - 0.5
        while time.monotonic() < end:
            t = time.perf_counter()
            with DuckDBStore(folder, create=False) as st:
                st.counts()
            waits.append(time.perf_counter() - t)
            time.sleep(0.3)
        busy_rate = float(busy.communicate()[0].strip())
        rows.append(
            {
                "measure": f"contention, quantum {quantum * 1000:.0f} ms: CLI open+counts+close",
                "median_ms": _ms(waits),
                "max_ms": round(max(waits) * 1000, 1),
                "server_ops_per_s_alone": round(solo_rate, 1),
                "server_ops_per_s_with_cli": round(busy_rate, 1),
                "ratio": round(busy_rate / solo_rate, 3),
            }
        )
    return rows


def bench_erasure(source: Path, work: Path, repeats: int) -> list[dict[str, Any]]:
    shutil.copytree(source, work)
    rewrite, checkpoint, leftover = [], [], []
    with DuckDBStore(work, erase_delay=3600) as st:
        users = (
            st._fetch("SELECT user_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT ?", [2 * repeats])
            .column(0)
            .to_pylist()
        )
        events = st.counts()["events"]
        # a distinctive search per deleted shopper: amazon-beauty's numeric ids also occur as random bytes
        marks = [f"zq-erase-probe-{k}-{u}-qz" for k, u in enumerate(users)]
        Ingestor(st, load_settings(environ={})).ingest_table(
            pa.table(
                {
                    "event_id": [f"probe-{k}" for k in range(len(users))],
                    "user_id": users,
                    "item_id": [None] * len(users),
                    "type": ["search"] * len(users),
                    "query": marks,
                    "timestamp": [1_700_000_000] * len(users),
                }
            ),
            "events",
        )
        with st._session() as con:
            con.execute("CHECKPOINT")
        for k in range(repeats):
            st.delete_user(users[2 * k])
            with st._session() as con:
                t = time.perf_counter()
                con.execute("CHECKPOINT")
                checkpoint.append(time.perf_counter() - t)
            leftover.append((work / DB_FILE).read_bytes().count(marks[2 * k].encode()))
            st.delete_user(users[2 * k + 1])
            report = st.erase_deleted()
            rewrite.append(report.seconds)
        after = sum(_bytes_in_folder(work).count(m.encode()) for m in marks)
    return [
        {
            "measure": f"erasure: erase_deleted (rewrite, {events:,} events)",
            "median_ms": _ms(rewrite),
            "max_ms": round(max(rewrite) * 1000, 1),
            "ratio": round(statistics.median(rewrite) / statistics.median(checkpoint), 1),
            "deleted_query_copies_left": after,
        },
        {
            "measure": "erasure baseline: DELETE + CHECKPOINT only",
            "median_ms": _ms(checkpoint),
            "max_ms": round(max(checkpoint) * 1000, 1),
            "ratio": 1.0,
            "deleted_query_copies_left": min(leftover),
        },
    ]


def _bytes_in_folder(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an ingested store to measure erasure on (copied)")
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--quanta", default="0,0.05,0.2", help="lease quanta to compare, seconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="op,contention,erasure", help="which measurements to run")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shelfwise-bench-store-"))
    try:
        folder = tmp / "shop"
        DuckDBStore(folder).close()
        parts = set(args.parts.split(","))
        table = bench_op(folder, args.ops) if "op" in parts else []
        if "contention" in parts:
            table += bench_contention(folder, [float(q) for q in args.quanta.split(",")], args.seconds)
        if args.store is not None and "erasure" in parts:
            table += bench_erasure(args.store, tmp / "erase", args.repeats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    columns = list(dict.fromkeys(k for row in table for k in row))
    table = [{c: row.get(c) for c in columns} for row in table]
    path = write_results(
        "store_processes",
        {"ops": args.ops, "seconds": args.seconds, "store": str(args.store)},
        table,
        notes="Medians; ratio = this row's median over its baseline's (contention: server throughput with the "
        "CLI beside it over alone). Machine: 2 cores shared with other work.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
