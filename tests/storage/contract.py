"""The shared contract every :class:`Store` backend must pass.

A backend's test module subclasses :class:`StoreContract` and provides a ``make_store`` fixture; nothing
else. The checks go through ingestion, as callers do.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.storage import Store


def _events(rows: list[tuple[str, str, str, str, int]]) -> pa.Table:
    return pa.table(
        {
            "event_id": [r[0] for r in rows],
            "user_id": [r[1] for r in rows],
            "item_id": [r[2] for r in rows],
            "type": [r[3] for r in rows],
            "timestamp": [r[4] for r in rows],
        }
    )


class StoreContract:
    """Behaviour shared by all store backends."""

    @pytest.fixture()
    def st(self, make_store) -> Store:  # type: ignore[no-untyped-def]
        return make_store()

    def test_dataset_round_trip_and_idempotent(self, st: Store, shop: SyntheticShop) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        first = ingestor.ingest_dataset(shop.dataset)
        counts = st.counts()
        assert counts["items"] == shop.dataset.items.num_rows
        assert counts["events"] == shop.dataset.events.num_rows
        assert counts["users"] == len(shop.truth)
        assert sum(r.accepted for r in first) == counts["items"] + counts["events"]
        again = ingestor.ingest_dataset(shop.dataset)
        assert st.counts() == counts
        assert all(r.accepted == 0 and r.duplicates == r.read for r in again)

    def test_events_come_back_in_time_then_ingestion_order(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(
            _events(
                [
                    ("b", "u", "i2", "view", 1_600_000_100),
                    ("a", "u", "i1", "view", 1_600_000_100),
                    ("c", "u", "i3", "view", 1_600_000_050),
                ]
            ),
            "events",
        )
        got = st.read_events(["event_id", "seq"]).to_pydict()
        assert got["event_id"] == ["c", "b", "a"]
        assert got["seq"] == [3, 1, 2]

    def test_filters_by_type_and_user(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(
            _events(
                [
                    ("1", "u1", "i", "view", 1_600_000_000),
                    ("2", "u2", "i", "purchase", 1_600_000_001),
                    ("3", "u1", "i", "purchase", 1_600_000_002),
                ]
            ),
            "events",
        )
        assert st.read_events(["event_id"], types=["purchase"]).column(0).to_pylist() == ["2", "3"]
        assert st.read_events(["event_id"], user_ids=["u1"]).column(0).to_pylist() == ["1", "3"]
        assert st.read_events(["event_id"], user_ids=[]).num_rows == 0

    def test_item_upsert_counts_updates_and_keeps_one_row(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table([{"item_id": "x", "title": "Old", "price": 3}], "items")
        report = ingestor.ingest_table([{"item_id": "x", "title": "New", "price": 3}], "items")
        assert (report.inserted, report.updated, report.duplicates) == (0, 1, 0)
        rows = st.read_items(["item_id", "title"]).to_pylist()
        assert rows == [{"item_id": "x", "title": "New"}]

    def test_delete_user_removes_everything_of_theirs(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(
            _events([("1", "gone", "i", "view", 1_600_000_000), ("2", "kept", "i", "view", 1_600_000_000)]),
            "events",
        )
        st.write_impressions(
            pa.table(
                {
                    "request_id": ["r1"],
                    "user_id": ["gone"],
                    "timestamp": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
                    "context": ["{}"],
                    "item_ids": [["i"]],
                    "scores": [[1.0]],
                    "arm": [None],
                }
            )
        )
        st.upsert_profiles(
            pa.table(
                {
                    "user_id": ["gone"],
                    "updated_at": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
                    "profile": ["{}"],
                    "vector": pa.array([[0.1, 0.2]], pa.list_(pa.float32())),
                }
            )
        )
        report = st.delete_user("gone")
        assert report.removed == {"events": 1, "users": 1, "profiles": 1, "impressions": 1}
        assert st.read_events(["user_id"]).column(0).to_pylist() == ["kept"]
        assert st.read_profiles(["gone"]).num_rows == 0
        assert st.read_impressions("gone").num_rows == 0

    def test_meta_and_splits(self, st: Store) -> None:
        st.set_meta("k", {"a": [1, 2]})
        assert st.get_meta("k") == {"a": [1, 2]}
        assert st.get_meta("missing", 5) == 5
        st.write_split("given", pa.table({"event_id": ["e1", "e2"], "part": ["train", "test"]}))
        st.write_split("given", pa.table({"event_id": ["e3"], "part": ["valid"]}))
        assert st.read_split("given").to_pylist() == [{"event_id": "e3", "part": "valid"}]
        assert st.list_splits() == ["given"]
