"""Deleting a shopper reaches every table, and their bytes leave every file of the store folder.

The crash tests kill a real process with SIGKILL at a point they control (after the deletion commit; after
the rewrite copy, before the swap) and reopen the store as the next process would.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage.duckdb_store import DB_FILE, DuckDBStore
from shelfwise.storage.erasure import PENDING_KEY
from tests.processes import start_helper as _start

GONE = "shopper-zq81x"
QUERY = "ultramarine sea-kelp night serum"
KEPT = "shopper-kept7"

# Delete GONE with a long erase delay, say so, then wait to be killed (the rewrite has not run).
DELETE_THEN_WAIT = textwrap.dedent(
    """
    import sys, time
    from shelfwise.storage.duckdb_store import DuckDBStore
    st = DuckDBStore(sys.argv[1], erase_delay=3600)
    report = st.delete_user(sys.argv[2])
    print("deleted", flush=True)
    time.sleep(120)
    """
)

# Delete GONE, run the first half of the erasure (the fresh copy), say so, then wait to be killed.
DELETE_COPY_THEN_WAIT = textwrap.dedent(
    """
    import sys, time
    from shelfwise.storage.duckdb_store import DuckDBStore
    from shelfwise.storage.erasure import copy_live_rows
    st = DuckDBStore(sys.argv[1], erase_delay=3600)
    st.delete_user(sys.argv[2])
    with st._session() as con:
        copy_live_rows(con, st._db_path)
        print("copied", flush=True)
        time.sleep(120)
    """
)


def _shop(folder: Path, tmp_path: Path) -> None:
    """A small shop where GONE searched for QUERY, has a quarantined row, a split, an impression, a profile."""
    events = tmp_path / "events.csv"
    rows = ["event_id,user_id,item_id,type,timestamp,query"]
    for i in range(40):
        user = GONE if i % 4 == 0 else f"{KEPT}{i % 3}"
        query = QUERY if user == GONE and i % 8 == 0 else "plain soap"
        rows.append(f"e{i},{user},i{i % 9},search,{1_704_067_200 + i},{query}")
    rows.append(f"bad1,{GONE},i1,teleport,1704067300,{QUERY}")  # quarantined: unknown type
    rows.append(f"bad2,{GONE},{QUERY}")  # quarantined: unparseable line, kept as text
    rows.append(f"bad3,{KEPT}0,i1,teleport,1704067300,plain soap")
    events.write_text("\n".join(rows) + "\n")
    with DuckDBStore(folder) as st:
        Ingestor(st, load_settings(environ={})).ingest_path(events, "events")
        ids = st.read_events(["event_id"]).column(0).to_pylist()
        st.write_split("given", pa.table({"event_id": ids, "part": ["train"] * len(ids)}))
        when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        st.write_impressions(
            pa.table(
                {
                    "request_id": ["r1", "r2"],
                    "user_id": [GONE, f"{KEPT}0"],
                    "timestamp": [when, when],
                    "context": [json.dumps({"q": QUERY}), "{}"],
                    "item_ids": [["i1"], ["i2"]],
                    "scores": [[1.0], [1.0]],
                    "arm": [None, None],
                }
            )
        )
        st.upsert_profiles(
            pa.table(
                {
                    "user_id": [GONE],
                    "updated_at": [when],
                    "profile": [json.dumps({"last_query": QUERY})],
                    "vector": pa.array([[0.1, 0.2]], pa.list_(pa.float32())),
                }
            )
        )


def _files_holding(folder: Path, *needles: str) -> dict[str, list[str]]:
    """Every file under ``folder`` whose raw bytes contain a needle (UTF-8), by needle."""
    found: dict[str, list[str]] = {n: [] for n in needles}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if needle.encode() in data:
                    found[needle].append(path.name)
    return {n: files for n, files in found.items() if files}


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL
    proc.wait(timeout=30)


def _assert_only_gone_is_gone(folder: Path, kept_events: int) -> None:
    with DuckDBStore(folder, create=False) as st:
        assert st.get_meta(PENDING_KEY) is None
        assert st.read_events(["user_id"], user_ids=[GONE]).num_rows == 0
        assert st.counts()["events"] == kept_events
        assert st.read_quarantine()["raw"].to_pylist() and all(
            GONE not in raw for raw in st.read_quarantine()["raw"].to_pylist()
        )
        assert st.read_split("given").num_rows == kept_events
        assert st.read_impressions().column("user_id").to_pylist() == [f"{KEPT}0"]
        assert st.deletion_seq() == 1


def test_kill_after_the_deletion_commit_then_reopen_erases_every_byte(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    _shop(folder, tmp_path)
    with DuckDBStore(folder) as st:
        kept_events = st.counts()["events"] - st.read_events(user_ids=[GONE]).num_rows
    proc = _start(DELETE_THEN_WAIT, str(folder), GONE, expect="deleted")
    _kill(proc)
    # the crash left the deletion committed but its bytes on disk: what the reopen must finish
    assert _files_holding(folder, GONE, QUERY), "the test would prove nothing: no bytes were left"
    DuckDBStore(folder, create=False).close()  # the next open completes the pending erasure
    assert _files_holding(folder, GONE, QUERY) == {}
    _assert_only_gone_is_gone(folder, kept_events)
    assert _files_holding(folder, GONE, QUERY) == {}
    assert sorted(p.name for p in folder.iterdir()) == [DB_FILE, "shop.lock", "shop.lock.waiting"]


def test_kill_between_the_rewrite_copy_and_the_swap_then_reopen_completes(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    _shop(folder, tmp_path)
    with DuckDBStore(folder) as st:
        kept_events = st.counts()["events"] - st.read_events(user_ids=[GONE]).num_rows
    proc = _start(DELETE_COPY_THEN_WAIT, str(folder), GONE, expect="copied")
    _kill(proc)
    assert (folder / f"{DB_FILE}.rewrite").exists()  # the half-done erasure
    assert GONE in _files_holding(folder, GONE)
    DuckDBStore(folder, create=False).close()
    assert _files_holding(folder, GONE, QUERY) == {}
    _assert_only_gone_is_gone(folder, kept_events)


def test_delete_reaches_quarantine_splits_impressions_and_profiles(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    _shop(folder, tmp_path)
    with DuckDBStore(folder, erase_delay=3600) as st:
        gone_events = st.read_events(user_ids=[GONE]).num_rows
        report = st.delete_user(GONE)
        assert report.removed == {
            "events": gone_events,
            "users": 1,
            "profiles": 1,
            "impressions": 1,
            "splits": gone_events,
            "quarantine": 2,  # the rule-broken row and the unparseable line
        }
        assert [r for r in st.read_quarantine()["raw"].to_pylist() if GONE in r or QUERY in r] == []
        assert st.counts()["quarantined"] == 1  # the other shopper's bad row stays
        assert st.get_meta(PENDING_KEY)["deletions"] == 1
        assert st.delete_user("nobody").removed == {"events": 0, "users": 0, "profiles": 0, "impressions": 0}
        assert st.get_meta(PENDING_KEY)["deletions"] == 2


def test_pseudonymised_store_matches_quarantined_text_by_the_raw_id(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHELFWISE_PSEUDONYM_KEY", "ab" * 32)
    settings = load_settings(overrides=["privacy.pseudonymise=true"])
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,user_id,item_id,type,timestamp\n"
        f"e1,{GONE},i1,view,1704067200\ne2,{KEPT},i1,view,1704067201\n"
        f"bad,{GONE},i1,teleport,1704067202\nbroken,{GONE}\n"
    )
    folder = tmp_path / "shop"
    with DuckDBStore(folder, erase_delay=0) as st:
        ingestor = Ingestor(st, settings)
        ingestor.ingest_path(events, "events")
        key = ingestor.user_key(GONE)
        assert key != GONE and st.counts()["quarantined"] == 2
        report = st.delete_user(key, raw_ids=[GONE])
        assert report.removed["quarantine"] == 2 and report.removed["events"] == 1
        assert st.counts()["quarantined"] == 0 and st.counts()["events"] == 1
    assert _files_holding(folder, GONE, key) == {}


def test_zero_delay_erases_within_the_call_and_a_short_delay_while_the_store_stays_open(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shop"
    _shop(folder, tmp_path)
    with DuckDBStore(folder, erase_delay=0) as st:
        st.delete_user(GONE)
        assert _files_holding(folder, GONE, QUERY) == {}
        assert st.counts()["users"] == 3
    other = tmp_path / "other"
    _shop(other, tmp_path)
    with DuckDBStore(other, erase_delay=0.5) as st:
        st.delete_user(GONE)
        assert GONE in _files_holding(other, GONE)  # not yet
        deadline = time.monotonic() + 20
        while _files_holding(other, GONE, QUERY) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _files_holding(other, GONE, QUERY) == {}
        assert st.get_meta(PENDING_KEY) is None
        assert st.counts()["users"] == 3


def test_erase_without_a_pending_deletion_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    _shop(folder, tmp_path)
    with DuckDBStore(folder) as st:
        before = (folder / DB_FILE).stat().st_ino
        report = st.erase_deleted()
        assert (report.rewritten, report.deletions) == (False, 0)
        assert (folder / DB_FILE).stat().st_ino == before
        st.delete_user(GONE)
        done = st.erase_deleted()
        assert done.rewritten and done.deletions == 1 and done.seconds > 0
        assert (folder / DB_FILE).stat().st_ino != before


@pytest.mark.parametrize("read_only", [True])
def test_read_only_store_refuses_to_erase(tmp_path: Path, read_only: bool) -> None:
    folder = tmp_path / "shop"
    DuckDBStore(folder).close()
    with DuckDBStore(folder, read_only=read_only) as st, pytest.raises(Exception, match="read-only"):
        st.erase_deleted()
