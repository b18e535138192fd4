"""Retention: ``shelfwise purge`` removes rows older than ``privacy.retention_days`` per kind, and their bytes from
every file under the store; newer rows stay; ``--dry-run`` changes nothing; the schedule runs by itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.privacy.retention import PurgeSchedule, RetentionDays, purge
from shelfwise.storage import open_store

OLD_QUERY = "obsolete-pangolin-7413 query"
NEW_QUERY = "fresh-narwhal-2290 query"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args], capture_output=True, text=True, timeout=300
    )


def _holding(folder: Path, needle: str) -> list[str]:
    data = [needle.encode(e) for e in ("utf-8", "utf-16-le", "utf-32-le")]
    return [str(p) for p in folder.rglob("*") if p.is_file() and any(d in p.read_bytes() for d in data)]


def _shop(path: Path, now: datetime) -> None:
    old, new = int((now - timedelta(days=400)).timestamp()), int((now - timedelta(days=2)).timestamp())
    with open_store(path) as st, Ingestor(st, load_settings(environ={})) as ing:
        ing.ingest_table(
            [
                {"user_id": "u1", "item_id": i, "type": t, "query": q, "timestamp": ts}
                for i, t, q, ts in (
                    ("a", "view", None, old),
                    (None, "search", OLD_QUERY, old + 5),
                    ("b", "purchase", None, new),
                    (None, "search", NEW_QUERY, new + 5),
                )
            ],
            "events",
        )
        st.write_impressions(
            pa.table(
                {
                    "request_id": ["r-old", "r-new"],
                    "user_id": ["u1", "u1"],
                    "timestamp": [now - timedelta(days=100), now - timedelta(days=1)],
                    "context": ["{}", "{}"],
                    "item_ids": [["a"], ["b"]],
                    "scores": [[1.0], [1.0]],
                    "arm": [None, None],
                }
            )
        )


def test_purge_removes_old_rows_and_their_bytes_and_keeps_new_ones(tmp_path: Path) -> None:
    store = tmp_path / "shop"
    _shop(store, datetime.now(UTC))
    assert _holding(store, OLD_QUERY), "the test needs the old query on disk"
    sets = ["--set", "privacy.retention_days.events=365", "--set", "privacy.retention_days.search_logs=30"]

    dry = _run("purge", "--store", str(store), "--dry-run", "--json", *sets)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    # events: the old view and the old search (400 days); search logs (30 days): both old searches would go
    # first (kinds run in order: events, impressions, quarantine, search_logs); impressions: 90 days default
    assert report["dry_run"] and report["removed"]["events"] == 2 and report["removed"]["impressions"] == 1
    with open_store(store, create=False) as st:
        assert st.counts()["events"] == 4 and st.counts()["impressions"] == 2  # nothing changed

    done = _run("purge", "--store", str(store), "--json", *sets)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["removed"] == {"events": 2, "impressions": 1, "quarantine": 0, "search_logs": 0}
    assert report["erased"] is True
    with open_store(store, create=False) as st:
        rows = st.read_events(["type", "query"]).to_pylist()
        assert [r["type"] for r in rows] == ["purchase", "search"] and rows[1]["query"] == NEW_QUERY
        assert st.read_impressions().column("request_id").to_pylist() == ["r-new"]
    assert not _holding(store, OLD_QUERY), "the purged query's bytes are still on disk"
    assert _holding(store, NEW_QUERY)

    human = _run("purge", "--store", str(store), "--set", "privacy.retention_days.quarantine=1")
    assert human.returncode == 0 and "events kept (no retention set)" in human.stdout


def test_search_logs_go_sooner_than_the_other_events(tmp_path: Path) -> None:
    store = tmp_path / "shop"
    now = datetime.now(UTC)
    _shop(store, now)
    with open_store(store, create=False) as st:
        report = purge(st, RetentionDays(search_logs=1, impressions=None), now=now)
        assert report["removed"]["search_logs"] == 2 and report["removed"]["events"] == 0
        assert st.read_events(["type"]).column("type").to_pylist() == ["view", "purchase"]
        assert report["stale_artifacts"] == []  # nothing trained here


def test_a_wrong_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    store = tmp_path / "shop"
    _shop(store, datetime.now(UTC))
    bad = _run("purge", "--store", str(store), "--set", "privacy.retention_days.events=0")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_the_schedule_purges_by_itself(tmp_path: Path) -> None:
    store = tmp_path / "shop"
    _shop(store, datetime.now(UTC))
    with open_store(store, create=False) as st:
        schedule = PurgeSchedule(st, RetentionDays(events=30), every_hours=0.0002)  # 0.72 s
        schedule.start()
        try:
            deadline = time.monotonic() + 30
            while schedule.runs < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            schedule.stop()
        assert schedule.runs >= 1 and schedule.removed["events"] == 2
        assert st.counts()["events"] == 2
    disabled = PurgeSchedule(None, RetentionDays(), every_hours=0)
    disabled.start()
    assert disabled._thread is None
