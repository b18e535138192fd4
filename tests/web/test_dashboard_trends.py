"""The dashboard's trend, top-item and search-analytics queries on a small shop with known counts, on a DuckDB
store and (when ``SHELFWISE_TEST_POSTGRES`` is set) on a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.schema import IMPRESSION_SCHEMA
from shelfwise.storage import Store, open_store
from shelfwise.web.analytics import DateRange, ShopTables
from shelfwise.web.search_stats import low_click_queries, search_daily, top_queries, zero_result_queries
from shelfwise.web.trends import daily, top_categories, top_items, trend_charts

PG_URL = os.environ.get("SHELFWISE_TEST_POSTGRES")

ITEMS = [
    {"item_id": "a", "title": "Duct tape", "category": "Home > Tape", "price": 10.0},
    {"item_id": "b", "title": "Wood glue", "category": "Home > Glue", "price": 20.0},
    {"item_id": "c", "title": "Red lipstick", "category": "Beauty > Lips", "price": 5.0},
    {"item_id": "d", "title": "Super glue", "category": "Home > Glue", "price": 4.0},
]
# (event_id, user, item, type, value, query, time, request_id)
EVENTS = [
    ("e1", "u1", "a", "click", None, None, "2024-03-01T09:01:00Z", "r1"),
    ("e2", "u1", "a", "purchase", None, None, "2024-03-01T09:30:00Z", None),
    ("e3", "u2", "d", "view", None, None, "2024-03-01T10:05:00Z", None),  # attributed to r2 by user+item+time
    ("e4", "u1", "a", "click", None, None, "2024-03-02T08:01:00Z", "r3"),
    ("e5", "u3", "x", "purchase", 7.5, None, "2024-03-02T12:00:00Z", None),  # not in the catalogue
    ("e6", "u4", None, "search", None, "Tape", "2024-03-02T13:00:00Z", None),
]
# (request_id, user, time, surface, query, items)
LISTS = [
    ("r1", "u1", "2024-03-01T09:00:00Z", "recommend", None, ["a", "b"]),  # two categories: diversity 1
    ("r2", "u2", "2024-03-01T10:00:00Z", "recommend", None, ["b", "d"]),  # one category: diversity 0
    ("r3", "u1", "2024-03-02T08:00:00Z", "search", "Tape ", ["a"]),
    ("r4", "u3", "2024-03-02T09:00:00Z", "search", "glue", []),
    ("r5", "u2", "2024-03-02T11:00:00Z", "search", "tape", ["a", "b"]),
    ("r6", "u4", "2024-03-02T14:00:00Z", "search", "red lipstick", ["c"]),
]
SPAN = DateRange(date(2024, 3, 1), date(2024, 3, 3))


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _fill(st: Store) -> None:
    ingestor = Ingestor(st, load_settings(environ={}))
    ingestor.ingest_table(ITEMS, "items")
    cols = ("event_id", "user_id", "item_id", "type", "value", "query", "timestamp", "request_id")
    report = ingestor.ingest_table([dict(zip(cols, e, strict=True)) for e in EVENTS], "events")
    assert report.quarantined == 0, report
    rows = [
        {
            "request_id": rid,
            "user_id": user,
            "timestamp": _ts(when),
            "context": f'{{"surface":"{surface}"' + (f',"query":"{query}"' if query else "") + "}",
            "item_ids": items,
            "scores": [1.0] * len(items),
            "arm": None,
        }
        for rid, user, when, surface, query, items in LISTS
    ]
    st.write_impressions(pa.Table.from_pylist(rows, schema=IMPRESSION_SCHEMA))


def _pg_url() -> Iterator[str]:
    import psycopg

    assert PG_URL
    name = f"sw_he_trends_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(PG_URL)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    with psycopg.connect(
        urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, "")), autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def tables(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopTables]:
    folder: Path = tmp_path_factory.mktemp("trends")
    if request.param == "duckdb":
        with open_store(folder / "store") as st:
            _fill(st)
            yield ShopTables(st)
        return
    if not PG_URL:
        pytest.skip(
            'PostgreSQL not available: run `eval "$(bash scripts/dev_services.sh start)"` '
            "(exports SHELFWISE_TEST_POSTGRES)"
        )
    gen = _pg_url()
    url = next(gen)
    try:
        with open_store(f"{url}?artifacts={folder / 'artifacts'}") as st:
            _fill(st)
            yield ShopTables(st)
    finally:
        next(gen, None)


def test_daily_trends_count_what_happened_each_day(tables: ShopTables) -> None:
    rows = daily(tables, SPAN)
    assert [r.day for r in rows] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    d1, d2, d3 = rows
    assert (d1.events, d1.shoppers, d1.lists) == (3, 2, 2)
    assert d1.ctr == 1.0  # r1 by its request id, r2 by the same shopper viewing a shown item
    assert d1.conversion == 0.5 and d1.revenue == 10.0  # the item's price when the event has no value
    assert d1.diversity == pytest.approx(0.5)
    assert (d2.events, d2.shoppers, d2.lists) == (3, 3, 4)
    assert d2.ctr == pytest.approx(0.25) and d2.conversion == pytest.approx(1 / 3)
    assert d2.revenue == 7.5 and d2.diversity is None  # no recommendation list that day
    assert (d3.events, d3.lists, d3.ctr, d3.conversion, d3.revenue) == (0, 0, None, None, 0.0)


def test_trend_charts_have_axes_that_fit_their_data(tables: ShopTables) -> None:
    traffic, rates, revenue, diversity = trend_charts(daily(tables, SPAN))
    assert (traffic.axis.low, traffic.axis.high) == (0.0, 4.0)
    assert (rates.axis.low, rates.axis.high) == (0.0, 1.0)
    assert (revenue.axis.low, revenue.axis.high) == (0.0, 10.0)
    assert (diversity.axis.low, diversity.axis.high) == (0.0, 0.5)
    assert rates.to_json()["series"][0]["values"] == [1.0, 0.25, None]


def test_top_items_rank_by_revenue_and_flag_items_missing_from_the_catalogue(tables: ShopTables) -> None:
    rows = top_items(tables, SPAN, "revenue")
    assert [r["item_id"] for r in rows] == ["a", "x", "d", "b", "c"]
    a, x = rows[0], rows[1]
    assert (a["views"], a["purchases"], a["revenue"], a["shown"], a["clicks"]) == (2, 1, 10.0, 3, 2)
    assert a["ctr"] == pytest.approx(2 / 3) and a["known"] and a["title"] == "Duct tape"
    assert not x["known"] and x["title"] is None and x["revenue"] == 7.5 and x["ctr"] is None
    assert [r["item_id"] for r in top_items(tables, SPAN, "views", limit=2)] == ["a", "d"]
    assert top_items(tables, SPAN, "ctr") == []  # nothing was shown ten times
    only_day2 = top_items(tables, DateRange(date(2024, 3, 2), date(2024, 3, 2)), "revenue")
    assert (
        only_day2[0]["item_id"] == "x" and next(r for r in only_day2 if r["item_id"] == "a")["revenue"] == 0
    )


def test_top_categories_sum_their_items(tables: ShopTables) -> None:
    rows = top_categories(tables, SPAN, "revenue")
    assert [r["category"] for r in rows] == [
        "Home > Tape",
        "(not in the catalogue)",
        "Home > Glue",
        "Beauty > Lips",
    ]
    glue = rows[2]
    assert (glue["views"], glue["shown"], glue["clicks"]) == (1, 4, 1)  # b shown 3 times, d once
    assert glue["ctr"] == pytest.approx(1 / 4)


def test_search_analytics_find_top_zero_result_and_unclicked_queries(tables: ShopTables) -> None:
    top = top_queries(tables, SPAN)
    assert [r["query"] for r in top] == ["tape", "glue", "red lipstick"]
    tape = top[0]
    assert (tape["searches"], tape["shoppers"], tape["clicked"], tape["unclicked"], tape["logged"]) == (
        2,
        2,
        1,
        1,
        1,
    )
    assert tape["ctr"] == 0.5
    assert [(r["query"], r["zero"]) for r in zero_result_queries(tables, SPAN)] == [("glue", 1)]
    assert [(r["query"], r["unclicked"]) for r in low_click_queries(tables, SPAN)] == [("red lipstick", 1)]
    per_day = search_daily(tables, SPAN)
    assert [(r["searches"], r["zero"], r["unclicked"]) for r in per_day] == [(0, 0, 0), (4, 1, 2), (0, 0, 0)]
    assert tables.span() == (date(2024, 3, 1), date(2024, 3, 2))


def test_date_ranges_default_to_the_latest_data_and_say_what_was_wrong() -> None:
    latest = date(2024, 3, 2)
    span, note = DateRange.parse(None, None, latest)
    assert (span.start, span.end, note) == (date(2024, 2, 2), latest, None)
    span, note = DateRange.parse("2024-03-05", "2024-03-01", latest)
    assert span.end == latest and "starts" in (note or "")
    span, note = DateRange.parse("yesterday", "", latest)
    assert span.days == 30 and "2024-05-31" in (note or "")
    span, _ = DateRange.parse("2024-03-01", "2024-03-02", latest)
    assert span.labels() == ["2024-03-01", "2024-03-02"]
