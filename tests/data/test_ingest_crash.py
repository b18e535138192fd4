"""A small crash sweep: ``kill -9`` the ingest CLI at a few points of a 100k-event file; after every kill the
store holds whole batches only, and re-running the ingest lands every event exactly once.

The sweep itself is ``benchmarks/bench_ingest_crash.py`` (the 1.5M-event version writes its results to
``benchmarks/results/ingest_crash.md``); this test drives the same code with fewer events and kill points.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ingest_crash.py"
EVENTS, BATCH = 100_000, 10_000


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ingest_crash", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_kill_9_leaves_whole_batches_and_a_rerun_lands_every_event_once(
    tmp_path: Path, bench: ModuleType
) -> None:
    events = tmp_path / "events.csv"
    table = bench.write_events(events, EVENTS, seed=3)
    store = tmp_path / "store"
    # one kill while the process starts / stages, then three right after a logged commit: in the next write
    kills = bench.run_chain(
        events, table, store, tmp_path, batch_rows=BATCH, delays=[1.0], after_batches=[3, 7]
    )
    for kill in kills:
        assert kill.whole_batches, f"kill {kill.plan}: {kill.detail}"
    interrupted = [k for k in kills if 0 < k.events_after < EVENTS]
    assert len(interrupted) >= 2, [(k.plan, k.events_after, k.detail) for k in kills]
    assert [k.events_after for k in kills] == sorted(k.events_after for k in kills)
    _, commits, counts = bench.timed_ingest(store, events, BATCH, tmp_path / "final.log")
    assert len(commits) == EVENTS // BATCH
    assert (counts["events"], counts["quarantined"]) == (EVENTS, 0)
    once, detail = bench.exactly_once(store, table)
    assert once, detail


def test_the_whole_batch_check_can_fail(bench: ModuleType) -> None:
    users = bench.users_at(pa.table({"user_id": ["a", "b", "a", "c"]}))
    assert users.tolist() == [0, 1, 2, 2, 3]
    good = {"events": 2, "users": 2, "quarantined": 0}
    assert bench.check_state(good, 0, 1, 2, 4, users)[0]
    partial = {"events": 3, "users": 2, "quarantined": 0}  # half a batch
    assert not bench.check_state(partial, 0, 1, 2, 4, users)[0]
    lost = {"events": 2, "users": 2, "quarantined": 0}  # batch 2 was logged as committed
    assert "logged as committed" in bench.check_state(lost, 0, 2, 2, 4, users)[1]
    wrong_users = {"events": 2, "users": 1, "quarantined": 0}
    assert not bench.check_state(wrong_users, 0, 1, 2, 4, users)[0]
