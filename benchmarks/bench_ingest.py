"""Benchmark: validated ingestion of synthetic events vs DuckDB's own bulk load of the same file.

Each measurement runs in a fresh subprocess (so peak memory is that run's own), alternating shelfwise and the
baseline, ``--repeats`` times; the table reports medians and the ratio of medians. Goal (issue #2):
validated ingestion within 3x of the raw bulk load, peak memory under 2 GB.

    python benchmarks/bench_ingest.py --events 1000000 --repeats 3

Writes ``benchmarks/results/ingest.json`` and ``benchmarks/results/ingest.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

_RUN_SHELFWISE = """
import sys, time, json, resource
from pathlib import Path
from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import open_store
t = time.perf_counter()
with open_store(sys.argv[2]) as st, Ingestor(st, load_settings(environ={})) as ing:
    r = ing.ingest_path(Path(sys.argv[1]), "events")
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "accepted": r.accepted, "quarantined": r.quarantined,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_RUN_DUCKDB = """
import sys, time, json, resource
import duckdb
t = time.perf_counter()
con = duckdb.connect(sys.argv[2] + ".duckdb")
reader = "read_parquet(?)" if sys.argv[1].endswith(".parquet") else "read_csv(?)"
n = con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}", [sys.argv[1]]).fetchall()[0][0]
con.close()
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "accepted": n, "quarantined": 0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, path: Path, store: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(store)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from shelfwise.data.synthetic import make_event_table

    rows = []
    with tempfile.TemporaryDirectory(prefix="shelfwise-bench-") as tmp:
        work = Path(tmp)
        table = make_event_table(args.events, seed=0)
        files = {"parquet": work / "events.parquet", "csv": work / "events.csv"}
        pq.write_table(table, files["parquet"])
        pacsv.write_csv(table, files["csv"])
        del table
        for fmt, path in files.items():
            runs: dict[str, list[dict[str, float]]] = {"shelfwise": [], "duckdb": []}
            for rep in range(args.repeats):
                for name, code in (("shelfwise", _RUN_SHELFWISE), ("duckdb", _RUN_DUCKDB)):
                    store = work / f"{name}-{fmt}-{rep}"
                    runs[name].append(_run(code, path, store))
                    print(f"{fmt} {name} run {rep + 1}: {runs[name][-1]['seconds']:.2f}s", file=sys.stderr)
            med = {n: statistics.median(r["seconds"] for r in v) for n, v in runs.items()}
            peak = {n: max(r["peak_mb"] for r in v) for n, v in runs.items()}
            assert all(r["accepted"] == args.events for r in runs["shelfwise"]), "rows were lost"
            rows.append(
                {
                    "format": fmt,
                    "events": args.events,
                    "shelfwise_median_s": round(med["shelfwise"], 3),
                    "duckdb_bulk_median_s": round(med["duckdb"], 3),
                    "ratio": round(med["shelfwise"] / med["duckdb"], 2),
                    "shelfwise_events_per_s": round(args.events / med["shelfwise"]),
                    "duckdb_events_per_s": round(args.events / med["duckdb"]),
                    "shelfwise_peak_mb": round(peak["shelfwise"]),
                    "duckdb_peak_mb": round(peak["duckdb"]),
                    "runs": runs,
                }
            )
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "repeats": args.repeats,
        "command": " ".join(["python", *sys.argv]),
        "goal": "ratio <= 3, peak < 2048 MB",
    }
    (args.out / "ingest.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    lines = [
        "| format | events | shelfwise (median s) | DuckDB bulk load (median s) | ratio | shelfwise events/s | peak MB shelfwise / DuckDB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['format']} | {r['events']:,} | {r['shelfwise_median_s']} | {r['duckdb_bulk_median_s']} | "
            f"{r['ratio']}x | {r['shelfwise_events_per_s']:,} | {r['shelfwise_peak_mb']} / {r['duckdb_peak_mb']} |"
        )
    text = "\n".join(lines)
    (args.out / "ingest.md").write_text(f"Command: `{meta['command']}`\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
