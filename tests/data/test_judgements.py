"""read_judgements and strip_html on small hand-written files."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from shelfwise.data.judgements import product_id, read_judgements, strip_html
from shelfwise.data.schema import ITEM_COLUMNS, JUDGEMENT_COLUMNS

ROWS = [
    ["id", "q", "product_title", "product_description", "median_relevance"],
    ["1", "red shoes", "Red Shoe", "<p>Soft&nbsp;<b>leather</b></p>", "4"],
    ["2", "red shoes", "Blue Hat", "", "1"],
    ["3", "hat", "Blue Hat", "", "3"],
    ["4", "red shoes", "Red Shoe", "<p>Soft&nbsp;<b>leather</b></p>", "3"],
    ["5", "red shoes", "Red Shoe", "<p>Soft&nbsp;<b>leather</b></p>", "3"],
]
MAPPING = {
    "query": "q",
    "title": "product_title",
    "description": "product_description",
    "relevance": "median_relevance",
}


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_rows_items_and_mapping(tmp_path: Path) -> None:
    ds = read_judgements(_csv(tmp_path / "j.csv", ROWS), columns=MAPPING, dataset="toy")
    assert ds.judgements is not None and ds.items is not None
    j = ds.judgements
    assert tuple(j.column_names) == JUDGEMENT_COLUMNS
    assert j.num_rows == 5  # duplicates are kept
    assert j["relevance"].to_pylist() == [4.0, 1.0, 3.0, 3.0, 3.0]
    shoe, hat = product_id("Red Shoe", "<p>Soft&nbsp;<b>leather</b></p>"), product_id("Blue Hat", "")
    assert j["item_id"].to_pylist() == [shoe, hat, hat, shoe, shoe]
    assert tuple(ds.items.column_names) == ITEM_COLUMNS
    items = {r["item_id"]: r for r in ds.items.to_pylist()}
    assert set(items) == {shoe, hat}
    assert items[shoe]["description"] == "Soft leather"
    assert items[hat]["description"] is None
    assert ds.metadata["duplicate_pairs"] == 1
    assert ds.metadata["duplicate_rows"] == 2
    assert ds.metadata["conflicting_pairs"] == 1
    assert ds.metadata["queries"] == 2


def test_zip_member_extra_columns_and_item_id_column(tmp_path: Path) -> None:
    src = _csv(tmp_path / "inner.csv", [["query", "sku", "relevance", "note"], ["tv", "S1", "2.5", "x"]])
    zpath = tmp_path / "j.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(src, "data/train.csv")
        zf.writestr("README.txt", "not the data")
    ds = read_judgements(zpath, columns={"item_id": "sku"}, member="data/train.csv", extra_columns=("note",))
    assert ds.judgements is not None
    row = ds.judgements.to_pylist()[0]
    assert row == {
        "query": "tv",
        "item_id": "S1",
        "title": None,
        "description": None,
        "relevance": 2.5,
        "note": "x",
    }
    with pytest.raises(ValueError, match="member"):
        read_judgements(zpath, columns={"item_id": "sku"})


def test_product_id_is_stable_and_content_sensitive() -> None:
    assert product_id("Red Shoe", "") == "154727686315e935"
    assert product_id("Red Shoe", "") != product_id("Red Shoe", " ")
    assert len(product_id("a", "b")) == 16


def test_missing_or_bad_columns_raise(tmp_path: Path) -> None:
    path = _csv(tmp_path / "j.csv", ROWS)
    with pytest.raises(ValueError, match="'query'"):
        read_judgements(path)  # no mapping: the file has "q", not "query"
    with pytest.raises(ValueError, match="unknown canonical"):
        read_judgements(path, columns={"score": "median_relevance"})
    bad = _csv(tmp_path / "bad.csv", [["query", "title", "relevance"], ["q", "t", "high"]])
    with pytest.raises(ValueError, match="not a number"):
        read_judgements(bad)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Soft&nbsp;cotton</p><br/>Machine wash", "Soft cotton Machine wash"),
        ("<td>a</td><td>b</td>", "a b"),
        ("<style>.x {color: red}</style>Kept<script>var y = 1;</script>", "Kept"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("  plain\n\ttext  ", "plain text"),
        ("x<5 cm & y>3", "x<5 cm & y>3"),
        ("", ""),
    ],
)
def test_strip_html(html: str, text: str) -> None:
    assert strip_html(html) == text
