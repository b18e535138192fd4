"""The benchmark dataset loaders against the counts their SOURCE.md files state (needs ../shared/data)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shelfwise.data.datasets import DATASETS, load_dataset
from shelfwise.data.datasets.amazon_scientific import parse_text, split_categories
from shelfwise.data.schema import EVENT_COLUMNS, ITEM_COLUMNS, JUDGEMENT_COLUMNS, USER_COLUMNS, Dataset

DATA_DIR = Path(os.environ.get("SHELFWISE_DATA_DIR") or Path(__file__).parents[2] / ".." / "shared" / "data")
needs_data = pytest.mark.skipif(
    not DATA_DIR.is_dir(),
    reason=f"benchmark data not found at {DATA_DIR.resolve()} (set SHELFWISE_DATA_DIR to the shared/data folder)",
)
_cache: dict[str, Dataset] = {}


def _load(name: str) -> Dataset:
    if name not in _cache:
        _cache[name] = load_dataset(name, DATA_DIR)
    return _cache[name]


def _check_canonical(table: pa.Table | None, columns: tuple[str, ...]) -> pa.Table:
    assert table is not None
    assert tuple(table.column_names[: len(columns)]) == columns
    for name in ("event_id", "user_id", "item_id", "query"):
        if name in columns:
            assert table.schema.field(name).type == pa.string(), name
    if "timestamp" in columns:
        assert table.schema.field("timestamp").type == pa.int64()
    if "available" in columns:
        assert table.schema.field("available").type == pa.bool_()
        assert table["available"].null_count == 0
    if "price" in columns:
        assert table.schema.field("price").type == pa.float64()
    return table


def _check_shape(ds: Dataset) -> None:
    """Canonical columns, unique ids, events pointing at known users and items, JSON attributes."""
    items = _check_canonical(ds.items, ITEM_COLUMNS)
    ids = items["item_id"].to_pylist()
    assert len(ids) == len(set(ids)), "item ids not unique"
    for raw in items["attributes"].drop_null().to_pylist():
        assert isinstance(json.loads(raw), dict)
    for cat in items["category"].drop_null().to_pylist():
        assert cat.strip() and " >  > " not in cat
    if ds.users is not None:
        users = _check_canonical(ds.users, USER_COLUMNS)
        assert users.num_rows == len(set(users["user_id"].to_pylist()))
    if ds.events is not None:
        events = _check_canonical(ds.events, EVENT_COLUMNS)
        eids = events["event_id"].to_pylist()
        assert len(eids) == len(set(eids)), "event ids not unique"
        assert set(events["item_id"].to_pylist()) <= set(ids)
        assert ds.users is not None
        assert set(events["user_id"].to_pylist()) == set(ds.users["user_id"].to_pylist())
        assert events["timestamp"].null_count == 0


def _counts(ds: Dataset) -> tuple[int, int, int]:
    assert ds.events is not None and ds.items is not None
    users = len(set(ds.events["user_id"].to_pylist()))
    items = len(set(ds.events["item_id"].to_pylist()))
    return users, items, ds.events.num_rows


def test_registry_names_the_shared_folders() -> None:
    assert set(DATASETS) == {
        "amazon-beauty",
        "amazon-scientific",
        "crowdflower-search",
        "taobao-userbehavior",
        "amazon-reviews-2018",
        "fashion-images",
    }


def test_missing_data_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path.resolve() / "amazon-beauty")):
        load_dataset("amazon-beauty", tmp_path)
    with pytest.raises(KeyError, match="known"):
        load_dataset("no-such-dataset", tmp_path)


def test_env_var_sets_the_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFWISE_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_dataset("fashion-images")


def test_scientific_text_parsing() -> None:
    assert parse_text("Mr. Heater F232000. Industrial & Scientific Heaters. Mr. Heater. ") == (
        "Mr. Heater F232000",
        "Industrial & Scientific Heaters",
        "Mr. Heater",
    )
    assert parse_text("Pump. . . ") == ("Pump", "", "")
    paths = split_categories(
        [
            "Industrial & Scientific Fasteners Washers Flat Washers",
            "Industrial & Scientific Fasteners Washers Lock Washers Spring Lock Washers",
            "Industrial & Scientific Fasteners",
            "Industrial & Scientific Manual Sanding Products Sanding Rolls",
            "Industrial & Scientific Manual Sanding Products Sanding Pads",
            "Industrial & Scientific Manual Sanding Products Steel Wool",
        ]
    )
    assert paths["Industrial & Scientific Fasteners Washers Lock Washers Spring Lock Washers"] == [
        "Industrial & Scientific",
        "Fasteners",
        "Washers",
        "Lock Washers",
        "Spring Lock Washers",
    ]
    # a branch after a plural splits; sibling leaves sharing a first word ("Sanding") stay whole
    assert paths["Industrial & Scientific Manual Sanding Products Sanding Pads"] == [
        "Industrial & Scientific",
        "Manual Sanding Products",
        "Sanding Pads",
    ]


@needs_data
@pytest.mark.data
def test_amazon_beauty() -> None:
    ds = _load("amazon-beauty")
    _check_shape(ds)
    assert _counts(ds) == (22_363, 12_101, 198_502)
    assert ds.items is not None and ds.items.num_rows == 12_101
    assert ds.metadata["synthetic_timestamps"] is True
    assert set(ds.events["type"].to_pylist()) == {"purchase"}  # type: ignore[index]
    first = ds.items.slice(0, 1).to_pylist()[0]
    assert first["item_id"] == "1" and first["title"].startswith("OPI Nail Lacquer")
    assert json.loads(first["attributes"]) == {"asin": "B004756YJA", "attribute_ids": [173, 1, 162, 171]}
    assert ds.items["brand"].null_count == ds.items.num_rows  # no brand is invented
    assert not any("&egrave;" in t for t in ds.items["title"].drop_null().to_pylist())
    # user 1's sequence "1 2 3 4 5" keeps its order in synthetic timestamps
    ev = ds.events.slice(0, 5).to_pylist()  # type: ignore[union-attr]
    assert [e["item_id"] for e in ev] == ["1", "2", "3", "4", "5"]
    assert [e["timestamp"] for e in ev] == sorted(e["timestamp"] for e in ev)


@needs_data
@pytest.mark.data
def test_event_ids_are_stable_across_loads() -> None:
    again = DATASETS["amazon-beauty"](DATA_DIR / "amazon-beauty")
    assert again.events is not None
    assert again.events["event_id"].equals(_load("amazon-beauty").events["event_id"])  # type: ignore[index]
    assert again.events["event_id"][0].as_py() == "amazon-beauty:1:0"


@needs_data
@pytest.mark.data
def test_amazon_scientific_counts_and_items() -> None:
    ds = _load("amazon-scientific")
    _check_shape(ds)
    # SOURCE.md's 59,384 is the test file alone, whose histories are cut to 50 items; the full
    # sequences rebuilt from all three files hold 59,427 (the UniSRec paper's count).
    assert _counts(ds) == (8_442, 4_385, 59_427)
    assert ds.metadata["interactions_in_test_file"] == 59_384
    items = {r["item_id"]: r for r in ds.items.to_pylist()}  # type: ignore[union-attr]
    assert len(items) == 4_385
    glue = items["B0000223UV"]
    assert (
        glue["title"] == "Gorilla Original Gorilla Glue, Waterproof Polyurethane Glue, 8 ounce Bottle, Brown"
    )
    assert glue["brand"] == "Gorilla"
    assert glue["category"] == "Industrial & Scientific > Tapes, Adhesives & Sealants > Urethane Adhesives"
    cats = [c for c in ds.items["category"].to_pylist() if c]  # type: ignore[index]
    assert len(cats) == 4_385 - 134
    assert all(c.startswith("Industrial & Scientific > ") for c in cats)
    assert max(len(c.split()) for c in cats) < 40  # the leaked product text is cut off


@needs_data
@pytest.mark.data
def test_amazon_scientific_given_split_matches_inter_files() -> None:
    ds = _load("amazon-scientific")
    assert ds.events is not None
    split = ds.splits["given"]
    assert split["event_id"].equals(ds.events["event_id"])
    assert Counter(split["part"].to_pylist()) == {"train": 59_427 - 2 * 8_442, "valid": 8_442, "test": 8_442}
    rows = ds.events.append_column("part", split["part"]).to_pylist()
    seqs: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        seqs.setdefault(str(r["user_id"]), []).append(r)
    idx_item = dict(
        line.split("\t")[::-1]
        for line in (DATA_DIR / "amazon-scientific" / "Scientific.item2index").read_text().splitlines()
    )
    idx_user = dict(
        line.split("\t")[::-1]
        for line in (DATA_DIR / "amazon-scientific" / "Scientific.user2index").read_text().splitlines()
    )
    for fname, offset in (("Scientific.test.inter", 1), ("Scientific.valid.inter", 2)):
        lines = (DATA_DIR / "amazon-scientific" / fname).read_text().splitlines()[1:]
        for line in lines:
            u, hist, target = line.split("\t")
            seq = seqs[idx_user[u]]
            assert seq[-offset]["item_id"] == idx_item[target]
            assert seq[-offset]["part"] == ("test" if offset == 1 else "valid")
            assert [e["item_id"] for e in seq[: len(seq) - offset][-50:]] == [
                idx_item[i] for i in hist.split()
            ]
            ts = [e["timestamp"] for e in seq]
            assert ts == sorted(ts)


@needs_data
@pytest.mark.data
def test_crowdflower_search() -> None:
    ds = _load("crowdflower-search")
    _check_shape(ds)
    j = _check_canonical(ds.judgements, JUDGEMENT_COLUMNS)
    assert j.num_rows == 10_158
    assert len(set(j["query"].to_pylist())) == 261
    assert Counter(j["relevance"].to_pylist()) == {4.0: 6171, 3.0: 1737, 2.0: 1476, 1.0: 774}
    assert set(j["item_id"].to_pylist()) == set(ds.items["item_id"].to_pylist())  # type: ignore[index]
    assert ds.metadata["duplicate_pairs"] == 140
    assert ds.metadata["conflicting_pairs"] == 44
    assert ds.events is None
    descs = ds.items["description"].drop_null().to_pylist()  # type: ignore[index]
    assert not any(tag in d for d in descs for tag in ("<br", "<p>", "<td", "&nbsp;", "<strong>"))


@needs_data
@pytest.mark.data
def test_taobao_userbehavior() -> None:
    ds = _load("taobao-userbehavior")
    _check_shape(ds)
    assert _counts(ds) == (814, 55_233, 84_287)
    assert ds.items is not None and ds.items.num_rows == 55_233
    assert len(set(ds.items["category"].to_pylist())) == 2_911
    assert Counter(ds.events["type"].to_pylist()) == {  # type: ignore[index]
        "view": 75_693,
        "add_to_cart": 4_494,
        "favorite": 2_351,
        "purchase": 1_749,
    }
    first = ds.events.slice(0, 1).to_pylist()[0]  # type: ignore[union-attr]
    assert first == {
        **first,
        "event_id": "taobao-userbehavior:1:0",
        "item_id": "2268318",
        "type": "view",
        "timestamp": 1511544070,
    }


@needs_data
@pytest.mark.data
def test_amazon_reviews_2018() -> None:
    ds = _load("amazon-reviews-2018")
    _check_shape(ds)
    assert _counts(ds) == (991 + 406, 85 + 31, 5_269 + 3_176)
    ev = ds.events
    assert ev is not None
    assert set(ev["type"].to_pylist()) == {"review"}
    assert set(ev["value"].to_pylist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert {"text", "summary"} <= set(ev.column_names)
    assert ev["text"].null_count < 30
    # reviewerName (PII) is stored nowhere
    assert not any("name" in c.lower() for c in ev.column_names)
    blob = json.dumps(ev.slice(0, 200).to_pylist())
    assert "Shelly F" not in blob and "houserules18" not in blob


@needs_data
@pytest.mark.data
def test_fashion_images() -> None:
    ds = _load("fashion-images")
    _check_shape(ds)
    items = ds.items
    assert items is not None and items.num_rows == 150 and ds.events is None
    row = items.slice(0, 1).to_pylist()[0]
    assert row["title"] == "Nike Sahara Team India Fanwear Round Neck Jersey"
    assert row["category"] == "Apparel > Topwear > Tshirts"
    assert json.loads(row["attributes"])["colour"] == "Blue"
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in items["image"].to_pylist())


def test_shipped_sample_shop() -> None:
    """The package's sample shop: present without ../shared, small, consistent, whole user sequences."""
    import csv

    from shelfwise.data.sample import sample_paths

    paths = sample_paths()
    assert sum(p.stat().st_size for p in paths.values()) < 1_500_000
    with paths["items"].open(encoding="utf-8", newline="") as fh:
        items = list(csv.DictReader(fh))
    with paths["events"].open(encoding="utf-8", newline="") as fh:
        events = list(csv.DictReader(fh))
    assert tuple(items[0]) == ITEM_COLUMNS and tuple(events[0]) == EVENT_COLUMNS
    assert 300 <= len(items) <= 1_500 and 2_000 <= len(events) <= 10_000
    ids = {r["item_id"] for r in items}
    assert len(ids) == len(items) and {e["item_id"] for e in events} == ids
    assert all(r["title"] and r["category"] and r["brand"] and float(r["price"]) > 0 for r in items)
    assert {r["currency"] for r in items} == {"USD"}
    off = sum(r["available"] == "false" for r in items)
    assert 0 < off < 0.06 * len(items)
    by_user: dict[str, list[dict[str, str]]] = {}
    for e in events:
        by_user.setdefault(e["user_id"], []).append(e)
    for seq in by_user.values():
        assert [e["event_id"].rsplit(":", 1)[1] for e in seq] == [str(i) for i in range(len(seq))]
        ts = [e["timestamp"] for e in seq]
        assert ts == sorted(ts) and all(t.endswith("Z") for t in ts)
    assert "SYNTHETIC" in paths["source"].read_text(encoding="utf-8")
