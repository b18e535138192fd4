"""Trends per day and the top items and categories over a date range, from :class:`~.analytics.ShopTables`.

Definitions (per UTC day; "lists" are the recommendation and search lists the service showed):

- **events**, **shoppers**: events stored that day, and the distinct shoppers who sent them;
- **lists shown**: impressions logged that day;
- **CTR**: the share of that day's lists with at least one attributed click or view (so in ``[0, 1]``);
  attributed = sent back with the list's request id, or the same shopper on a shown item within the
  attribution window (the experiments' join);
- **conversion**: the share of that day's shoppers who bought something that day;
- **revenue**: purchase value that day (the event's ``value``, else the item's price);
- **diversity**: the mean Gini-Simpson index of the categories in that day's recommendation lists.

Top items: views (``view`` + ``click`` events), purchases and revenue in the range, times shown in lists and
CTR (attributed clicks / times shown). Items that are not in the catalogue keep their id, flagged ``known =
False`` (the page shows them as plain text, not links).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shelfwise.web.analytics import DateRange, ShopTables
from shelfwise.web.charts import Chart, Series, line_chart

__all__ = ["TOP_SORTS", "DailyRow", "daily", "top_categories", "top_items", "trend_charts"]

TopSort = Literal["revenue", "purchases", "views", "ctr"]
TOP_SORTS: tuple[TopSort, ...] = ("revenue", "purchases", "views", "ctr")
#: Items shown fewer times than this are not ranked by CTR (one view of one showing is 100%).
MIN_SHOWN_FOR_CTR = 10


@dataclass(frozen=True)
class DailyRow:
    """One day's figures (see the module doc); rates are None on a day without their denominator."""

    day: str
    events: int
    shoppers: int
    lists: int
    ctr: float | None
    conversion: float | None
    revenue: float
    diversity: float | None


_DAILY = """
WITH days AS (
    SELECT CAST(d AS DATE) AS day FROM generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY) t(d)
),
e AS (
    SELECT day, count(*) AS events, count(DISTINCT user_id) AS shoppers,
           count(DISTINCT user_id) FILTER (WHERE type IN ('purchase')) AS buyers,
           coalesce(sum(coalesce(value, price, 0)) FILTER (WHERE type IN ('purchase')), 0) AS revenue
    FROM ev WHERE day BETWEEN ? AND ? GROUP BY day
),
i AS (
    SELECT day, count(*) AS lists, count(*) FILTER (WHERE clicked) AS clicked,
           avg(diversity) FILTER (WHERE surface = 'recommend') AS diversity
    FROM imp WHERE day BETWEEN ? AND ? GROUP BY day
)
SELECT days.day, coalesce(e.events, 0) AS events, coalesce(e.shoppers, 0) AS shoppers,
       coalesce(i.lists, 0) AS lists, i.clicked / nullif(i.lists, 0) AS ctr,
       e.buyers / nullif(e.shoppers, 0) AS conversion, coalesce(e.revenue, 0) AS revenue, i.diversity
FROM days LEFT JOIN e USING (day) LEFT JOIN i USING (day) ORDER BY days.day
"""


def daily(tables: ShopTables, span: DateRange) -> list[DailyRow]:
    """One row per day of ``span`` (days without data included, with zero counts)."""
    args = [span.start, span.end] * 3
    return [
        DailyRow(
            day=r["day"].isoformat(),
            events=int(r["events"]),
            shoppers=int(r["shoppers"]),
            lists=int(r["lists"]),
            ctr=None if r["ctr"] is None else float(r["ctr"]),
            conversion=None if r["conversion"] is None else float(r["conversion"]),
            revenue=round(float(r["revenue"]), 2),
            diversity=None if r["diversity"] is None else float(r["diversity"]),
        )
        for r in tables.rows(_DAILY, args)
    ]


def trend_charts(rows: list[DailyRow]) -> list[Chart]:
    """The trend figures: traffic, CTR and conversion, revenue, diversity."""
    days = [r.day for r in rows]
    return [
        line_chart(
            "Traffic per day",
            days,
            [
                Series("events", [r.events for r in rows]),
                Series("shoppers", [r.shoppers for r in rows]),
                Series("lists shown", [r.lists for r in rows]),
            ],
            unit="count",
        ),
        line_chart(
            "CTR and conversion per day",
            days,
            [Series("CTR", [r.ctr for r in rows]), Series("conversion", [r.conversion for r in rows])],
            unit="rate",
        ),
        line_chart("Revenue per day", days, [Series("revenue", [r.revenue for r in rows])], unit="money"),
        line_chart(
            "Diversity of recommendation lists per day",
            days,
            [Series("diversity", [r.diversity for r in rows])],
            unit="rate",
        ),
    ]


_ITEMS = """
WITH e AS (
    SELECT item_id, any_value(known) AS known,
           count(*) FILTER (WHERE type IN ('view', 'click')) AS views,
           count(*) FILTER (WHERE type IN ('purchase')) AS purchases,
           coalesce(sum(coalesce(value, price, 0)) FILTER (WHERE type IN ('purchase')), 0) AS revenue
    FROM ev WHERE day BETWEEN ? AND ? AND item_id IS NOT NULL GROUP BY item_id
),
s AS (SELECT item_id, count(*) AS shown FROM shown WHERE day BETWEEN ? AND ? GROUP BY item_id),
c AS (
    SELECT a.item_id, count(*) AS clicks FROM att a
    WHERE a.type IN ('view', 'click') AND a.day BETWEEN ? AND ? GROUP BY a.item_id
)
SELECT coalesce(e.item_id, s.item_id) AS item_id, i.title, i.category, i.item_id IS NOT NULL AS known,
       coalesce(e.views, 0) AS views, coalesce(e.purchases, 0) AS purchases,
       coalesce(e.revenue, 0) AS revenue, coalesce(s.shown, 0) AS shown, coalesce(c.clicks, 0) AS clicks,
       CASE WHEN s.shown > 0 THEN least(1.0, coalesce(c.clicks, 0) / s.shown) END AS ctr
FROM e FULL JOIN s USING (item_id) LEFT JOIN c ON c.item_id = coalesce(e.item_id, s.item_id)
LEFT JOIN items i ON i.item_id = coalesce(e.item_id, s.item_id)
"""

_ORDER = {
    "revenue": "revenue DESC, purchases DESC, views DESC",
    "purchases": "purchases DESC, revenue DESC, views DESC",
    "views": "views DESC, purchases DESC",
    "ctr": "ctr DESC NULLS LAST, clicks DESC",
}


def top_items(
    tables: ShopTables, span: DateRange, sort: TopSort = "revenue", limit: int = 20
) -> list[dict[str, Any]]:
    """The ``limit`` best items of the range by ``sort`` (ties: the next figures); rows with ``item_id``,
    ``title`` (None when not in the catalogue), ``known``, views, purchases, revenue, shown, clicks, ctr.
    Ranking by CTR needs at least :data:`MIN_SHOWN_FOR_CTR` showings."""
    where = f"WHERE shown >= {MIN_SHOWN_FOR_CTR}" if sort == "ctr" else "WHERE views + purchases + shown > 0"
    sql = f"SELECT * FROM ({_ITEMS}) {where} ORDER BY {_ORDER[sort]}, item_id LIMIT ?"
    args: list[Any] = [span.start, span.end] * 3 + [int(limit)]
    return tables.rows(sql, args)


def top_categories(
    tables: ShopTables, span: DateRange, sort: TopSort = "revenue", limit: int = 15
) -> list[dict[str, Any]]:
    """The same figures per catalogue category (items not in the catalogue: ``(not in the catalogue)``;
    catalogue items without one: ``(no category)``)."""
    sql = f"""
    SELECT CASE WHEN NOT known THEN '(not in the catalogue)' ELSE coalesce(category, '(no category)') END
               AS category,
           sum(views) AS views, sum(purchases) AS purchases, sum(revenue) AS revenue,
           sum(shown) AS shown, sum(clicks) AS clicks,
           CASE WHEN sum(shown) > 0 THEN least(1.0, sum(clicks) / sum(shown)) END AS ctr
    FROM ({_ITEMS}) GROUP BY 1
    HAVING sum(views) + sum(purchases) + sum(shown) > 0 {"AND sum(shown) >= " + str(MIN_SHOWN_FOR_CTR) if sort == "ctr" else ""}
    ORDER BY {_ORDER[sort]}, category LIMIT ?
    """
    args: list[Any] = [span.start, span.end] * 3 + [int(limit)]
    return tables.rows(sql, args)
