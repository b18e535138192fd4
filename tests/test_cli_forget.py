"""``shelfwise forget USER_ID``: the shopper leaves the store and its files at once, with a receipt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import open_store

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "shelfwise" / "sample"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args], capture_output=True, text=True, timeout=300
    )


def test_forget_removes_the_shopper_and_their_bytes_and_prints_a_receipt(tmp_path: Path) -> None:
    store = tmp_path / "shop"
    with open_store(store) as st, Ingestor(st, load_settings(environ={})) as ing:
        ing.ingest_path(SAMPLE / "items.csv", "items")
        ing.ingest_path(SAMPLE / "events.csv", "events")
        ing.ingest_table(
            [
                {
                    "user_id": "forget-me-7731",
                    "type": "search",
                    "query": "gossamer walrus umbrella",
                    "timestamp": 1_700_000_000,
                }
            ],
            "events",
        )
        user = "u0001"  # a shopper of the sample shop
        n_events = st.read_events(["event_id"], user_ids=[user]).num_rows
    done = _run("forget", "forget-me-7731", "--store", str(store), "--json")
    assert done.returncode == 0, done.stderr
    receipt = json.loads(done.stdout)
    assert receipt["deleted"] and receipt["user_id"] == "forget-me-7731"
    assert receipt["store"]["removed"]["events"] == 1 and receipt["erasure"]["status"] == "done"
    other = json.loads(_run("forget", user, "--store", str(store), "--json").stdout)
    assert other["store"]["removed"]["events"] == n_events
    for path in store.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"forget-me-7731" not in data and b"gossamer walrus" not in data, path
    with open_store(store, create=False) as st:
        stored = [r for r in st.get_meta("deletion.receipts", []) if r["receipt_id"] == receipt["receipt_id"]]
        assert st.read_events(["event_id"], user_ids=[user]).num_rows == 0
    assert stored and "user_id" not in stored[0]  # the kept copy names nobody
    nothing = _run("forget", "nobody-ever", "--store", str(store), "--json")
    assert nothing.returncode == 0 and not json.loads(nothing.stdout)["deleted"]
    bad = _run("forget", "x" * 300, "--store", str(store))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
