"""Ingestion: validation, quarantine with line and reason, normalisation, idempotency, atomicity."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.sources import SourceError
from shelfwise.data.synthetic import make_event_table
from shelfwise.storage import Store, open_store

HEADER = "event_id,user_id,item_id,type,value,query,timestamp,session_id,request_id\n"


def write_bytes(path: Path, text: bytes) -> Path:
    path.write_bytes(text)
    return path


@pytest.fixture()
def ingestor(store: Store) -> Ingestor:
    return Ingestor(store, load_settings(environ={}))


def test_broken_rows_are_quarantined_with_line_and_reason(
    tmp_path: Path, store: Store, ingestor: Ingestor
) -> None:
    body = (
        (
            HEADER
            + "e1,u1,i1,view,,,2024-01-01T10:00:00Z,s1,\n"  # line 2 ok
            + "e2,u1,i2,purchase,9.5,,1704103200,s1,\n"  # line 3 ok (Unix seconds)
            + "e3,u2,i1,teleport,,,2024-01-01T10:00:00Z,s2,\n"  # line 4 unknown type
            + "e4,u2,i3,view,,,not-a-time,s2,\n"  # line 5 bad timestamp
            + "e5,,i3,view,,,2024-01-01T10:00:00Z,s2,\n"  # line 6 missing user id
            + "e6,u3,i3,view,,,2024-01-01T10:00:00Z\n"  # line 7 too few columns
            + "e7,u3,i3,view,,,2024-01-01T10:00:00Z,s3,,extra\n"  # line 8 too many columns
        ).encode()
        + b"e8,u\xff3,i3,view,,,2024-01-01T10:00:00Z,s3,\n"
        + (  # line 9 not UTF-8
            'e9,u4,"multi\nline item",view,,,2024-01-01T10:00:00Z,s3,\n'  # lines 10-11 ok
            + "e10,u4,i5,click,abc,,2024-01-01T10:00:00Z,s3,\n"  # line 12 value not a number
            + "e11,u4,i5,click,,,2024-01-01T10:00:00Z,s3,\n"  # line 13 ok
        ).encode()
    )
    path = write_bytes(tmp_path / "events.csv", body)
    report = ingestor.ingest_path(path, "events")
    assert report.read == 11
    assert (report.accepted, report.quarantined, report.duplicates) == (4, 7, 0)
    assert report.read == report.accepted + report.quarantined + report.duplicates
    q = {row["line"]: row["reason"] for row in store.read_quarantine(report.run_id).to_pylist()}
    assert sorted(q) == [4, 5, 6, 7, 8, 9, 12]
    assert 'unknown event type "teleport"' in q[4]
    assert 'bad timestamp "not-a-time"' in q[5]
    assert q[6] == "missing user_id"
    assert "missing columns" in q[7]
    assert "too many columns" in q[8]
    assert "encoding" in q[9]
    assert 'value "abc" is not a number' in q[12]
    kept = store.read_events(["event_id"]).column(0).to_pylist()
    assert sorted(kept) == ["e1", "e11", "e2", "e9"]
    again = ingestor.ingest_path(path, "events")
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 4, 7)
    assert store.counts()["events"] == 4


def test_every_broken_reason_is_reported_at_once(tmp_path: Path, store: Store, ingestor: Ingestor) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,title,price,currency,available\n,Thing,-3,dollars,maybe\nok,Fine,2,usd,yes\n")
    report = ingestor.ingest_path(path, "items")
    assert (report.accepted, report.quarantined) == (1, 1)
    reason = store.read_quarantine(report.run_id).column("reason")[0].as_py()
    for part in (
        "missing item_id",
        "negative price -3",
        'bad currency "dollars"',
        'bad availability "maybe"',
    ):
        assert part in reason
    item = store.read_items().to_pylist()[0]
    assert (item["currency"], item["available"], item["price"]) == ("USD", True, 2.0)


def test_line_numbers_hold_across_a_large_parallel_read(
    tmp_path: Path, store: Store, ingestor: Ingestor
) -> None:
    table = make_event_table(60_000, seed=3)
    path = tmp_path / "big.csv"
    pacsv.write_csv(table, path)
    lines = path.read_text().splitlines(keepends=True)
    bad_lines = [2, 777, 30_001, 59_999]  # physical line numbers (header is line 1)
    for n in bad_lines:
        lines[n - 1] = (
            lines[n - 1]
            .replace('"view"', '"warp"')
            .replace('"click"', '"warp"')
            .replace('"add_to_cart"', '"warp"')
            .replace('"purchase"', '"warp"')
        )
    lines[10_000 - 1] = lines[10_000 - 1].rstrip("\n") + ',"extra"\n'  # a structural reject
    path.write_text("".join(lines))
    report = ingestor.ingest_path(path, "events")
    got = [r["line"] for r in store.read_quarantine(report.run_id).to_pylist()]
    assert got == sorted([*bad_lines, 10_000])
    assert report.accepted == 60_000 - 5


def test_parquet_jsonl_and_pandas_sources_agree(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    table = make_event_table(2_000, seed=5)
    pq.write_table(table, tmp_path / "e.parquet")
    with (tmp_path / "e.jsonl").open("w") as fh:
        for row in table.to_pylist():
            fh.write(json.dumps(row) + "\n")
    results = []
    for i, source in enumerate([tmp_path / "e.parquet", tmp_path / "e.jsonl", table.to_pandas()]):
        with open_store(tmp_path / f"s{i}") as st:
            ing = Ingestor(st, settings)
            if isinstance(source, Path):
                report = ing.ingest_path(source, "events")
            else:
                report = ing.ingest_table(source, "events")
            assert report.accepted == 2_000
            results.append(
                st.read_events(["event_id", "user_id", "item_id", "type", "value", "timestamp"]).to_pylist()
            )
    assert results[0] == results[1] == results[2]


def test_timestamps_normalise_to_utc(store: Store, ingestor: Ingestor) -> None:
    rows = [
        {
            "event_id": "iso",
            "user_id": "u",
            "item_id": "i",
            "type": "view",
            "timestamp": "2024-01-01T12:00:00+02:00",
        },
        {
            "event_id": "naive",
            "user_id": "u",
            "item_id": "i",
            "type": "view",
            "timestamp": "2024-01-01 10:00:00",
        },
        {"event_id": "secs", "user_id": "u", "item_id": "i", "type": "view", "timestamp": "1704103200"},
        {"event_id": "ms", "user_id": "u", "item_id": "i", "type": "view", "timestamp": "1704103200000"},
        {
            "event_id": "future",
            "user_id": "u",
            "item_id": "i",
            "type": "view",
            "timestamp": "2999-01-01T00:00:00Z",
        },
    ]
    report = ingestor.ingest_table(rows, "events")
    assert report.quarantined == 1
    got = {r["event_id"]: r["timestamp"] for r in store.read_events(["event_id", "timestamp"]).to_pylist()}
    expected = dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)
    assert got == {"iso": expected, "naive": expected, "secs": expected, "ms": expected}


def test_aliases_mapping_and_category_normalisation(tmp_path: Path, store: Store, ingestor: Ingestor) -> None:
    items = tmp_path / "items.csv"
    items.write_text("sku,name,category,colour,price\nA1,Red Lipstick, Beauty|Makeup >Lipstick ,red,12\n")
    ingestor.ingest_path(items, "items")
    item = store.read_items().to_pylist()[0]
    assert item["item_id"] == "A1" and item["title"] == "Red Lipstick"
    assert item["category"] == "Beauty > Makeup > Lipstick"
    assert json.loads(item["attributes"]) == {"colour": "red"}
    events = tmp_path / "ev.csv"
    events.write_text("customer,product,behavior,when\nc1,A1,buy,2024-02-02T00:00:00Z\n")
    report = ingestor.ingest_path(events, "events", mapping={"user_id": "customer", "timestamp": "when"})
    assert report.accepted == 1
    assert store.read_events(["user_id", "item_id", "type"]).to_pylist() == [
        {"user_id": "c1", "item_id": "A1", "type": "purchase"}
    ]


def test_missing_required_column_fails_the_whole_file_clearly(tmp_path: Path, ingestor: Ingestor) -> None:
    path = tmp_path / "ev.csv"
    path.write_text("user_id,item_id,type\nu,i,view\n")
    with pytest.raises(SourceError, match=r"need the column\(s\) timestamp.*--map timestamp=COLUMN"):
        ingestor.ingest_path(path, "events")


def test_pseudonymised_store_holds_no_raw_user_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFWISE_PSEUDONYM_KEY", "00" * 32)
    settings = load_settings(overrides=["privacy.pseudonymise=true"], environ={})
    path = tmp_path / "ev.csv"
    path.write_text(
        HEADER
        + "e1,alice@example.com,i1,view,,,2024-01-01T00:00:00Z,,\ne2,alice@example.com,i2,warp,,,2024-01-01T00:00:00Z,,\n"
    )
    with open_store(tmp_path / "s") as st:
        ing = Ingestor(st, settings)
        ing.ingest_path(path, "events")
        users = st.read_users().column("user_id").to_pylist()
        assert users == [ing.user_key("alice@example.com")] and users[0].startswith("u_")
        quarantined = st.read_quarantine().column("raw").to_pylist()
        assert quarantined and all("alice" not in raw for raw in quarantined)
    monkeypatch.setenv("SHELFWISE_PSEUDONYM_KEY", "11" * 32)
    with open_store(tmp_path / "s") as st, pytest.raises(ValueError, match="key differs"):
        Ingestor(st, settings)


def test_judgements_with_titles_create_items_and_keep_repeated_pairs(
    tmp_path: Path, store: Store, ingestor: Ingestor
) -> None:
    path = tmp_path / "j.csv"
    path.write_text(
        "query,title,description,relevance\nred shoes,Red Shoe,Nice,4\nred shoes,Red Shoe,Nice,3\nred shoes,Blue Hat,,1\n"
        "blue hat,Blue Hat,,x\n"
    )
    report = ingestor.ingest_path(path, "judgements")
    assert (report.accepted, report.quarantined) == (3, 1)
    counts = store.counts()
    assert (counts["judgements"], counts["queries"], counts["items"]) == (3, 1, 2)
    again = ingestor.ingest_path(path, "judgements")
    assert again.accepted == 0 and store.counts()["judgements"] == 3


def test_in_batch_duplicate_event_ids_keep_the_first(store: Store, ingestor: Ingestor) -> None:
    rows = [
        {"event_id": "x", "user_id": "u", "item_id": "first", "type": "view", "timestamp": 1_700_000_000},
        {"event_id": "x", "user_id": "u", "item_id": "second", "type": "view", "timestamp": 1_700_000_001},
        {"event_id": "x", "user_id": "u", "item_id": "first", "type": "view", "timestamp": 1_700_000_000},
    ]
    report = ingestor.ingest_table(pd.DataFrame(rows), "events")
    # the identical repeat is a silent duplicate; the different one is a conflict, quarantined
    assert (report.accepted, report.duplicates, report.conflicts, report.quarantined) == (1, 1, 1, 1)
    assert store.read_events(["item_id"]).column(0).to_pylist() == ["first"]
    (reason,) = store.read_quarantine().column("reason").to_pylist()
    assert reason.startswith("conflicting duplicate") and "item_id, timestamp" in reason


def test_events_without_ids_get_content_ids_so_reingest_is_a_no_op(store: Store, ingestor: Ingestor) -> None:
    rows = [
        {"user_id": "u", "item_id": "i", "type": "view", "timestamp": 1_700_000_000 + k} for k in range(5)
    ]
    assert ingestor.ingest_table(rows, "events").accepted == 5
    assert ingestor.ingest_table(rows, "events").duplicates == 5
    assert store.counts()["events"] == 5


_KILLER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.storage import open_store
    from shelfwise.storage.duckdb_store import DuckDBStore

    original = DuckDBStore._write_events
    def slow_write(self):
        result = original(self)          # rows are inserted, the transaction is still open
        Path(sys.argv[3]).write_text("writing")
        time.sleep(60)
        return result
    DuckDBStore._write_events = slow_write
    with open_store(sys.argv[1]) as st:
        Ingestor(st, load_settings(environ={})).ingest_path(Path(sys.argv[2]), "events")
    """
)


def test_a_process_killed_mid_write_leaves_the_store_as_it_was(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    store_dir = tmp_path / "s"
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(make_event_table(5_000, seed=1), first)
    pq.write_table(
        make_event_table(50_000, seed=2).set_column(
            0, "event_id", pa.array([f"b{i}" for i in range(50_000)])
        ),
        second,
    )
    with open_store(store_dir) as st:
        Ingestor(st, settings).ingest_path(first, "events")
        before = st.counts()
    marker = tmp_path / "marker"
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    proc = subprocess.Popen([sys.executable, str(script), str(store_dir), str(second), str(marker)])
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the writer never reached the write phase"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open_store(store_dir) as st:
        assert st.counts() == before
        assert st.read_runs().num_rows == 1
    with open_store(store_dir) as st:  # and it can still be written to
        report = Ingestor(st, settings).ingest_path(second, "events")
        assert report.accepted == 50_000


def test_sequence_files_ingest_in_order_and_idempotently(tmp_path: Path, store: Store, ingestor: Ingestor) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("u1 a b c\nu2 c a\n")
    report = ingestor.ingest_path(path, "sequences")
    assert report.accepted >= 5 and report.quarantined == 0
    history = store.read_events(["item_id"], user_ids=["u1"]).column(0).to_pylist()
    assert history == ["a", "b", "c"]
    again = ingestor.ingest_path(path, "sequences")
    assert again.accepted == 0 and store.counts()["events"] == 5
