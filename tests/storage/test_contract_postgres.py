"""The shared :class:`Store` contract against a real PostgreSQL server, plus what only PostgreSQL has.

Needs a server: ``scripts/dev_services.sh start`` and export the ``SHELFWISE_TEST_POSTGRES`` URL it prints
(CI does both). Each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from shelfwise.storage import Store, open_store
from tests.storage.contract import StoreContract

PG_URL = os.environ.get("SHELFWISE_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="PostgreSQL not available: run `scripts/dev_services.sh start` and export "
    "SHELFWISE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5433/shelfwise",
)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@pytest.fixture()
def pg_database() -> Iterator[str]:
    """The URL of a fresh, empty database (created by the store on first open), dropped afterwards."""
    import psycopg

    assert PG_URL
    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    yield _with_db(PG_URL, name)
    with psycopg.connect(_with_db(PG_URL, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TestPostgresContract(StoreContract):
    @pytest.fixture()
    def make_store(self, pg_database: str, tmp_path: Path) -> Callable[[], Store]:
        return lambda: open_store(f"{pg_database}?artifacts={tmp_path / 'artifacts'}")


def test_open_without_create_names_the_fix(pg_database: str) -> None:
    with pytest.raises(FileNotFoundError, match="shelfwise init --store"):
        open_store(pg_database, create=False)


def test_unreachable_server_says_how_to_start_one() -> None:
    with pytest.raises(ConnectionError, match=r"dev_services\.sh start"):
        open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_migrations_are_versioned_and_idempotent(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    from shelfwise.storage.postgres_schema import SCHEMA_VERSION

    url = f"{pg_database}?artifacts={tmp_path}"
    open_store(url).close()
    open_store(url).close()  # a second open applies nothing twice
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT version FROM shelfwise_schema ORDER BY version").fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        conn.execute("INSERT INTO shelfwise_schema VALUES (%s, now())", [SCHEMA_VERSION + 1])
    with pytest.raises(RuntimeError, match="newer than this code"):
        open_store(url)


def test_artifacts_folder_comes_from_the_url_or_the_environment(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(f"{pg_database}?artifacts={tmp_path / 'a'}") as st:
        assert st.artifacts.root == tmp_path / "a"
        assert "artifacts" not in st.url or "a" in st.url
    monkeypatch.setenv("SHELFWISE_ARTIFACTS", str(tmp_path / "env"))
    with open_store(pg_database) as st:
        assert st.artifacts.root == tmp_path / "env"
    monkeypatch.delenv("SHELFWISE_ARTIFACTS")
    monkeypatch.chdir(tmp_path)
    with open_store(pg_database.replace("postgresql://", "postgres://")) as st:
        assert st.artifacts.root == Path("shelfwise-artifacts") / urlsplit(pg_database).path.strip("/")


def test_read_only_store_refuses_writes(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    open_store(f"{pg_database}?artifacts={tmp_path}").close()
    with open_store(f"{pg_database}?artifacts={tmp_path}", read_only=True) as st:
        assert st.counts()["events"] == 0
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            st.set_meta("k", 1)


def test_vacuum_deleted_reclaims_the_deleted_rows(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor

    with open_store(f"{pg_database}?artifacts={tmp_path}") as st:
        events = [
            {
                "event_id": str(n),
                "user_id": f"u{n % 2}",
                "item_id": "i",
                "type": "view",
                "timestamp": 1_600_000_000 + n,
            }
            for n in range(2_000)
        ]
        Ingestor(st, load_settings(environ={})).ingest_table(events, "events")
        st.delete_user("u0")
        with psycopg.connect(pg_database) as conn:
            before = conn.execute("SELECT pg_relation_size('events')").fetchone()[0]  # type: ignore[index]
        st.vacuum_deleted()  # type: ignore[attr-defined]
        with psycopg.connect(pg_database) as conn:
            after = conn.execute("SELECT pg_relation_size('events')").fetchone()[0]  # type: ignore[index]
        assert after < before * 0.7
        assert st.counts()["events"] == 1_000


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_cli_ingest_and_stats_match_the_embedded_store(pg_database: str, tmp_path: Path) -> None:
    from shelfwise.data.sample import sample_paths

    paths = sample_paths()
    url = f"{pg_database}?artifacts={tmp_path / 'artifacts'}"
    folder = str(tmp_path / "embedded")
    for store in (url, folder):
        for kind in ("items", "events"):
            proc = _cli("ingest", str(paths[kind]), "--kind", kind, "--store", store, "--json", cwd=tmp_path)
            assert proc.returncode == 0, proc.stderr
            assert json.loads(proc.stdout)["accepted"] > 0
    pg, embedded = (
        json.loads(_cli("stats", "--store", s, "--json", cwd=tmp_path).stdout) for s in (url, folder)
    )
    assert pg["store"].startswith("postgresql://") and embedded["store"].startswith("duckdb://")
    counts = {k: v for k, v in embedded.items() if k != "store"}
    assert {k: v for k, v in pg.items() if k != "store"} == counts
    assert counts["items"] > 500 and counts["events"] > 1_000 and counts["users"] > 10
    # re-ingesting through the URL changes nothing
    again = _cli("ingest", str(paths["events"]), "--kind", "events", "--store", url, "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["accepted"] == 0
    assert not (tmp_path / "postgresql:").exists()  # the URL was not taken for a folder


def test_cli_store_url_errors_are_one_line(pg_database: str, tmp_path: Path) -> None:
    proc = _cli("stats", "--store", pg_database, "--json", cwd=tmp_path)  # no such database yet
    assert proc.returncode == 2 and "shelfwise init --store" in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("stats", "--store", "postgresql://postgres@127.0.0.1:1/x?connect_timeout=2", cwd=tmp_path)
    assert proc.returncode == 2 and "dev_services.sh start" in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("demo", "--store", pg_database, "--json", cwd=tmp_path)
    assert proc.returncode == 2 and "needs a store folder" in proc.stderr


def test_experiment_commands_take_a_store_url(pg_database: str, tmp_path: Path) -> None:
    url = f"{pg_database}?artifacts={tmp_path / 'artifacts'}"
    assert _cli("init", "--store", url, "--json", cwd=tmp_path).returncode == 0
    listed = _cli("experiment", "list", "--store", url, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"experiments": []}
    missing = _cli("experiment", "report", "nope", "--store", url, "--json", cwd=tmp_path)
    assert missing.returncode == 2 and "no experiment 'nope'" in missing.stderr
    assert not (tmp_path / "postgresql:").exists()  # the URL was not taken for a folder


def test_two_writers_never_collide(pg_database: str, tmp_path: Path) -> None:
    """Two processes' stores writing at once: the writer lock serialises them, seq stays a gapless 1..N."""
    import threading

    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor

    url = f"{pg_database}?artifacts={tmp_path}"
    open_store(url).close()
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            with open_store(url) as st:
                ingestor = Ingestor(st, load_settings(environ={}))
                for batch in range(5):
                    rows = [
                        {
                            "event_id": f"{prefix}-{batch}-{n}",
                            "user_id": f"{prefix}{n % 7}",
                            "item_id": "i",
                            "type": "view",
                            "timestamp": 1_600_000_000 + n,
                        }
                        for n in range(300)
                    ]
                    ingestor.ingest_table(rows, "events")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_store(url) as st:
        seqs = sorted(st.read_events(["seq"]).column(0).to_pylist())
        assert seqs == list(range(1, 3_001))
        assert st.counts()["users"] == 14 and st.read_runs().num_rows == 10


def test_kill_9_mid_write_leaves_nothing_behind(pg_database: str, tmp_path: Path) -> None:
    """A writer killed while its batch is being copied in or inserted: the server rolls it back whole."""
    import signal
    import time

    import psycopg
    import pyarrow.csv as pacsv

    from shelfwise.data.synthetic import make_event_table

    csv = tmp_path / "events.csv"
    pacsv.write_csv(make_event_table(150_000, seed=1), csv)
    url = f"{pg_database}?artifacts={tmp_path / 'a'}&application_name=sw_kill_test"
    open_store(url).close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shelfwise", "ingest", str(csv), "--kind", "events", "--store", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    caught = None
    with psycopg.connect(pg_database, autocommit=True) as watch:
        deadline = time.monotonic() + 300
        while caught is None and time.monotonic() < deadline and proc.poll() is None:
            row = watch.execute(
                "SELECT query FROM pg_stat_activity WHERE application_name = 'sw_kill_test' AND state = 'active' "
                "AND (query LIKE 'COPY %%' OR query LIKE 'INSERT INTO events%%')"
            ).fetchone()
            caught = row[0] if row else None
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert caught is not None, "the write was not caught in flight"
        while watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sw_kill_test'"
        ).fetchone()[0]:  # type: ignore[index]
            time.sleep(0.05)  # the server notices the dead client and rolls its transaction back
        # 150k rows into an empty store take the rebuild-the-key path: the rollback brings the key back
        key = watch.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'events_pkey'").fetchone()
        assert key is not None and key[0] == 1
    with open_store(url) as st:
        assert st.counts()["events"] == 0 and st.counts()["users"] == 0
        assert st.read_runs().num_rows == 0 and st.max_event_seq() == 0
    proc = subprocess.run(
        [sys.executable, "-m", "shelfwise", "ingest", str(csv), "--kind", "events", "--store", url, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["events"] == 150_000


def test_bulk_batches_rebuild_the_key_and_still_dedupe(pg_database: str, tmp_path: Path) -> None:
    """Batches larger than the stored events take the drop-and-rebuild-the-primary-key path."""
    import psycopg

    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.data.synthetic import make_event_table

    events = make_event_table(120_000, seed=3)
    with open_store(f"{pg_database}?artifacts={tmp_path}") as st:
        ingestor = Ingestor(st, load_settings(environ={}))
        first = ingestor.ingest_table(events.slice(0, 60_000), "events")
        assert first.inserted == 60_000
        # 70k rows, 10k of them stored already: larger than what is stored, so the key is rebuilt again
        second = ingestor.ingest_table(events.slice(50_000, 70_000), "events")
        assert (second.inserted, second.duplicates) == (60_000, 10_000)
        again = ingestor.ingest_table(events.slice(0, 1_000), "events")  # small: the key answers
        assert (again.inserted, again.duplicates) == (0, 1_000)
        seqs = st.read_events(["event_id", "seq"])
        assert seqs.num_rows == 120_000 == len(set(seqs.column("event_id").to_pylist()))
        assert st.max_event_seq() == 130_000  # 60k + 70k batch positions: duplicates leave gaps
    with psycopg.connect(pg_database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'events_pkey' AND contype = 'p'"
        ).fetchone()
        assert row is not None and row[0] == 1
