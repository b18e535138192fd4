"""Ingestion never loses a good row and never lets a bad one in: oversized fields, id types and lengths,
values per event type, conflicting duplicates, unknown items, re-ingest and batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import Store

HEADER = "event_id,user_id,item_id,type,value,query,timestamp\n"
TS = "2024-01-01T10:00:00Z"
BIG = 3 * 1024 * 1024  # over DuckDB's 2 MiB CSV line limit and the default ingest.max_field_bytes


def make_ingestor(store: Store, *overrides: str) -> Ingestor:
    return Ingestor(store, load_settings(environ={}, overrides=list(overrides)))


def csv_rows(rows: list[tuple[str, ...]]) -> str:
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def good(i: int) -> dict[str, object]:
    return {"event_id": f"e{i}", "user_id": f"u{i % 3}", "item_id": f"i{i}", "type": "view", "timestamp": TS}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_3mb_field_quarantines_its_row_only_with_line_field_and_size(
    tmp_path: Path, store: Store, fmt: str
) -> None:
    marker = "SECRETCONTENT"
    huge = marker + "x" * (BIG - len(marker))
    path = tmp_path / f"ev.{fmt}"
    rows = [good(i) for i in range(10)]
    rows[4] = {**rows[4], "query": huge}
    if fmt == "csv":
        # a quoted field with an embedded newline before the big row: physical lines != record numbers
        text = HEADER + "".join(
            f"{r['event_id']},{r['user_id']},{r['item_id']},view,,{r.get('query', '')},{TS}\n" for r in rows
        )
        text = text.replace("e1,u1,i1,view,,", 'e1,u1,"i\n1",view,,', 1)
        expected_line = 7  # header, e0, e1 on lines 3-4, e2, e3, e4
    else:
        text = (
            "\n".join(json.dumps(r) for r in rows[:2]) + "\n\n" + "\n".join(json.dumps(r) for r in rows[2:])
        )
        expected_line = 6  # a blank line after e1
    path.write_text(text)
    report = make_ingestor(store).ingest_path(path, "events")
    assert (report.read, report.accepted, report.quarantined) == (10, 9, 1)
    (row,) = store.read_quarantine().to_pylist()
    assert row["line"] == expected_line
    assert row["reason"] == (
        f"field query is {BIG} bytes, over the limit of 2097152 bytes (ingest.max_field_bytes)"
    )
    assert marker not in row["raw"] and len(row["raw"]) < 1000
    assert json.loads(row["raw"])["event_id"] == "e4"
    assert "e5" in store.read_events(["event_id"]).column(0).to_pylist()


def test_a_smaller_max_field_bytes_is_honoured(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(
        csv_rows([("e1", "u", "i", "search", "", "q" * 50, TS), ("e2", "u", "i", "view", "", "", TS)])
    )
    report = make_ingestor(store, "ingest.max_field_bytes=40").ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (1, 1)
    assert "field query is 50 bytes" in store.read_quarantine().column("reason")[0].as_py()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (("p1", "u", "i", "purchase", "-3", "", TS), "purchase value -3.0 is negative"),
        (("r1", "u", "i", "rating", "7", "", TS), "rating value 7.0 is outside the rating scale 0..5"),
        (("r2", "u", "i", "rating", "", "", TS), "rating event without a value"),
        (("r3", "u", "i", "review", "-1", "", TS), "review value -1.0 is outside the rating scale 0..5"),
        (("c1", "u", "i", "add_to_cart", "0", "", TS), "add_to_cart quantity 0.0 must be > 0"),
        (("v1", "u", "i", "view", "-1", "", TS), "view value -1.0 must be empty or >= 0"),
        (("k1", "u", "i", "click", "-0.5", "", TS), "click value -0.5 must be empty or >= 0"),
        (("s1", "u", "", "search", "", "", TS), "search event without query text"),
    ],
)
def test_values_are_checked_per_event_type(
    tmp_path: Path, store: Store, row: tuple[str, ...], reason: str
) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(csv_rows([row, ("ok", "u", "i", "view", "", "", TS)]))
    report = make_ingestor(store).ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (1, 1)
    assert reason in store.read_quarantine().column("reason")[0].as_py()


def test_good_values_of_every_type_pass(tmp_path: Path, store: Store) -> None:
    rows = [
        ("p", "u", "i", "purchase", "0", "", TS),
        ("p2", "u", "i", "purchase", "19.99", "", TS),
        ("r", "u", "i", "rating", "5", "", TS),
        ("r0", "u", "i", "rating", "0", "", TS),
        ("rv", "u", "i", "review", "", "", TS),
        ("c", "u", "i", "add_to_cart", "", "", TS),
        ("c2", "u", "i", "add_to_cart", "2", "", TS),
        ("v", "u", "i", "view", "0", "", TS),
        ("s", "u", "", "search", "", "red shoes", TS),
    ]
    path = tmp_path / "ev.csv"
    path.write_text(csv_rows(rows))
    report = make_ingestor(store).ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (len(rows), 0)


def test_the_rating_scale_is_a_setting(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(
        csv_rows([("a", "u", "i", "rating", "0", "", TS), ("b", "u", "i", "rating", "10", "", TS)])
    )
    report = make_ingestor(store, "ingest.rating_min=1", "ingest.rating_max=10").ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (1, 1)
    assert (
        "rating value 0.0 is outside the rating scale 1..10"
        in store.read_quarantine().column("reason")[0].as_py()
    )


def test_json_ids_must_be_strings_integers_taken_as_text(tmp_path: Path, store: Store) -> None:
    rows = [
        {**good(0), "user_id": 123},  # accepted as "123"
        {**good(1), "user_id": 1.5},
        {**good(2), "item_id": True},
        {**good(3), "user_id": {"id": 1}},
        {**good(4), "item_id": [1, 2]},
        {**good(5), "event_id": 7},  # accepted as "7"
    ]
    path = tmp_path / "ev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = make_ingestor(store).ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (2, 4)
    stored = store.read_events(["event_id", "user_id"]).to_pylist()
    assert sorted((r["event_id"], r["user_id"]) for r in stored) == [("7", "u2"), ("e0", "123")]
    reasons = dict(
        zip(
            store.read_quarantine().column("line").to_pylist(),
            store.read_quarantine().column("reason").to_pylist(),
            strict=True,
        )
    )
    assert reasons == {
        2: "user_id must be a string, got number 1.5",
        3: "item_id must be a string, got boolean true",
        4: "user_id must be a string, got an object",
        5: "item_id must be a string, got an array",
    }


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_ids_longer_than_the_api_cap_are_quarantined(tmp_path: Path, store: Store, fmt: str) -> None:
    long_id = "u" * 100_000
    rows = [{**good(0), "user_id": long_id}, {**good(1), "user_id": "u" * 256}]
    path = tmp_path / f"ev.{fmt}"
    if fmt == "csv":
        path.write_text(
            HEADER + "".join(f"{r['event_id']},{r['user_id']},{r['item_id']},view,,,{TS}\n" for r in rows)
        )
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows))
    report = make_ingestor(store).ingest_path(path, "events")
    assert (report.accepted, report.quarantined) == (1, 1)
    reason = store.read_quarantine().column("reason")[0].as_py()
    assert reason == "user_id is 100000 characters long, over the limit of 256 (ingest.max_id_length)"


def test_conflicting_duplicates_are_quarantined_identical_ones_stay_silent(
    tmp_path: Path, store: Store
) -> None:
    ingestor = make_ingestor(store)
    first = tmp_path / "a.csv"
    first.write_text(
        csv_rows([("e1", "u", "i1", "view", "", "", TS), ("e2", "u", "i2", "purchase", "5", "", TS)])
    )
    ingestor.ingest_path(first, "events")
    second = tmp_path / "b.csv"
    second.write_text(
        csv_rows(
            [
                ("e1", "u", "i1", "view", "", "", TS),  # identical: a silent duplicate
                ("e2", "u", "i2", "purchase", "6", "", "2024-01-02T00:00:00Z"),  # stored differs: conflict
                ("e3", "u", "i3", "view", "", "", TS),  # new
                ("e3", "u", "i3", "click", "", "", TS),  # differs from the row above: conflict
            ]
        )
    )
    report = ingestor.ingest_path(second, "events")
    assert (report.accepted, report.duplicates, report.conflicts, report.quarantined) == (1, 1, 2, 2)
    rows = {r["line"]: r["reason"] for r in store.read_quarantine().to_pylist()}
    assert rows[3] == (
        'conflicting duplicate: event_id "e2" differs in value, timestamp from the event already kept '
        "under that id (the kept one stays)"
    )
    assert 'event_id "e3" differs in type ' in rows[5]
    values = {r["event_id"]: r["value"] for r in store.read_events(["event_id", "value"]).to_pylist()}
    assert values == {"e1": None, "e2": 5.0, "e3": None}  # the stored row won


def test_tables_check_stored_conflicts_when_asked_small_batches_by_user(store: Store) -> None:
    ingestor = make_ingestor(store)
    stored = [{**good(i), "user_id": f"u{i}"} for i in range(100)]
    assert ingestor.ingest_table(stored, "events").accepted == 100
    changed = [{**good(7), "user_id": "u7", "type": "click"}]  # 1 row vs 100 stored: read by user
    plain = ingestor.ingest_table(changed, "events")
    assert (plain.duplicates, plain.conflicts) == (1, 0)  # default for tables: the API stamps timestamps
    checked = ingestor.ingest_table(changed, "events", stored_conflicts=True)
    assert (checked.duplicates, checked.conflicts, checked.quarantined) == (0, 1, 1)
    other_user = [{**good(8), "user_id": "someone-else"}]  # the documented blind spot of the by-user read
    assert ingestor.ingest_table(other_user, "events", stored_conflicts=True).conflicts == 0
    many = [{**good(i), "user_id": f"u{i}", "value": "1"} for i in range(10)]  # 10 * 20 >= 100: full read
    assert ingestor.ingest_table(many, "events", stored_conflicts=True).conflicts == 10


def test_reingesting_a_file_writes_no_new_quarantine_rows(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(
        csv_rows(
            [
                ("e1", "u", "i", "view", "", "", TS),
                ("e2", "u", "i", "teleport", "", "", TS),
                ("e3", "", "i", "view", "", "", TS),
                ("e1", "u", "j", "view", "", "", TS),
            ]
        )
        + "too,few\n"
    )
    ingestor = make_ingestor(store)
    first = ingestor.ingest_path(path, "events")
    assert (first.quarantined, first.quarantine_known) == (4, 0)
    before = store.counts()
    again = ingestor.ingest_path(path, "events")
    assert (again.quarantined, again.quarantine_known, again.accepted) == (4, 4, 0)
    assert store.counts() == before
    # a changed row in the same file is new content: quarantined again
    path.write_text(path.read_text().replace("teleport", "levitate"))
    third = ingestor.ingest_path(path, "events")
    assert (third.quarantined, third.quarantine_known) == (4, 3)
    assert store.counts()["quarantined"] == before["quarantined"] + 1


def test_unknown_items_are_counted_and_can_be_quarantined(tmp_path: Path, store: Store) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\ni1,Shoe\n")
    events = tmp_path / "ev.csv"
    events.write_text(
        csv_rows(
            [
                ("e1", "u", "i1", "view", "", "", TS),
                ("e2", "u", "i2", "view", "", "", TS),
                ("e3", "u", "i2", "click", "", "", TS),
                ("e4", "u", "i3", "view", "", "", TS),
            ]
        )
    )
    make_ingestor(store).ingest_path(items, "items")
    report = make_ingestor(store).ingest_path(events, "events")
    assert (report.accepted, report.unknown_items, report.unknown_item_events) == (4, 2, 3)
    strict = tmp_path / "ev2.csv"
    strict.write_text(
        csv_rows([("f1", "u", "i1", "view", "", "", TS), ("f2", "u", "i9", "view", "", "", TS)])
    )
    report = make_ingestor(store, "ingest.unknown_items=quarantine").ingest_path(strict, "events")
    assert (report.accepted, report.quarantined, report.unknown_items) == (1, 1, 1)
    assert (
        'item_id "i9" is not in the catalogue'
        in store.read_quarantine(report.run_id).column("reason")[0].as_py()
    )


def test_batches_commit_in_source_order_with_dense_seq(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(csv_rows([(f"e{i}", "u", f"i{i}", "view", "", "", TS) for i in range(10)]) + "bad,row\n")
    report = make_ingestor(store, "ingest.batch_rows=3").ingest_path(path, "events")
    assert (report.accepted, report.quarantined, report.batches) == (10, 1, 4)
    runs = store.read_runs()
    assert runs.num_rows == 4 and set(runs.column("run_id").to_pylist()) == {report.run_id}
    assert pc.sum(runs.column("read")).as_py() == 11
    assert pc.sum(runs.column("quarantined")).as_py() == 1
    events = store.read_events(["event_id", "seq"]).to_pylist()
    assert [e["seq"] for e in events] == list(range(1, 11))
    assert [e["event_id"] for e in events] == [f"e{i}" for i in range(10)]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shelfwise", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_quarantine_list_and_export_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "ev.csv"
    path.write_text(
        csv_rows(
            [
                ("e1", "u", "i", "view", "", "", TS),
                ("e2", "u", "i", "purchase", "-1", "", TS),
                ("e1", "u", "k", "view", "", "", TS),
            ]
        )
    )
    done = _cli("ingest", str(path), "--kind", "events", "--store", "st", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["quarantined"], result["conflicts"], result["unknown_items"]) == (2, 1, 1)
    run_id = result["runs"][0]["run_id"]
    human = _cli("ingest", str(path), "--kind", "events", "--store", "st", cwd=tmp_path)
    assert human.returncode == 0, human.stderr
    warnings = " ".join(human.stderr.split())  # rich wraps long lines
    assert "1 events refer to 1 item(s) not in the catalogue (accepted; setting ingest.unknown_items)" in warnings
    assert "2 of the quarantined rows were already in quarantine" in warnings
    listed = json.loads(
        _cli("quarantine", "list", "--store", "st", "--json", "--run", run_id, cwd=tmp_path).stdout
    )
    assert listed["count"] == 2 and [r["line"] for r in listed["rows"]] == [3, 4]
    assert listed["runs"] == [
        {"run_id": run_id, "kind": "events", "source": str(path), "rows": 2, "conflicts": 1}
    ]
    assert (
        json.loads(
            _cli("quarantine", "list", "--store", "st", "--json", "--kind", "items", cwd=tmp_path).stdout
        )["count"]
        == 0
    )
    for name in ("q.csv", "q.jsonl"):
        out = _cli("quarantine", "export", name, "--store", "st", "--json", cwd=tmp_path)
        assert json.loads(out.stdout)["rows"] == 2
    lines = (tmp_path / "q.jsonl").read_text().splitlines()
    assert [json.loads(x)["line"] for x in lines] == [3, 4]
    assert json.loads(json.loads(lines[0])["raw"])["value"] == "-1"
    assert (tmp_path / "q.csv").read_text().splitlines()[0].replace(
        '"', ""
    ) == "run_id,kind,source,line,reason,raw"
    bad = _cli("quarantine", "export", "q.txt", "--format", "xml", "--store", "st", cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "csv or jsonl" in bad.stderr
    missing = _cli("quarantine", "list", "--run", "nope", "--store", "st", cwd=tmp_path)
    assert missing.returncode == 2 and "no ingestion run 'nope'" in missing.stderr
