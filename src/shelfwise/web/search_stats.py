"""Search analytics over a date range, from :class:`~.analytics.ShopTables`: what shoppers search for, what
finds nothing, and which queries nobody clicks.

A **search** is one search list the service showed (an impression with ``surface = "search"``), its query
normalised (trimmed, lower case). Per query: searches, distinct shoppers, searches with no result, searches
with a result but no attributed click or view, and the click rate (searches with a click / searches with a
result). **Zero-result queries** found nothing at least once; **low-click queries** were shown results at least
``min_searches`` times and never clicked. Search events stored from a shop's own logs (``type = "search"``
with a query) are counted in ``logged`` next to the served searches; they carry no result list, so they enter
no other figure.
"""

from __future__ import annotations

from typing import Any

from shelfwise.web.analytics import DateRange, ShopTables
from shelfwise.web.charts import Chart, Series, line_chart

__all__ = ["low_click_queries", "search_chart", "search_daily", "top_queries", "zero_result_queries"]

_PER_QUERY = """
WITH s AS (
    SELECT query, count(*) AS searches, count(DISTINCT user_id) AS shoppers,
           count(*) FILTER (WHERE n = 0) AS zero,
           count(*) FILTER (WHERE n > 0) AS with_results,
           count(*) FILTER (WHERE n > 0 AND clicked) AS clicked,
           max(day) AS last_day
    FROM imp WHERE surface = 'search' AND query IS NOT NULL AND day BETWEEN ? AND ? GROUP BY query
),
l AS (
    SELECT nullif(lower(trim(query)), '') AS query, count(*) AS logged
    FROM ev WHERE type = 'search' AND day BETWEEN ? AND ? GROUP BY 1
)
SELECT coalesce(s.query, l.query) AS query, coalesce(s.searches, 0) AS searches,
       coalesce(s.shoppers, 0) AS shoppers, coalesce(s.zero, 0) AS zero,
       coalesce(s.with_results, 0) - coalesce(s.clicked, 0) AS unclicked,
       coalesce(s.clicked, 0) AS clicked, s.clicked / nullif(s.with_results, 0) AS ctr,
       coalesce(l.logged, 0) AS logged, s.last_day
FROM s FULL JOIN l ON s.query = l.query
WHERE coalesce(s.query, l.query) IS NOT NULL
"""


def _per_query(
    tables: ShopTables, span: DateRange, where: str, order: str, limit: int
) -> list[dict[str, Any]]:
    sql = f"SELECT * FROM ({_PER_QUERY}) WHERE {where} ORDER BY {order}, query LIMIT ?"
    rows = tables.rows(sql, [span.start, span.end, span.start, span.end, int(limit)])
    for r in rows:
        r["last_day"] = r["last_day"].isoformat() if r["last_day"] is not None else ""
    return rows


def top_queries(tables: ShopTables, span: DateRange, limit: int = 20) -> list[dict[str, Any]]:
    """The most frequent queries (served searches plus logged search events)."""
    return _per_query(tables, span, "true", "searches + logged DESC", limit)


def zero_result_queries(tables: ShopTables, span: DateRange, limit: int = 20) -> list[dict[str, Any]]:
    """Queries that found nothing at least once, most often first."""
    return _per_query(tables, span, "zero > 0", "zero DESC", limit)


def low_click_queries(
    tables: ShopTables, span: DateRange, limit: int = 20, min_searches: int = 1
) -> list[dict[str, Any]]:
    """Queries shown results at least ``min_searches`` times and never clicked, most often first."""
    where = f"clicked = 0 AND unclicked >= {int(min_searches)}"
    return _per_query(tables, span, where, "unclicked DESC", limit)


_DAILY = """
WITH days AS (
    SELECT CAST(d AS DATE) AS day FROM generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY) t(d)
),
s AS (
    SELECT day, count(*) AS searches, count(*) FILTER (WHERE n = 0) AS zero,
           count(*) FILTER (WHERE n > 0 AND NOT clicked) AS unclicked
    FROM imp WHERE surface = 'search' AND day BETWEEN ? AND ? GROUP BY day
)
SELECT days.day, coalesce(searches, 0) AS searches, coalesce(zero, 0) AS zero,
       coalesce(unclicked, 0) AS unclicked
FROM days LEFT JOIN s USING (day) ORDER BY days.day
"""


def search_daily(tables: ShopTables, span: DateRange) -> list[dict[str, Any]]:
    """Per day: searches, searches with no result, searches with results and no click."""
    rows = tables.rows(_DAILY, [span.start, span.end, span.start, span.end])
    for r in rows:
        r["day"] = r["day"].isoformat()
    return rows


def search_chart(rows: list[dict[str, Any]]) -> Chart:
    """Searches per day, with the zero-result and the unclicked ones."""
    return line_chart(
        "Searches per day",
        [r["day"] for r in rows],
        [
            Series("searches", [r["searches"] for r in rows]),
            Series("no result", [r["zero"] for r in rows]),
            Series("results, no click", [r["unclicked"] for r in rows]),
        ],
        unit="count",
    )
