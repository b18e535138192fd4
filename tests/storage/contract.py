"""The shared contract every :class:`Store` backend must pass.

A backend's test module subclasses :class:`StoreContract` and provides a ``make_store`` fixture (a callable
that opens the same, initially empty, store each time it is called); nothing else. The checks go through
ingestion, as callers do, and cover every method of :class:`Store`: writes, reads, counts, the catalogue
change log, the deletion log, the event cursor, all-or-nothing batches and reopening.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.schema import EVENT_SCHEMA, ITEM_SCHEMA, TS, USER_SCHEMA
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.storage import Store, ValidatedBatch
from shelfwise.storage.base import QUARANTINE_SCHEMA


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


#: (backend class, contract test) pairs a backend is known to fail, with the reason. They run as strict
#: xfails, so the fix shows up as an unexpected pass (then delete the entry).
KNOWN_GAPS: dict[tuple[str, str], str] = {}


class StoreContract:
    """Behaviour shared by all store backends."""

    @pytest.fixture()
    def st(self, make_store, request: pytest.FixtureRequest) -> Store:  # type: ignore[no-untyped-def]
        store = make_store()
        gap = KNOWN_GAPS.get((type(store).__name__, request.function.__name__))
        if gap:
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=gap))
        return store

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

    # -- every method of the interface, the change logs included -----------------------------------
    def test_read_schemas_match_the_data_model(self, st: Store, shop: SyntheticShop) -> None:
        Ingestor(st, load_settings(environ={})).ingest_dataset(shop.dataset)
        events = st.read_events()
        assert [(f.name, f.type) for f in events.schema] == [(f.name, f.type) for f in EVENT_SCHEMA]
        items = st.read_items()
        assert [(f.name, f.type) for f in items.schema] == [(f.name, f.type) for f in ITEM_SCHEMA]
        assert [(f.name, f.type) for f in st.read_users().schema] == [(f.name, f.type) for f in USER_SCHEMA]
        # the same rows as went in: timestamps to the microsecond, prices exactly
        src = shop.dataset.events.sort_by("event_id")
        got = events.sort_by("event_id")
        assert got.column("event_id").to_pylist() == src.column("event_id").to_pylist()
        seconds = src.column("timestamp").to_pylist()  # the synthetic shop's timestamps are Unix seconds
        assert got.column("timestamp").to_pylist() == [
            dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in seconds
        ]
        src_items = shop.dataset.items.sort_by("item_id")
        assert items.column("price").to_pylist() == src_items.column("price").to_pylist()
        assert items.column("title").to_pylist() == src_items.column("title").to_pylist()
        seqs = events.column("seq").to_pylist()
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
        assert st.max_event_seq() == len(seqs)

    def test_null_and_empty_text_stay_apart(self, st: Store) -> None:
        # straight through write_batch: ingestion normalises "" to null, a store must not
        tricky = 'A, with "quotes"\nand a newline\\N'
        rows = pa.table(
            {
                "item_id": ["a", "b"],
                "title": [tricky, ""],
                "description": ["", None],
                "price": [0.1 + 0.2, None],
                "available": [True, False],
                "updated_at": [dt.datetime(2024, 5, 6, 7, 8, 9, 1, tzinfo=dt.UTC), None],
            }
        )
        full = pa.table(
            [
                rows.column(f.name) if f.name in rows.column_names else pa.nulls(2, f.type)
                for f in ITEM_SCHEMA
            ],
            schema=ITEM_SCHEMA,
        )
        result = st.write_batch(
            ValidatedBatch("items", full, QUARANTINE_SCHEMA.empty_table(), "t", 2, 0, "r1")
        )
        assert (result.inserted, result.new_items) == (2, 2)
        got = st.read_items(["item_id", "title", "description", "price", "available", "updated_at", "brand"])
        assert got.to_pylist() == [
            {
                "item_id": "a",
                "title": tricky,
                "description": "",
                "price": 0.1 + 0.2,
                "available": True,
                "updated_at": dt.datetime(2024, 5, 6, 7, 8, 9, 1, tzinfo=dt.UTC),
                "brand": None,
            },
            {
                "item_id": "b",
                "title": "",
                "description": None,
                "price": None,
                "available": False,
                "updated_at": None,
                "brand": None,
            },
        ]
        again = st.write_batch(
            ValidatedBatch("items", full, QUARANTINE_SCHEMA.empty_table(), "t", 2, 0, "r2")
        )
        assert (again.inserted, again.updated, again.duplicates) == (0, 0, 2)  # "" vs null compared exactly

    def test_read_items_by_id_and_columns(self, st: Store) -> None:
        Ingestor(st, load_settings(environ={})).ingest_table(
            [{"item_id": i, "title": i.upper(), "price": n} for n, i in enumerate(["c", "a", "b"], 1)],
            "items",
        )
        assert st.read_items(["item_id"]).column(0).to_pylist() == ["a", "b", "c"]
        got = st.read_items(["price", "item_id"], item_ids=["c", "a", "missing"])
        assert got.column_names == ["price", "item_id"]
        assert got.to_pylist() == [{"price": 2.0, "item_id": "a"}, {"price": 1.0, "item_id": "c"}]
        assert st.read_items(item_ids=[]).num_rows == 0

    def test_ids_sort_byte_wise_whatever_the_locale(self, st: Store) -> None:
        ids = ["b", "B", "_x", "a", "Z10", "Z9", "é"]
        Ingestor(st, load_settings(environ={})).ingest_table([{"item_id": i} for i in ids], "items")
        assert st.read_items(["item_id"]).column(0).to_pylist() == sorted(ids)  # code-point order

    def test_catalogue_change_log_follows_inserts_and_changes(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        assert st.catalogue_seq() == 0
        assert st.read_catalogue_changes().num_rows == 0
        ingestor.ingest_table([{"item_id": "x", "title": "X"}, {"item_id": "y", "title": "Y"}], "items")
        first = st.catalogue_seq()
        assert st.read_catalogue_changes().to_pylist() == [
            {"seq": 1, "item_id": "x"},
            {"seq": 2, "item_id": "y"},
        ]
        # identical rows are no change; a changed one and a new one are, in batch order
        ingestor.ingest_table(
            [{"item_id": "z", "title": "Z"}, {"item_id": "x", "title": "X"}, {"item_id": "y", "title": "Y2"}],
            "items",
        )
        assert st.read_catalogue_changes(after_seq=first).to_pylist() == [
            {"seq": 3, "item_id": "z"},
            {"seq": 4, "item_id": "y"},
        ]
        assert st.catalogue_seq() == 4
        assert st.read_catalogue_changes(after_seq=4).num_rows == 0

    def test_read_events_after_seq_is_a_change_feed(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        assert st.max_event_seq() == 0
        ingestor.ingest_table(_events([("1", "u", "i", "view", 1_600_000_010)]), "events")
        cursor = st.max_event_seq()
        report = ingestor.ingest_table(
            _events([("1", "u", "i", "view", 1_600_000_010), ("2", "u", "i", "click", 1_600_000_000)]),
            "events",
        )
        assert (report.inserted, report.duplicates) == (1, 1)
        new = st.read_events(["event_id", "seq"], after_seq=cursor).to_pylist()
        assert [r["event_id"] for r in new] == ["2"]
        assert new[0]["seq"] > cursor
        assert st.max_event_seq() == new[0]["seq"]
        assert st.read_events(["event_id"], after_seq=st.max_event_seq()).num_rows == 0
        assert st.read_events(["event_id"], types=["click"], user_ids=["u"], after_seq=0).num_rows == 1

    def test_deletion_log_keeps_digests_never_ids(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(
            _events([("1", "alice", "i", "view", 1_600_000_000), ("2", "bob", "i", "view", 1_600_000_000)]),
            "events",
        )
        assert st.deletion_seq() == 0
        st.delete_user("alice")
        st.delete_user("bob")
        log = st.read_deletions().to_pylist()
        assert [r["seq"] for r in log] == [1, 2]
        assert [r["user_digest"] for r in log] == [st.user_digest("alice"), st.user_digest("bob")]
        assert st.user_digest("alice") != st.user_digest("bob")
        assert all("alice" not in r["user_digest"] and len(r["user_digest"]) == 64 for r in log)
        assert st.read_deletions(after_seq=1).column("seq").to_pylist() == [2]
        assert st.deletion_seq() == 2
        assert st.read_users().num_rows == 0
        assert st.counts()["events"] == 0

    def test_users_upsert_and_judgements_dedupe(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table([{"user_id": "u1", "attributes": '{"a": 1}'}, {"user_id": "u2"}], "users")
        again = ingestor.ingest_table(
            [{"user_id": "u1", "attributes": '{"a": 2}'}, {"user_id": "u2"}], "users"
        )
        assert (again.inserted, again.updated, again.duplicates) == (0, 1, 1)
        users = st.read_users().to_pylist()
        assert [u["user_id"] for u in users] == ["u1", "u2"]
        assert users[0]["attributes"] is not None and "2" in users[0]["attributes"]
        judged = [
            {"query": "red shoe", "item_id": "i1", "relevance": 3},
            {"query": "red shoe", "item_id": "i2", "relevance": 1},
        ]
        first = ingestor.ingest_table(judged, "judgements")
        assert first.inserted == 2
        second = ingestor.ingest_table(judged, "judgements")
        assert (second.inserted, second.duplicates) == (0, 2)
        j = st.read_judgements()
        assert j.column_names == ["judgement_id", "query", "item_id", "relevance"]
        assert j.select(["item_id", "relevance"]).to_pylist() == [
            {"item_id": "i1", "relevance": 3.0},
            {"item_id": "i2", "relevance": 1.0},
        ]
        counts = st.counts()
        assert (counts["judgements"], counts["queries"]) == (2, 1)

    def test_judged_products_join_the_catalogue(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table([{"item_id": "i1", "title": "Red shoe (catalogue)"}], "items")
        judged = [
            {"query": "red shoe", "item_id": "i1", "title": "Red shoe", "relevance": 3},
            {"query": "red shoe", "item_id": "i2", "title": "Blue shoe", "relevance": 1},
        ]
        first = ingestor.ingest_table(judged, "judgements")
        assert (first.inserted, first.new_items) == (2, 1)  # i1 is known: the catalogue row is kept
        assert st.read_items(["item_id", "title"]).to_pylist() == [
            {"item_id": "i1", "title": "Red shoe (catalogue)"},
            {"item_id": "i2", "title": "Blue shoe"},
        ]
        assert st.read_catalogue_changes().column("item_id").to_pylist() == ["i1", "i2"]
        second = ingestor.ingest_table(judged, "judgements")
        assert (second.inserted, second.duplicates, second.new_items) == (0, 2, 0)

    def test_quarantine_runs_and_counts(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        report = ingestor.ingest_table(
            [
                {"event_id": "1", "user_id": "u", "item_id": "i", "type": "view", "timestamp": 1_600_000_000},
                {
                    "event_id": "2",
                    "user_id": "u",
                    "item_id": "i",
                    "type": "teleport",
                    "timestamp": 1_600_000_000,
                },
                {
                    "event_id": "3",
                    "user_id": "u",
                    "item_id": "i",
                    "type": "purchase",
                    "timestamp": 1_600_000_001,
                },
            ],
            "events",
        )
        assert report.quarantined == 1
        q = st.read_quarantine(report.run_id).to_pylist()
        assert len(q) == 1 and q[0]["line"] == 2 and "teleport" in q[0]["reason"] and q[0]["kind"] == "events"
        assert st.read_quarantine("no-such-run").num_rows == 0
        assert st.read_quarantine().num_rows == 1
        runs = st.read_runs().to_pylist()
        assert [(r["run_id"], r["read"], r["accepted"], r["quarantined"]) for r in runs] == [
            (report.run_id, 3, 2, 1)
        ]
        counts = st.counts()
        assert counts["quarantined"] == 1
        assert (counts["events_view"], counts["events_purchase"], counts["users_with_events"]) == (1, 1, 1)

    def test_deletion_reaches_quarantine_and_splits_and_is_erased(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        rows = [
            {"event_id": "a1", "user_id": "gone", "item_id": "i", "type": "view", "timestamp": 1_600_000_000},
            {
                "event_id": "a2",
                "user_id": "gone",
                "item_id": "i",
                "type": "teleport",
                "timestamp": 1_600_000_001,
            },
            {
                "event_id": "b1",
                "user_id": "stays",
                "item_id": "i",
                "type": "teleport",
                "timestamp": 1_600_000_002,
            },
            {
                "event_id": "b2",
                "user_id": "stays",
                "item_id": "i",
                "type": "view",
                "timestamp": 1_600_000_003,
            },
        ]
        ingestor.ingest_table(rows, "events")
        st.write_split("given", pa.table({"event_id": ["a1", "b2"], "part": ["train", "test"]}))
        assert st.erase_deleted().rewritten is False  # nothing pending yet
        report = st.delete_user("gone")
        assert (
            report.removed["events"] == 1
            and report.removed["quarantine"] == 1
            and report.removed["splits"] == 1
        )
        assert [json.loads(r["raw"])["user_id"] for r in st.read_quarantine().to_pylist()] == ["stays"]
        assert st.read_split("given").column("event_id").to_pylist() == ["b2"]
        erased = st.erase_deleted()
        assert erased.rewritten and erased.deletions == 1
        assert st.erase_deleted().rewritten is False  # done once, not again

    def test_a_failing_batch_changes_nothing(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(_events([("1", "u", "i", "view", 1_600_000_000)]), "events")
        before = (st.counts(), st.max_event_seq(), st.read_runs().num_rows)
        rows = _events([("2", "new-user", "i", "view", 1_600_000_001)])
        rows = pa.table(
            {
                **{c: rows.column(c) for c in rows.column_names if c != "timestamp"},
                "value": pa.nulls(1, pa.float64()),
                "query": pa.nulls(1, pa.string()),
                "timestamp": pa.array([1_600_000_001_000_000], TS),
                "session_id": pa.nulls(1, pa.string()),
                "request_id": pa.nulls(1, pa.string()),
            }
        ).select([f.name for f in EVENT_SCHEMA if f.name != "seq"])
        broken = ValidatedBatch(  # rows fine, quarantine malformed: the failure comes after the rows went in
            kind="events",
            rows=rows,
            quarantine=pa.table({"nonsense": [1]}),
            source="test",
            read=1,
            batch_duplicates=0,
            run_id="r-broken",
        )
        with pytest.raises(Exception):  # noqa: B017 - the backend's own error type
            st.write_batch(broken)
        assert (st.counts(), st.max_event_seq(), st.read_runs().num_rows) == before
        assert st.read_events(["event_id"]).column(0).to_pylist() == ["1"]
        ok = ValidatedBatch("events", rows, QUARANTINE_SCHEMA.empty_table(), "test", 1, 0, "r-ok")
        assert st.write_batch(ok).inserted == 1  # the store is still writable

    def test_impressions_and_profiles_round_trip(self, st: Store) -> None:
        when = dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
        imp = pa.table(
            {
                "request_id": ["r1", "r2"],
                "user_id": ["u1", None],
                "timestamp": [when, when + dt.timedelta(seconds=1)],
                "context": ['{"slot": "home"}', "{}"],
                "item_ids": [["a", "b"], ["c"]],
                "scores": [[0.5, 0.25], None],
                "arm": ["B", None],
            }
        )
        assert st.write_impressions(imp) == 2
        assert st.write_impressions(imp) == 0  # duplicates by request_id
        got = st.read_impressions().to_pylist()
        assert [(r["request_id"], r["item_ids"], r["scores"], r["arm"]) for r in got] == [
            ("r1", ["a", "b"], [0.5, 0.25], "B"),
            ("r2", ["c"], None, None),
        ]
        assert got[0]["timestamp"] == when
        assert st.read_impressions("u1").column("request_id").to_pylist() == ["r1"]

        def profiles(vec: list[float], note: str) -> pa.Table:
            return pa.table(
                {
                    "user_id": ["u1", "u2"],
                    "updated_at": [when, when],
                    "profile": [note, "{}"],
                    "vector": pa.array([vec, [0.0]], pa.list_(pa.float32())),
                }
            )

        assert st.upsert_profiles(profiles([0.5, 0.25], '{"v": 1}')) == 2
        st.upsert_profiles(profiles([1.5, -2.0], '{"v": 2}'))
        got = st.read_profiles(["u1"]).to_pylist()
        assert [(r["user_id"], r["profile"], r["vector"]) for r in got] == [("u1", '{"v": 2}', [1.5, -2.0])]
        assert st.read_profiles().column("user_id").to_pylist() == ["u1", "u2"]
        assert st.read_profiles([]).num_rows == 0
        assert st.counts()["profiles"] == 2 and st.counts()["impressions"] == 2

    def test_consent_is_stored_logged_and_followed(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        ingestor.ingest_table(
            [{"user_id": "u1", "consent": '{"training": false}'}, {"user_id": "u2"}], "users"
        )
        assert st.consent_seq() == 1  # the row with a record; u2 has none (the default applies)
        assert st.read_consent_changes().select(["seq", "user_id"]).to_pylist() == [
            {"seq": 1, "user_id": "u1"}
        ]
        when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        st.upsert_profiles(
            pa.table(
                {
                    "user_id": ["u2", "u3"],
                    "updated_at": [when, when],
                    "profile": ["{}", "{}"],
                    "vector": pa.array([[0.0], [0.0]], pa.list_(pa.float32())),
                }
            )
        )
        seq = st.set_consent("u2", '{"personalisation": false}')
        assert seq == 2 and st.consent_seq() == 2
        assert st.set_consent("u3", '{"analytics": false}') == 3  # a new shopper gets a user row
        changes = st.read_consent_changes(after_seq=1).to_pylist()
        assert [(r["seq"], r["user_id"], r["consent"]) for r in changes] == [
            (2, "u2", '{"personalisation": false}'),
            (3, "u3", '{"analytics": false}'),
        ]
        assert st.read_profiles().column("user_id").to_pylist() == ["u3"]  # withdrawn: profile gone
        users = {u["user_id"]: u["consent"] for u in st.read_users().to_pylist()}
        assert users == {
            "u1": '{"training": false}',
            "u2": '{"personalisation": false}',
            "u3": '{"analytics": false}',
        }
        st.delete_user("u2")
        assert [r["user_id"] for r in st.read_consent_changes().to_pylist()] == ["u1", "u3"]

    def test_purge_before_removes_old_rows_of_each_kind(self, st: Store) -> None:
        ingestor = Ingestor(st, load_settings(environ={}))
        old, new = 1_600_000_000, 1_700_000_000
        report = ingestor.ingest_table(
            [
                {"event_id": e, "user_id": "u", "item_id": i, "type": t, "query": q, "timestamp": ts}
                for e, i, t, q, ts in (
                    ("o1", "i", "view", None, old),
                    ("o2", None, "search", "old query", old + 1),
                    ("n1", "i", "view", None, new),
                    ("n2", None, "search", "new query", new),
                    ("q", "i", "teleport", None, new),
                )
            ],
            "events",
        )
        assert report.quarantined == 1
        st.write_split("given", pa.table({"event_id": ["o1", "n1"], "part": ["train", "test"]}))
        when = dt.datetime.fromtimestamp(old, dt.UTC)
        imp = pa.table(
            {
                "request_id": ["r-old", "r-new"],
                "user_id": ["u", "u"],
                "timestamp": [when, dt.datetime.fromtimestamp(new, dt.UTC)],
                "context": ["{}", "{}"],
                "item_ids": [["i"], ["i"]],
                "scores": [[1.0], [1.0]],
                "arm": [None, None],
            }
        )
        st.write_impressions(imp)
        cutoff = dt.datetime.fromtimestamp((old + new) // 2, dt.UTC)
        assert st.purge_before("search_logs", cutoff, dry_run=True) == 1
        assert st.read_events(["event_id"]).num_rows == 4  # a dry run changes nothing
        assert st.purge_before("search_logs", cutoff) == 1
        assert st.read_events(["event_id"]).column(0).to_pylist() == ["o1", "n1", "n2"]
        assert st.purge_before("events", cutoff) == 1
        assert st.read_events(["event_id"]).column(0).to_pylist() == ["n1", "n2"]
        assert st.read_split("given").column("event_id").to_pylist() == ["n1"]
        assert st.purge_before("impressions", cutoff) == 1
        assert st.read_impressions().column("request_id").to_pylist() == ["r-new"]
        assert st.purge_before("quarantine", cutoff) == 0  # quarantined now: newer than the cutoff
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        assert st.purge_before("quarantine", later, dry_run=True) == 1
        assert st.purge_before("quarantine", later) == 1
        assert st.read_quarantine().num_rows == 0
        with pytest.raises(ValueError, match="retention kind"):
            st.purge_before("nonsense", cutoff)  # type: ignore[arg-type]

    def test_meta_overwrites_and_artifacts_have_a_home(self, st: Store) -> None:
        st.set_meta("k", 1)
        st.set_meta("k", [1, "two"])
        assert st.get_meta("k") == [1, "two"]
        assert st.artifacts.names() == []
        assert st.read_split("absent").num_rows == 0
        assert st.url

    def test_reopen_keeps_everything(self, make_store) -> None:  # type: ignore[no-untyped-def]
        with make_store() as st:
            Ingestor(st, load_settings(environ={})).ingest_table(
                _events([("1", "u", "i", "view", 1_600_000_000)]), "events"
            )
            st.set_meta("k", "v")
            counts = st.counts()
        with make_store() as st:
            assert st.counts() == counts
            assert st.get_meta("k") == "v"
            assert st.max_event_seq() == 1
