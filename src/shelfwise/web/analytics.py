"""The store's activity as tables the dashboard can ask questions of: events, impressions and the catalogue
copied once into an in-memory DuckDB (read through the :class:`~shelfwise.storage.Store` interface, so the same
code serves DuckDB and PostgreSQL stores), with every interaction attributed to the list that led to it
(:func:`shelfwise.experiments.attribution.attribute`, the experiments' own join).

Tables (all days are UTC dates):

- ``ev``: events with ``day`` and the item's ``price`` / ``category`` (null when the item is not in the
  catalogue) and ``known`` (whether it is);
- ``imp``: one row per shown list: ``request_id, user_id, day, surface`` (``recommend`` / ``search``),
  ``query`` (normalised: trimmed, lower case), ``n`` (items shown), ``clicked`` (at least one attributed
  ``click`` / ``view``), ``diversity`` (Gini-Simpson index of the list's categories, as the experiments
  measure it: the chance that two items of the list differ; null below two items);
- ``shown``: one row per item of each list (``request_id, day, item_id, position``);
- ``att``: attributed interactions (``request_id, item_id, type, day``);
- ``items``: the catalogue (``item_id, title, category, brand, price``).

:func:`shop_tables` keeps one copy per app, made again when the store has new events, impressions or
catalogue changes and the copy is older than :data:`MAX_AGE_SECONDS` (a copy of Beauty's 198,502 events and
26,340 lists takes about 4-7 s on a loaded 2-core machine; the pages' queries on it about 1 s).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

__all__ = ["CLICK_TYPES", "MAX_AGE_SECONDS", "PURCHASE_TYPES", "DateRange", "ShopTables", "shop_tables"]

log = logging.getLogger(__name__)

CLICK_TYPES = ("click", "view")
PURCHASE_TYPES = ("purchase",)
#: The longest range a page will aggregate over (a bad URL must not ask for a century of days).
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class DateRange:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the range covers."""
        return (self.end - self.start).days + 1

    def labels(self) -> list[str]:
        """Every day of the range as ``YYYY-MM-DD``."""
        return [(self.start + timedelta(days=d)).isoformat() for d in range(self.days)]

    @classmethod
    def parse(
        cls, start: str | None, end: str | None, latest: date | None, default_days: int = 30
    ) -> tuple[DateRange, str | None]:
        """The range a page asked for (``YYYY-MM-DD`` strings, either may be empty), else the ``default_days``
        up to ``latest`` (the newest day with data; today when the store is empty); a note saying what was
        wrong with the request, if anything."""
        last = latest or date.today()
        default = cls(last - timedelta(days=default_days - 1), last)
        if not start and not end:
            return default, None
        try:
            e = date.fromisoformat(end) if end else last
            s = date.fromisoformat(start) if start else e - timedelta(days=default_days - 1)
        except ValueError:
            return (
                default,
                f"Dates must look like 2024-05-31 (got {start or ''!r} to {end or ''!r}): showing the last {default_days} days.",
            )
        if s > e:
            return (
                default,
                f"The range starts ({s}) after it ends ({e}): showing the last {default_days} days.",
            )
        if (e - s).days + 1 > MAX_DAYS:
            return cls(
                e - timedelta(days=MAX_DAYS - 1), e
            ), f"Ranges are at most {MAX_DAYS} days: showing the last {MAX_DAYS} up to {e}."
        return cls(s, e), None


_SETUP = [
    """CREATE TABLE items AS SELECT item_id, title, category, brand, price FROM items_raw""",
    """CREATE TABLE ev AS
       SELECT e.event_id, e.user_id, e.item_id, e.type, e.value, e.query, e.request_id,
              CAST(e.timestamp AS DATE) AS day, i.price, i.category, i.item_id IS NOT NULL AS known
       FROM ev_raw e LEFT JOIN items i USING (item_id)""",
    """CREATE TABLE att AS
       SELECT request_id, item_id, type, CAST(timestamp AS DATE) AS day FROM att_raw""",
    """CREATE TABLE shown AS
       SELECT request_id, CAST(timestamp AS DATE) AS day, unnest(item_ids) AS item_id,
              generate_subscripts(item_ids, 1) AS position
       FROM imp_raw""",
    """CREATE TABLE imp AS
       WITH cats AS (
           SELECT s.request_id, coalesce(i.category, '?' || s.item_id) AS cat, count(*) AS c
           FROM shown s LEFT JOIN items i USING (item_id) GROUP BY ALL
       ),
       div AS (
           SELECT request_id, sum(c) AS n, sum(c * (c - 1)) AS same FROM cats GROUP BY request_id
       ),
       clicked AS (
           SELECT DISTINCT request_id FROM att WHERE type IN ('click', 'view')
       )
       SELECT r.request_id, r.user_id, CAST(r.timestamp AS DATE) AS day,
              coalesce(json_extract_string(r.context, '$.surface'), 'recommend') AS surface,
              nullif(lower(trim(json_extract_string(r.context, '$.query'))), '') AS query,
              len(r.item_ids) AS n,
              r.request_id IN (SELECT request_id FROM clicked) AS clicked,
              CASE WHEN d.n >= 2 THEN 1 - d.same / (d.n * (d.n - 1)) END AS diversity
       FROM imp_raw r LEFT JOIN div d USING (request_id)""",
]


class ShopTables:
    """One in-memory copy of a store's activity (see the module doc); queries are serialised by a lock.

    Args:
        store: any :class:`~shelfwise.storage.Store`.
        window_seconds: how long after a list an interaction without its request id still counts for it.
    """

    def __init__(self, store: Any, window_seconds: float = 86_400.0) -> None:
        from shelfwise.experiments.attribution import attribute

        events = store.read_events(
            ["event_id", "user_id", "item_id", "type", "value", "query", "timestamp", "request_id"]
        )
        impressions = store.read_impressions()
        items = store.read_items(["item_id", "title", "category", "brand", "price"])
        attributed = attribute(impressions, events, window_seconds)
        self._lock = threading.Lock()
        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        for name, table in (
            ("ev_raw", events),
            ("imp_raw", impressions),
            ("items_raw", items),
            ("att_raw", attributed),
        ):
            con.register(name, table)
        for sql in _SETUP:
            con.execute(sql)
        for name in ("ev_raw", "imp_raw", "items_raw", "att_raw"):
            con.unregister(name)
        self._con = con
        self.made_at = time.time()
        log.debug(
            "dashboard tables: %d events, %d lists, %d attributed",
            events.num_rows,
            impressions.num_rows,
            attributed.num_rows,
        )

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """The result of ``sql`` as dicts (column name -> value)."""
        with self._lock:
            cur = self._con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def span(self) -> tuple[date, date] | None:
        """The first and last day with an event or a shown list; None when the store has neither."""
        row = self.rows(
            "SELECT min(day) AS lo, max(day) AS hi FROM (SELECT day FROM ev UNION ALL SELECT day FROM imp)"
        )[0]
        return (row["lo"], row["hi"]) if row["lo"] is not None else None

    def close(self) -> None:
        """Free the copy."""
        with self._lock:
            self._con.close()


_CACHE_LOCK = threading.Lock()
#: A copy younger than this is reused even when the store has changed since (a busy shop changes every
#: second; the copy of a large store takes seconds to make). The pages say when their figures are from.
MAX_AGE_SECONDS = 60.0


def _version(store: Any) -> tuple[Any, ...]:
    counts = store.counts()
    return (
        store.max_event_seq(),
        store.catalogue_seq(),
        counts.get("impressions", 0),
        counts.get("items", 0),
    )


def shop_tables(state: Any, max_age: float = MAX_AGE_SECONDS) -> ShopTables:
    """The app's :class:`ShopTables` (kept on ``state.web_tables``): made again when the store changed since
    the last one was made and that one is older than ``max_age`` seconds."""
    store = state.store
    settings = getattr(state, "settings", None)
    window = settings.experiments.attribution_window_seconds if settings is not None else 86_400.0
    with _CACHE_LOCK:
        cached = getattr(state, "web_tables", None)
        if cached is not None and time.time() - cached[1].made_at < max_age:
            return cached[1]
        version = _version(store)
        if cached is not None and cached[0] == version:
            cached[1].made_at = time.time()
            return cached[1]
        tables = ShopTables(store, window)  # the old copy goes when the last page using it is done
        state.web_tables = (version, tables)
        return tables
