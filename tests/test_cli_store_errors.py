"""Store errors as a user meets them on the command line: real processes, a real full disk, one line, exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import start_helper as start

# A second process that opens the store and holds it inside one long write transaction.
HOLD_WRITE = textwrap.dedent(
    """
    import sys, time
    from shelfwise.storage.duckdb_store import DuckDBStore
    st = DuckDBStore(sys.argv[1])
    with st._transaction() as con:
        con.execute("INSERT INTO meta VALUES ('holder', '1')")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    st.close()
    """
)

# A second process that behaves like a server: the store stays open and is used every few milliseconds.
KEEP_USING = textwrap.dedent(
    """
    import os, sys, time
    from shelfwise.storage import open_store
    st = open_store(sys.argv[1], create=False)
    print("ready", flush=True)
    n = 0
    end = time.monotonic() + 300
    while time.monotonic() < end and not os.path.exists(sys.argv[2]):
        assert st.counts()["events"] >= 3
        st.set_meta("heartbeat", n)
        n += 1
        time.sleep(0.005)
    st.close()
    print(n, flush=True)
    """
)


def shelfwise(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture()
def small_store(tmp_path: Path) -> Path:
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,user_id,item_id,type,timestamp\n"
        "e1,u1,i1,view,1704067200\ne2,u2,i1,purchase,1704067201\ne3,u2,i2,view,1704067202\n"
    )
    store = tmp_path / "st"
    proc = shelfwise("ingest", str(events), "--kind", "events", "--store", str(store), "--json")
    assert proc.returncode == 0, proc.stderr
    return store


def test_stats_while_another_process_holds_a_long_write_is_one_line_and_exit_2(small_store: Path) -> None:
    holder = start(HOLD_WRITE, str(small_store), "60", expect="holding")
    try:
        proc = shelfwise(
            "stats", "--store", str(small_store), "--json", env={"SHELFWISE_STORE_LOCK_TIMEOUT": "0.5"}
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2
    assert proc.stdout == ""
    line = one_line(proc.stderr)
    assert "busy" in line and f"process {holder.pid}" in line  # names the holder ...
    assert "SHELFWISE_STORE_LOCK_TIMEOUT" in line  # ... and the fix
    # the killed holder's write never committed, and the store is usable again at once
    after = shelfwise("stats", "--store", str(small_store), "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["events"] == 3


def test_cli_reads_and_writes_while_a_server_like_process_keeps_using_the_store(
    small_store: Path, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    server = start(KEEP_USING, str(small_store), str(stop), expect="ready")
    try:
        stats = shelfwise("stats", "--store", str(small_store), "--json")
        more = tmp_path / "more.csv"
        more.write_text("event_id,user_id,item_id,type,timestamp\ne4,u3,i3,view,1704067203\n")
        ingest = shelfwise("ingest", str(more), "--kind", "events", "--store", str(small_store), "--json")
        assert server.poll() is None, "the server-like process must still be running"
        stop.touch()
        out, err = server.communicate(timeout=60)
    finally:
        server.kill()
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["events"] == 3
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["events"] == 4
    assert server.returncode == 0, err
    assert int(out.strip()) > 50  # it kept working the whole time


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = Path("/tmp") / f"shelfwise-full-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a 3 MB tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def test_full_disk_is_one_line_naming_the_disk_and_the_store_keeps_its_contents(
    small_disk: Path, tmp_path: Path
) -> None:
    store = small_disk / "shop"
    first = tmp_path / "first.csv"
    first.write_text(
        "event_id,user_id,item_id,type,timestamp,query\n"
        + "".join(f"e{i},u{i % 7},i{i % 30},search,{1704067200 + i},first query {i}\n" for i in range(200))
    )
    ok = shelfwise("ingest", str(first), "--kind", "events", "--store", str(store), "--json")
    assert ok.returncode == 0, ok.stderr
    # ~9 MB of events with long queries cannot fit in what is left of 3 MB
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("event_id,user_id,item_id,type,timestamp,query\n")
        for i in range(60_000):
            fh.write(f"b{i},u{i % 500},i{i % 900},search,{1704070000 + i},{uuid.uuid4().hex * 4}\n")
    full = shelfwise("ingest", str(big), "--kind", "events", "--store", str(store), "--json")
    assert full.returncode == 2
    line = one_line(full.stderr.replace("\r", ""))
    assert "full" in line and str(store) in line and "No space left on device" in line
    stats = shelfwise("stats", "--store", str(store), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["events"] == 200


def test_stats_and_ingest_work_while_shelfwise_serve_runs(small_store: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "shelfwise", "serve", "--store", str(small_store), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SHELFWISE_ADMIN_KEY": "test-admin-key-123456"},
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("shelfwise serve did not come up")
        stats = shelfwise("stats", "--store", str(small_store), "--json")
        more = tmp_path / "more.csv"
        more.write_text("event_id,user_id,item_id,type,timestamp\ne9,u9,i9,view,1704067209\n")
        ingest = shelfwise("ingest", str(more), "--kind", "events", "--store", str(small_store), "--json")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=10) as resp:
            assert resp.status == 200  # the service is unharmed
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["events"] == 3
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["events"] == 4


def test_a_file_that_is_not_a_store_is_one_line_and_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "shop.duckdb").write_bytes(os.urandom(20_000))
    proc = shelfwise("stats", "--store", str(folder), "--json")
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "not a readable DuckDB database" in line and "backup" in line
    missing = shelfwise("stats", "--store", str(tmp_path / "nothing"), "--json")
    assert missing.returncode == 2 and "shelfwise init" in one_line(missing.stderr)
