"""Benchmark: reading every event of a PostgreSQL store into Arrow, two ways, and the embedded store.

(a) what ``PostgresStore.read_events()`` does: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` parsed by
    ``pyarrow.csv`` (no Python object per row);
(b) the obvious alternative: psycopg binary rows (``fetchall``) turned into Arrow columns;
(c) ``DuckDBStore.read_events()`` on the same events (the embedded default, for scale).

Both stores are filled once from the same synthetic events; each read runs ``--repeats`` times, alternating;
the table reports medians and the ratio to (a).

    python benchmarks/bench_read_postgres.py --events 300000 --repeats 3

Writes ``benchmarks/results/read_postgres.json`` and ``benchmarks/results/read_postgres.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

RESULTS = Path(__file__).resolve().parent / "results"


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _binary_rows(conninfo: str) -> pa.Table:
    """(b): psycopg binary rows into Arrow columns (the per-row path the store avoids)."""
    import psycopg

    from shelfwise.data.schema import EVENT_SCHEMA

    with psycopg.connect(conninfo) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        cols = ", ".join(f'"{f.name}"' for f in EVENT_SCHEMA)
        with conn.cursor(binary=True) as cur:
            rows = cur.execute(f'SELECT {cols} FROM events ORDER BY "timestamp", seq').fetchall()
    columns = list(zip(*rows, strict=True))
    return pa.table(
        [pa.array(list(c), f.type) for c, f in zip(columns, EVENT_SCHEMA, strict=True)],
        names=EVENT_SCHEMA.names,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("SHELFWISE_TEST_POSTGRES"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not args.postgres:
        parser.error("no server: run scripts/dev_services.sh start and export SHELFWISE_TEST_POSTGRES")

    import psycopg
    import pyarrow.csv as pacsv

    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.data.synthetic import make_event_table
    from shelfwise.storage import open_store

    name = f"bench_read_{uuid.uuid4().hex[:8]}"
    conninfo = _db_url(args.postgres, name)
    times: dict[str, list[float]] = {"copy_csv_arrow": [], "binary_rows": [], "duckdb_store": []}
    try:
        with tempfile.TemporaryDirectory(prefix="shelfwise-bench-read-") as tmp:
            csv = Path(tmp) / "events.csv"
            pacsv.write_csv(make_event_table(args.events, seed=0), csv)
            with (
                open_store(f"{conninfo}?artifacts={tmp}/a") as pg,
                open_store(Path(tmp) / "duck") as duck,
            ):
                for st in (pg, duck):
                    with Ingestor(st, load_settings(environ={})) as ingestor:
                        ingestor.ingest_path(csv, "events")
                reads: dict[str, Callable[[], pa.Table]] = {
                    "copy_csv_arrow": pg.read_events,
                    "binary_rows": lambda: _binary_rows(conninfo),
                    "duckdb_store": duck.read_events,
                }
                reference = pg.read_events()
                assert _binary_rows(conninfo).equals(reference.cast(reference.schema)), "(a) != (b)"
                assert duck.read_events().num_rows == reference.num_rows == args.events
                for rep in range(args.repeats):
                    for key, read in reads.items():
                        started = time.perf_counter()
                        got = read()
                        times[key].append(time.perf_counter() - started)
                        assert got.num_rows == args.events
                    print(
                        f"run {rep + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
                        file=sys.stderr,
                    )
    finally:
        with psycopg.connect(_db_url(args.postgres, "postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    med = {k: statistics.median(v) for k, v in times.items()}
    summary = {k: round(v, 3) for k, v in med.items()} | {
        f"ratio_{k}": round(v / med["copy_csv_arrow"], 2) for k, v in med.items()
    }
    meta = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "events": args.events,
        "repeats": args.repeats,
        "command": " ".join(["python", *sys.argv]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "read_postgres.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "runs": times}, indent=2)
    )
    labels = {
        "copy_csv_arrow": "(a) PostgresStore.read_events: COPY CSV -> pyarrow.csv",
        "binary_rows": "(b) psycopg binary rows -> Arrow columns",
        "duckdb_store": "(c) DuckDBStore.read_events",
    }
    lines = ["| read of every event (all columns) | median s | ratio to (a) |", "|---|---|---|"]
    lines += [f"| {labels[k]} | {summary[k]} | {summary['ratio_' + k]}x |" for k in times]
    text = "\n".join(lines)
    (args.out / "read_postgres.md").write_text(
        f"Command: `{meta['command']}` ({args.events:,} events, {args.repeats} runs each, medians; "
        f"{meta['when']})\n\n{text}\n"
    )
    print(text)


if __name__ == "__main__":
    main()
