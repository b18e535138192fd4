"""Crash sweep: ``kill -9`` the ``shelfwise ingest`` CLI at many points of a large ingest; every batch lands
whole or not at all, and re-running the same command lands every event exactly once.

Ingestion writes accepted rows in transactions of ``ingest.batch_rows`` rows in file order
(:meth:`shelfwise.data.ingest.Ingestor._write`), so after any kill the store must hold exactly the first
``m * batch_rows`` events of the file (or all of them) for some ``m``, the users of those events, and
nothing in quarantine. The sweep:

1. writes a synthetic event file (:func:`shelfwise.data.synthetic.make_event_table`: unique ids, all valid);
2. times one uninterrupted ingest into a fresh store (the baseline, same file, same run);
3. on a second store, starts the CLI ingest, kills it with SIGKILL at a planned moment (by elapsed time,
   spread over the baseline's duration; or right after the log says batch ``j`` was committed), checks
   the store through ``shelfwise stats --json``, and starts again: a chain of interrupted runs;
4. runs the ingest to completion and checks every event of the file is stored exactly once, and the store
   equals the baseline's.

    python benchmarks/bench_ingest_crash.py --events 1500000 --kills 10

Writes ``benchmarks/results/ingest_crash.json`` and ``benchmarks/results/ingest_crash.md``. The test
``tests/data/test_ingest_crash.py`` runs a small version of the same sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

RESULTS = Path(__file__).resolve().parent / "results"
_COMMITTED = re.compile(r"committed batch (\d+)/(\d+)")


@dataclass
class Kill:
    """One interrupted run of the chain."""

    index: int
    plan: str  # "t=12.3s" or "after batch 3"
    killed_at_s: float  # seconds after the process started
    batches_logged: int  # highest batch the killed process logged as committed
    events_before: int
    events_after: int
    users_after: int
    quarantined_after: int
    whole_batches: bool  # the state is a prefix of whole batches, users and quarantine agree
    detail: str


def write_events(path: Path, n_events: int, seed: int = 0) -> pa.Table:
    """A synthetic event file (CSV) of ``n_events`` valid events with unique ids; returns the table."""
    from shelfwise.data.synthetic import make_event_table

    table = make_event_table(n_events, seed=seed)
    pacsv.write_csv(table, path)
    return table


def users_at(table: pa.Table) -> np.ndarray:
    """``out[c]`` = distinct users among the first ``c`` events of the file (c = 0..n)."""
    users = np.asarray(table.column("user_id").to_numpy(zero_copy_only=False))
    _, first = np.unique(users, return_index=True)
    marks = np.zeros(len(users) + 1, dtype=np.int64)
    np.add.at(marks, first + 1, 1)
    return np.cumsum(marks)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["COLUMNS"] = "250"  # log lines on one line each
    return env


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``shelfwise ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def start_ingest(store: Path, events: Path, batch_rows: int, log: Path) -> subprocess.Popen[bytes]:
    """Start ``shelfwise ingest EVENTS --kind events`` in the background, stderr to ``log``."""
    with log.open("wb") as fh:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shelfwise",
                "ingest",
                str(events),
                "--kind",
                "events",
                "--store",
                str(store),
                "--set",
                f"ingest.batch_rows={batch_rows}",
                "--json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=fh,
            env=_env(),
        )


def batches_logged(log: Path) -> int:
    """The highest batch number a run logged as committed (0 when none)."""
    found = [int(m.group(1)) for m in _COMMITTED.finditer(log.read_text(errors="replace"))]
    return max(found, default=0)


def store_counts(store: Path) -> dict[str, Any]:
    """The store's counts through the public CLI."""
    done = cli("stats", "--store", str(store), "--json")
    if done.returncode != 0:
        raise RuntimeError(f"shelfwise stats failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def check_state(
    counts: dict[str, Any], before: int, logged: int, batch_rows: int, n_events: int, users: np.ndarray
) -> tuple[bool, str]:
    """Whether the store holds whole batches only: a prefix of ``m`` whole batches (or the whole file), the
    users of exactly that prefix, no quarantine, nothing lost of what was there or logged as committed."""
    events = int(counts["events"])
    problems = []
    if events % batch_rows and events != n_events:
        problems.append(f"{events} events is not a whole number of {batch_rows}-row batches")
    if events < before:
        problems.append(f"events went down from {before} to {events}")
    if events < min(logged * batch_rows, n_events):
        problems.append(f"batch {logged} was logged as committed but only {events} events are stored")
    if events > max(before, min((logged + 1) * batch_rows, n_events)):
        problems.append(f"{events} events is more than the logged batches {logged} (+1 in flight) allow")
    if int(counts["users"]) != int(users[min(events, n_events)]):
        problems.append(
            f"{counts['users']} users, expected {int(users[events])} for the first {events} events"
        )
    if int(counts["quarantined"]):
        problems.append(f"{counts['quarantined']} rows in quarantine, expected none")
    return not problems, "; ".join(problems) or "ok"


def run_chain(
    events: Path,
    table: pa.Table,
    store: Path,
    work: Path,
    *,
    batch_rows: int,
    delays: list[float] | None = None,
    after_batches: list[int] | None = None,
    timeout: float = 900,
) -> list[Kill]:
    """Interrupted runs on one store: kill at each delay (seconds after start) or right after each logged
    batch; check the store after each. Returns what each kill left behind."""
    plans: list[tuple[str, float | None, int | None]] = [(f"t={d:.1f}s", d, None) for d in (delays or [])] + [
        (f"after batch {b}", None, b) for b in (after_batches or [])
    ]
    users = users_at(table)
    kills: list[Kill] = []
    if not (store / "shop.duckdb").exists():
        done = cli("init", "--store", str(store))
        if done.returncode != 0:
            raise RuntimeError(f"shelfwise init failed: {done.stderr.strip()}")
    before = int(store_counts(store)["events"])
    for index, (plan, delay, after) in enumerate(plans):
        log = work / f"kill_{index}.log"
        started = time.perf_counter()
        proc = start_ingest(store, events, batch_rows, log)
        while proc.poll() is None and time.perf_counter() - started < timeout:
            if delay is not None and time.perf_counter() - started >= delay:
                break
            if after is not None and batches_logged(log) >= after:
                break
            time.sleep(0.02)
        killed_at = time.perf_counter() - started
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        logged = batches_logged(log)
        counts = store_counts(store)
        ok, detail = check_state(counts, before, logged, batch_rows, table.num_rows, users)
        if proc.returncode != -signal.SIGKILL:
            detail = f"the run ended before the kill (exit {proc.returncode}); {detail}"
        kills.append(
            Kill(
                index,
                plan,
                round(killed_at, 2),
                logged,
                before,
                int(counts["events"]),
                int(counts["users"]),
                int(counts["quarantined"]),
                ok,
                detail,
            )
        )
        before = int(counts["events"])
    return kills


def timed_ingest(
    store: Path, events: Path, batch_rows: int, log: Path
) -> tuple[float, list[float], dict[str, Any]]:
    """One uninterrupted CLI ingest: (seconds, seconds at which each batch commit was logged, store counts)."""
    started = time.perf_counter()
    proc = start_ingest(store, events, batch_rows, log)
    commits: list[float] = []
    while proc.poll() is None:
        seen = batches_logged(log)
        commits += [round(time.perf_counter() - started, 2)] * (seen - len(commits))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}): {log.read_text()[-2000:]}")
    commits += [round(seconds, 2)] * (batches_logged(log) - len(commits))
    return seconds, commits, store_counts(store)


def exactly_once(store: Path, table: pa.Table) -> tuple[bool, str]:
    """Every event id of the file is stored once, and nothing else is (read after all writers exited)."""
    from shelfwise.storage import open_store

    with open_store(store, create=False) as st:
        ids = st.read_events(["event_id"]).column(0).to_numpy(zero_copy_only=False)
    unique = np.unique(ids)
    expected = np.unique(table.column("event_id").to_numpy(zero_copy_only=False))
    if len(ids) != len(unique):
        return False, f"{len(ids) - len(unique)} duplicate event ids"
    if len(unique) != len(expected) or not np.array_equal(unique, expected):
        return False, f"{len(unique)} distinct ids stored, the file has {len(expected)}"
    return True, f"{len(ids)} events, each id once, exactly the file's"


def plan_kills(kills: int, first_commit_s: float, n_batches: int) -> tuple[list[float], list[int]]:
    """A third of the kills by time, spread before the baseline's first commit (reading, validating); the
    rest right after a logged commit, spread over the batches (inside the next batch's transaction)."""
    n_time = max(1, kills // 3)
    delays = [round(first_commit_s * (0.15 + 0.7 * k / max(n_time - 1, 1)), 2) for k in range(n_time)]
    n_prog = kills - n_time
    after = sorted({max(1, round(1 + (n_batches - 2) * k / max(n_prog - 1, 1))) for k in range(n_prog)})
    return delays, after


def sweep(n_events: int, kills: int, batch_rows: int, work: Path, seed: int = 0) -> dict[str, Any]:
    """The whole sweep (see module docstring); returns the result record."""
    events = work / "events.csv"
    table = write_events(events, n_events, seed)
    n_batches = -(-n_events // batch_rows)
    single_s, _, _ = timed_ingest(work / "single", events, n_events + 1, work / "single.log")
    base_s, commits, base_counts = timed_ingest(work / "baseline", events, batch_rows, work / "baseline.log")
    delays, after = plan_kills(kills, commits[0], n_batches)
    store = work / "swept"
    chain_started = time.perf_counter()
    record = run_chain(events, table, store, work, batch_rows=batch_rows, delays=delays, after_batches=after)
    chain_s = time.perf_counter() - chain_started
    final_s, _, final_counts = timed_ingest(store, events, batch_rows, work / "final.log")
    once, once_detail = exactly_once(store, table)
    keys = ("events", "users", "quarantined")
    return {
        "events": n_events,
        "batch_rows": batch_rows,
        "batches": n_batches,
        "single_transaction_seconds": round(single_s, 2),
        "baseline_seconds": round(base_s, 2),
        "batched_vs_single": round(base_s / single_s, 2),
        "baseline_commit_seconds": commits,
        "chain_seconds": round(chain_s, 2),
        "final_run_seconds": round(final_s, 2),
        "final_vs_baseline": round(final_s / base_s, 2),
        "kills": [asdict(k) for k in record],
        "all_whole_batches": all(k.whole_batches for k in record),
        "interrupted_mid_file": sum(0 < k.events_after < n_events for k in record),
        "exactly_once": once,
        "exactly_once_detail": once_detail,
        "final_equals_baseline": {k: final_counts[k] for k in keys} == {k: base_counts[k] for k in keys},
        "final_counts": {k: final_counts[k] for k in keys},
    }


def markdown(result: dict[str, Any], command: str) -> str:
    """The result as a table a person can read."""
    lines = [
        "# Ingest crash sweep",
        "",
        f"Command: `{command}`",
        "",
        f"{result['events']:,} events (CSV), batches of {result['batch_rows']:,} rows ({result['batches']} batches), "
        "each time the whole `shelfwise ingest` CLI process (start-up included), same machine, same run:",
        "",
        "| run | seconds | vs baseline |",
        "|---|---|---|",
        f"| one transaction for the whole file (`--set ingest.batch_rows={result['events'] + 1}`) | "
        f"{result['single_transaction_seconds']} | {round(1 / result['batched_vs_single'], 2)}x |",
        f"| batched, uninterrupted (baseline) | {result['baseline_seconds']} | 1.0x |",
        f"| re-run to completion after the kills | {result['final_run_seconds']} | {result['final_vs_baseline']}x |",
        "",
        f"The baseline logged its commits at {', '.join(str(c) for c in result['baseline_commit_seconds'])} s. "
        f"The chain of {len(result['kills'])} killed runs took {result['chain_seconds']} s; "
        f"{result['interrupted_mid_file']} kills left the store part-way through the file.",
        "",
        "| # | kill planned | killed at (s) | batches logged | events before | events after | users after | whole batches |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in result["kills"]:
        lines.append(
            f"| {k['index'] + 1} | {k['plan']} | {k['killed_at_s']} | {k['batches_logged']} | "
            f"{k['events_before']:,} | {k['events_after']:,} | {k['users_after']:,} | "
            f"{'yes' if k['whole_batches'] else 'NO: ' + k['detail']} |"
        )
    lines += [
        "",
        f"Every kill left whole batches only: **{'yes' if result['all_whole_batches'] else 'NO'}**. "
        f"After the re-run, exactly once: **{'yes' if result['exactly_once'] else 'NO'}** "
        f"({result['exactly_once_detail']}); store equals the uninterrupted baseline's: "
        f"**{'yes' if result['final_equals_baseline'] else 'NO'}**.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_500_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="ingest_crash")
    args = parser.parse_args()
    command = "python benchmarks/bench_ingest_crash.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="shelfwise-crash-") as tmp:
        result = sweep(args.events, args.kills, args.batch_rows, Path(tmp), args.seed)
    result["command"] = command
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(markdown(result, command))
    print(markdown(result, command))
    ok = result["all_whole_batches"] and result["exactly_once"] and result["final_equals_baseline"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
