"""Several real processes (and threads) on one DuckDB store folder: they queue, nobody fails, nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import StoreBusyError, open_store
from shelfwise.storage.duckdb_store import DuckDBStore
from tests.processes import start_helper as _start

# Ingest `batches` batches of `size` events with ids unique to this writer, each batch its own transaction.
WRITER = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.storage import open_store
    folder, name, batches, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open_store(folder) as st:
        ing = Ingestor(st, load_settings(environ={}))
        for b in range(batches):
            ids = [f"{name}-{b}-{i}" for i in range(size)]
            ing.ingest_table(pa.table({
                "event_id": ids, "user_id": [f"{name}-u{i % 5}" for i in range(size)],
                "item_id": ["i"] * size, "type": ["view"] * size,
                "timestamp": [1_700_000_000 + b * size + i for i in range(size)],
            }), "events")
            st.read_events(["event_id"], user_ids=[f"{name}-u0"])
    print("done", flush=True)
    """
)

# Hold the store inside an open transaction (a write in progress) until killed.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from shelfwise.storage.duckdb_store import DuckDBStore
    st = DuckDBStore(sys.argv[1])
    with st._transaction() as con:
        con.execute("INSERT INTO meta VALUES ('uncommitted', '1')")
        print("holding", flush=True)
        time.sleep(120)
    """
)


def _events(ids: list[str], user: str = "u") -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "event_id": ids,
            "user_id": [user] * n,
            "item_id": ["i"] * n,
            "type": ["view"] * n,
            "timestamp": [1_700_000_000 + i for i in range(n)],
        }
    )


def test_three_writer_processes_and_this_one_queue_and_every_write_lands(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    open_store(folder).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), f"w{k}", "15", "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(3)
    ]
    with open_store(folder) as st:  # meanwhile this process reads and writes too
        ing = Ingestor(st, load_settings(environ={}))
        for b in range(10):
            ing.ingest_table(_events([f"main-{b}-{i}" for i in range(10)], user="main"), "events")
            assert st.counts()["events"] >= 10 * (b + 1)
    results = [w.communicate(timeout=300) for w in writers]
    for w, (out, err) in zip(writers, results, strict=True):
        assert w.returncode == 0 and out.strip() == "done", err
    with open_store(folder) as st:
        counts = st.counts()
        seqs = st.read_events(["seq"]).column(0).to_pylist()
    assert counts["events"] == 3 * 15 * 40 + 10 * 10
    assert len(set(seqs)) == len(seqs)  # no two batches got the same sequence numbers


def test_waiter_gives_up_with_an_error_naming_the_holder_and_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    open_store(folder).close()
    holder = _start(HOLDER, str(folder), expect="holding")
    try:
        start = time.monotonic()
        with pytest.raises(StoreBusyError) as caught:
            DuckDBStore(folder, lock_timeout=0.4)
        waited = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    message = str(caught.value)
    assert f"process {holder.pid}" in message and "since" in message
    assert "SHELFWISE_STORE_LOCK_TIMEOUT" in message
    assert 0.4 <= waited < 5
    # kill -9 released the lock; the holder's uncommitted write is gone
    with DuckDBStore(folder, lock_timeout=5) as st:
        assert st.get_meta("uncommitted") is None


def test_a_killed_holder_releases_the_store_to_a_waiting_process_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    open_store(folder).close()
    holder = _start(HOLDER, str(folder), expect="holding")
    got: list[float] = []

    def wait_for_store() -> None:
        with DuckDBStore(folder, lock_timeout=60) as st:
            got.append(time.monotonic())
            st.counts()

    waiter = threading.Thread(target=wait_for_store)
    waiter.start()
    time.sleep(0.5)
    assert not got  # still waiting while the holder lives
    killed = time.monotonic()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    waiter.join(timeout=30)
    assert got and got[0] - killed < 5


def test_read_only_store_opens_while_a_writer_process_keeps_using_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    with open_store(folder) as st:
        Ingestor(st, load_settings(environ={})).ingest_table(_events(["a", "b"]), "events")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), "w", "30", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        for _ in range(5):
            with open_store(folder, create=False, read_only=True) as ro:
                seen.append(ro.counts()["events"])
            time.sleep(0.05)
        _, err = writer.communicate(timeout=300)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    assert all(n >= 2 for n in seen) and seen == sorted(seen)
    with open_store(folder, create=False, read_only=True) as ro:
        assert ro.counts()["events"] == 2 + 30 * 20


def test_threads_share_one_store_and_release_it_when_idle(tmp_path: Path) -> None:
    st = DuckDBStore(tmp_path / "shop", idle_release=0.2)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for j in range(20):
                st.set_meta(f"t{k}", j)
                st.write_impressions(
                    pa.table(
                        {
                            "request_id": [f"r{k}-{j}"],
                            "user_id": [f"u{k}"],
                            "timestamp": pa.array([1_700_000_000_000_000], pa.timestamp("us", tz="UTC")),
                            "context": ["{}"],
                            "item_ids": [["i"]],
                            "scores": [[1.0]],
                            "arm": [None],
                        }
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert st.counts()["impressions"] == 80
    assert [st.get_meta(f"t{k}") for k in range(4)] == [19] * 4
    time.sleep(0.6)  # idle longer than idle_release: the file is closed, the lock note emptied
    assert not st._db.connected
    assert (tmp_path / "shop" / "shop.lock").read_text() == ""
    leases = st._db.leases
    assert st.counts()["impressions"] == 80  # the next call reopens
    assert st._db.leases == leases + 1
    st.close()


def test_lock_note_names_this_process_while_it_holds_the_store(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path / "shop", idle_release=30) as st:
        st.counts()
        note = json.loads((tmp_path / "shop" / "shop.lock").read_text())
    assert note["pid"] == os.getpid() and "pytest" in note["command"] and note["since"]
