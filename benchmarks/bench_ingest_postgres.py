"""Benchmark: `shelfwise ingest` into a PostgreSQL store vs PostgreSQL's own COPY of the same file.

Three ways to load the same synthetic events CSV, each run in a fresh database / folder, alternating,
``--repeats`` times; the table reports medians and ratios of medians (goal: the PostgreSQL store within 3x
of PostgreSQL's COPY):

(a) ``psql -c "\\copy events_raw FROM file CSV HEADER"`` into a plain typed table (no keys, no indexes);
(b) ``shelfwise ingest FILE --kind events --store postgresql://...`` (validation, quarantine, dedupe against
    the stored events, users registered, seq assigned, keys and indexes maintained, one transaction);
(c) the same command into the embedded DuckDB store (a folder).

(b) and (c) run what the command runs (``Ingestor.ingest_path``) in a fresh subprocess, timed without the
interpreter's start-up, and also time the store's own ``write_batch`` (the part a backend owns; the rest is
the shared validation pipeline, identical for both stores). (a) is the wall-clock of the psql command.
Needs a PostgreSQL server:
``scripts/dev_services.sh start`` and ``SHELFWISE_TEST_POSTGRES`` (or ``--postgres URL``).

    python benchmarks/bench_ingest_postgres.py --events 1000000 --repeats 3

Writes ``benchmarks/results/ingest_postgres.json`` and ``benchmarks/results/ingest_postgres.md``.
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
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"

_RAW_TABLE = (
    "CREATE TABLE events_raw (event_id text, user_id text, item_id text, type text, value double precision, "
    'query text, "timestamp" timestamptz, session_id text, request_id text)'
)


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _admin(base: str, sql: str) -> None:
    subprocess.run(["psql", _db_url(base, "postgres"), "-qc", sql], check=True, capture_output=True)


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds, proc.stdout


def run_copy(base: str, csv: Path) -> dict[str, float]:
    """(a) PostgreSQL's own COPY (client-side \\copy through psql) into a plain table of a fresh database."""
    name = f"bench_copy_{uuid.uuid4().hex[:8]}"
    _admin(base, f"CREATE DATABASE {name}")
    try:
        url = _db_url(base, name)
        subprocess.run(["psql", url, "-qc", _RAW_TABLE], check=True, capture_output=True)
        seconds, _ = _timed(["psql", url, "-qc", f"\\copy events_raw FROM '{csv}' CSV HEADER"])
        out = subprocess.run(
            ["psql", url, "-tAc", "SELECT count(*) FROM events_raw"],
            check=True,
            capture_output=True,
            text=True,
        )
        return {"seconds": seconds, "rows": int(out.stdout.strip())}
    finally:
        _admin(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_RUN_SHELFWISE = """
import json, sys, time
from pathlib import Path
from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import open_store
started = time.perf_counter()
with open_store(sys.argv[2]) as st, Ingestor(st, load_settings(environ={})) as ingestor:
    write = st.write_batch
    spent = []
    def timed_write(batch):
        t = time.perf_counter()
        try:
            return write(batch)
        finally:
            spent.append(time.perf_counter() - t)
    st.write_batch = timed_write  # this process only: time the backend's share
    report = ingestor.ingest_path(Path(sys.argv[1]), "events")
    seconds = time.perf_counter() - started
    rows = st.counts()["events"]
print(json.dumps({"seconds": seconds, "rows": rows, "write_seconds": sum(spent)}))
"""


def run_shelfwise(store: str, csv: Path) -> dict[str, float]:
    """(b) / (c) what ``shelfwise ingest FILE --kind events --store STORE`` runs, in a fresh process."""
    _, out = _timed([sys.executable, "-c", _RUN_SHELFWISE, str(csv), store], env=dict(os.environ))
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("SHELFWISE_TEST_POSTGRES"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="ingest_postgres", help="Result file name (without extension).")
    args = parser.parse_args()
    if not args.postgres:
        parser.error(
            "no server: run scripts/dev_services.sh start and export SHELFWISE_TEST_POSTGRES, or --postgres URL"
        )

    import pyarrow.csv as pacsv

    from shelfwise.data.synthetic import make_event_table

    runs: dict[str, list[dict[str, float]]] = {"copy": [], "postgres_store": [], "duckdb_store": []}
    with tempfile.TemporaryDirectory(prefix="shelfwise-bench-pg-") as tmp:
        work = Path(tmp)
        csv = work / "events.csv"
        pacsv.write_csv(make_event_table(args.events, seed=0), csv)
        for rep in range(args.repeats):
            runs["copy"].append(run_copy(args.postgres, csv))
            name = f"bench_store_{uuid.uuid4().hex[:8]}"
            _admin(args.postgres, f"CREATE DATABASE {name}")  # as for (a): the empty database exists
            try:
                url = f"{_db_url(args.postgres, name)}?artifacts={work / 'artifacts'}"
                runs["postgres_store"].append(run_shelfwise(url, csv))
            finally:
                _admin(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            folder = work / f"duckdb-{rep}"
            runs["duckdb_store"].append(run_shelfwise(str(folder), csv))
            shutil.rmtree(folder, ignore_errors=True)
            print(
                f"run {rep + 1}: " + ", ".join(f"{k} {v[-1]['seconds']:.2f}s" for k, v in runs.items()),
                file=sys.stderr,
            )
    for name, results in runs.items():
        if any(r["rows"] != args.events for r in results):
            raise AssertionError(f"{name} lost rows: {[r['rows'] for r in results]}")
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    med_write = {k: statistics.median(r["write_seconds"] for r in v) for k, v in runs.items() if k != "copy"}
    summary = {
        "events": args.events,
        "copy_median_s": round(med["copy"], 3),
        "postgres_store_median_s": round(med["postgres_store"], 3),
        "duckdb_store_median_s": round(med["duckdb_store"], 3),
        "postgres_store_write_batch_median_s": round(med_write["postgres_store"], 3),
        "duckdb_store_write_batch_median_s": round(med_write["duckdb_store"], 3),
        "ratio_postgres_store_vs_copy": round(med["postgres_store"] / med["copy"], 2),
        "ratio_postgres_write_batch_vs_copy": round(med_write["postgres_store"] / med["copy"], 2),
        "ratio_duckdb_store_vs_copy": round(med["duckdb_store"] / med["copy"], 2),
    }
    meta = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "repeats": args.repeats,
        "command": " ".join(["python", *sys.argv]),
        "goal": "postgres store within 3x of PostgreSQL's COPY of the same file",
        "cpus": os.cpu_count(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=2)
    )
    s = summary
    lines = [
        "| load of the same CSV | median s | ratio to COPY | of which the store's write_batch (median s) |",
        "|---|---|---|---|",
        f"| (a) psql \\copy into a plain table | {s['copy_median_s']} | 1.0x | - |",
        f"| (b) shelfwise ingest, PostgreSQL store | {s['postgres_store_median_s']} | "
        f"{s['ratio_postgres_store_vs_copy']}x | {s['postgres_store_write_batch_median_s']} "
        f"({s['ratio_postgres_write_batch_vs_copy']}x COPY) |",
        f"| (c) shelfwise ingest, embedded DuckDB store | {s['duckdb_store_median_s']} | "
        f"{s['ratio_duckdb_store_vs_copy']}x | {s['duckdb_store_write_batch_median_s']} |",
    ]
    text = "\n".join(lines)
    (args.out / f"{args.name}.md").write_text(
        f"Command: `{meta['command']}` ({args.events:,} events, {args.repeats} runs each, medians; {meta['when']})\n\n"
        f"{text}\n"
    )
    print(text)


if __name__ == "__main__":
    main()
