"""The dashboard's pages over time: ``/admin/trends`` (traffic, CTR, conversion, revenue and diversity per
day; top items and categories) and ``/admin/search-analytics`` (top, zero-result and unclicked queries), each
with a date-range selector (``?start=YYYY-MM-DD&end=YYYY-MM-DD``; default: the 30 days up to the newest data).

Admin only (the router's :func:`~shelfwise.web.session.require_admin`). The figures come from
:mod:`shelfwise.web.trends` and :mod:`shelfwise.web.search_stats` over :func:`~shelfwise.web.analytics.shop_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from shelfwise.web.analytics import MAX_AGE_SECONDS, DateRange, ShopTables, shop_tables
from shelfwise.web.charts import Bar, Unit, bar_chart
from shelfwise.web.pages import render
from shelfwise.web.search_stats import (
    low_click_queries,
    search_chart,
    search_daily,
    top_queries,
    zero_result_queries,
)
from shelfwise.web.session import require_admin
from shelfwise.web.shoppers import current_shopper
from shelfwise.web.trends import (
    MIN_SHOWN_FOR_CTR,
    TOP_SORTS,
    TopSort,
    daily,
    top_categories,
    top_items,
    trend_charts,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)])

DateParam = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")]
#: ``?fresh=1``: read the store again now instead of reusing a copy up to a minute old.
FreshParam = Annotated[bool, Query()]
PRESETS = ((7, "last 7 days"), (30, "last 30 days"), (90, "last 90 days"))


@dataclass(frozen=True)
class RangeView:
    """The data, the chosen range and what the range selector shows."""

    tables: ShopTables
    span: DateRange
    data_span: tuple[Any, Any] | None
    presets: list[dict[str, Any]]
    note: str | None
    as_of: str
    refresh_url: str

    def context(self, page: str) -> dict[str, Any]:
        """The template values every range page shares (the header's section, the selector, the note)."""
        return {
            "section": "admin",
            "page": page,
            "notices": [self.note] if self.note else [],
            "span": self.span,
            "data_span": self.data_span,
            "presets": self.presets,
            "as_of": self.as_of,
            "refresh_url": self.refresh_url,
        }


def _range_view(
    request: Request, route: str, start: str | None, end: str | None, fresh: bool, **keep: str
) -> RangeView:
    tables = shop_tables(request.app.state, max_age=0.0 if fresh else MAX_AGE_SECONDS)
    data_span = tables.span()
    latest = data_span[1] if data_span else None
    span, note = DateRange.parse(start, end, latest)
    presets = []
    if latest is not None:
        base = request.url_for(route).path
        options = [(days, label, latest - timedelta(days=days - 1)) for days, label in PRESETS]
        options.append((0, "all", data_span[0] if data_span else latest))
        for _, label, first in options:
            params = {"start": first.isoformat(), "end": latest.isoformat(), **keep}
            presets.append(
                {
                    "label": label,
                    "url": f"{base}?{urlencode(params)}",
                    "current": span.start == first and span.end == latest,
                }
            )
    params = {"start": span.start.isoformat(), "end": span.end.isoformat(), **keep, "fresh": "1"}
    refresh = f"{request.url_for(route).path}?{urlencode(params)}"
    as_of = datetime.fromtimestamp(tables.made_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return RangeView(tables, span, data_span, presets, note, as_of, refresh)


@router.get("/admin/trends", name="web_trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    start: DateParam = None,
    end: DateParam = None,
    sort: TopSort = "revenue",
    fresh: FreshParam = False,
) -> HTMLResponse:
    """Trends per day and the top items and categories of a date range."""
    view = _range_view(request, "web_trends", start, end, fresh, sort=sort)
    rows = daily(view.tables, view.span)
    items = top_items(view.tables, view.span, sort)
    unit: Unit = "money" if sort == "revenue" else "rate" if sort == "ctr" else "count"
    bars = [Bar((r["title"] or r["item_id"])[:28], float(r[sort])) for r in items[:10] if r[sort]]
    settings = request.app.state.settings
    return render(
        request,
        "trends.html",
        current_shopper(request),
        **view.context("web_trends"),
        charts=trend_charts(rows),
        daily=rows,
        sort=sort,
        sorts=TOP_SORTS,
        min_shown=MIN_SHOWN_FOR_CTR,
        items=items,
        top_chart=bar_chart(f"Top items by {sort}", bars, unit=unit) if bars else None,
        categories=top_categories(view.tables, view.span, sort),
        window_hours=round(settings.experiments.attribution_window_seconds / 3600, 1),
    )


@router.get("/admin/search-analytics", name="web_search_analytics", response_class=HTMLResponse)
def search_analytics_page(
    request: Request, start: DateParam = None, end: DateParam = None, fresh: FreshParam = False
) -> HTMLResponse:
    """What shoppers search for, what finds nothing, and which queries nobody clicks, over a date range."""
    view = _range_view(request, "web_search_analytics", start, end, fresh)
    per_day = search_daily(view.tables, view.span)
    return render(
        request,
        "search_analytics.html",
        current_shopper(request),
        **view.context("web_search_analytics"),
        per_day_chart=search_chart(per_day),
        searches=sum(r["searches"] for r in per_day),
        top=top_queries(view.tables, view.span),
        zero=zero_result_queries(view.tables, view.span),
        low_click=low_click_queries(view.tables, view.span),
    )
