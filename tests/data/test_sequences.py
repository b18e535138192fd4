"""read_sequences on small hand-written files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from shelfwise.data.schema import EVENT_COLUMNS, ITEM_COLUMNS
from shelfwise.data.sequences import SYNTHETIC_EPOCH, read_sequences, read_titles


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_events_users_items_from_lines(tmp_path: Path) -> None:
    ds = read_sequences(_write(tmp_path / "s.txt", "u1 a b c\n\nu2  c   a\n"), dataset="toy")
    assert ds.events is not None and ds.users is not None and ds.items is not None
    ev = ds.events.to_pylist()
    assert [e["event_id"] for e in ev] == ["toy:u1:0", "toy:u1:1", "toy:u1:2", "toy:u2:0", "toy:u2:1"]
    assert [e["item_id"] for e in ev] == ["a", "b", "c", "c", "a"]
    assert [e["timestamp"] for e in ev] == [SYNTHETIC_EPOCH + p for p in (0, 1, 2, 0, 1)]
    assert {e["type"] for e in ev} == {"purchase"}
    assert tuple(ds.events.column_names) == EVENT_COLUMNS
    assert ds.events.schema.field("timestamp").type == pa.int64()
    assert ds.users["user_id"].to_pylist() == ["u1", "u2"]
    assert ds.items["item_id"].to_pylist() == ["a", "b", "c"]
    assert tuple(ds.items.column_names) == ITEM_COLUMNS
    assert ds.items["available"].to_pylist() == [True, True, True]
    assert ds.metadata["synthetic_timestamps"] is True


def test_event_ids_are_stable_and_repeated_user_lines_continue(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.txt", "7 1 2\n8 3\n7 4\n")
    first = read_sequences(path).events
    again = read_sequences(path).events
    assert first is not None and again is not None
    assert first["event_id"].equals(again["event_id"])
    assert first["event_id"].to_pylist() == ["seq:7:0", "seq:7:1", "seq:8:0", "seq:7:2"]


def test_titles_two_columns_without_header(tmp_path: Path) -> None:
    titles = _write(tmp_path / "t.tsv", "a\tRed  Shoe\nb\tCr&egrave;me\n")
    ds = read_sequences(_write(tmp_path / "s.txt", "u a b c\n"), titles_path=titles)
    assert ds.items is not None
    rows = {r["item_id"]: r for r in ds.items.to_pylist()}
    assert rows["a"]["title"] == "Red Shoe"
    assert rows["b"]["title"] == "Crème"
    assert rows["c"]["title"] is None  # untitled items are still items
    assert rows["a"]["attributes"] is None


def test_titles_three_columns_with_header_keep_asin(tmp_path: Path) -> None:
    titles = _write(tmp_path / "t.tsv", "item_id\tasin\ttitle\n1\tB00X\tLipstick\n9\tB00Y\tNever bought\n")
    ds = read_sequences(_write(tmp_path / "s.txt", "u 1\n"), titles_path=titles)
    assert ds.items is not None
    rows = {r["item_id"]: r for r in ds.items.to_pylist()}
    assert set(rows) == {"1", "9"}  # the header line is not an item
    assert json.loads(rows["1"]["attributes"]) == {"asin": "B00X"}
    assert rows["9"]["title"] == "Never bought"
    assert read_titles(titles)["1"] == {"title": "Lipstick", "asin": "B00X"}


def test_gzip_and_event_type_alias(tmp_path: Path) -> None:
    path = tmp_path / "s.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("u a b\n")
    ds = read_sequences(path, event_type="pv")
    assert ds.events is not None
    assert ds.events["type"].to_pylist() == ["view", "view"]


def test_bad_input_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no items"):
        read_sequences(_write(tmp_path / "s.txt", "u1 a\nu2\n"))
    with pytest.raises(ValueError, match="unknown event type"):
        read_sequences(_write(tmp_path / "ok.txt", "u1 a\n"), event_type="teleport")
    with pytest.raises(ValueError, match="2 or 3"):
        read_titles(_write(tmp_path / "t.tsv", "a\tb\tc\td\n"))
    with pytest.raises(FileNotFoundError):
        read_sequences(tmp_path / "missing.txt")
