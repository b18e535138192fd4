"""Join interactions to the impressions that led to them (the metarank join: rankings x interactions).

An interaction is attributed to an impression when

1. it carries the impression's ``request_id`` and its item was in that list (direct), or else
2. the same user was shown the item at most ``window_seconds`` before it (the latest such impression).

Each interaction is attributed at most once. The result is the training data of a ranker (what was shown,
at which position, what followed) and the outcome table of an experiment.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

ATTRIBUTED_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("arm", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("position", pa.int64()),
        pa.field("type", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("timestamp", pa.timestamp("us", tz="UTC")),
        pa.field("direct", pa.bool_()),
    ]
)


def attribute(impressions: pa.Table, events: pa.Table, window_seconds: float = 86_400.0) -> pa.Table:
    """Attributed interactions (:data:`ATTRIBUTED_SCHEMA`), one row per attributed event.

    Args:
        impressions: ``request_id, user_id, timestamp, item_ids, arm`` (the store's impression table).
        events: ``event_id, user_id, item_id, type, value, timestamp, request_id``.
        window_seconds: how long after an impression an undirected interaction still counts for it.
    """
    if impressions.num_rows == 0 or events.num_rows == 0:
        return ATTRIBUTED_SCHEMA.empty_table()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.register("imp_raw", impressions.select(["request_id", "user_id", "timestamp", "item_ids", "arm"]))
        con.register(
            "ev",
            events.select(["event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id"]),
        )
        con.execute(
            "CREATE TEMP TABLE imp AS SELECT request_id, user_id, timestamp AS shown_at, arm, "
            "unnest(item_ids) AS item_id, generate_subscripts(item_ids, 1) AS position FROM imp_raw"
        )
        sql = f"""
        WITH direct AS (
            SELECT e.event_id, i.request_id, e.user_id, i.arm, e.item_id, i.position, e.type, e.value,
                   e.timestamp, true AS direct
            FROM ev e JOIN imp i ON e.request_id = i.request_id AND e.item_id = i.item_id
        ),
        indirect AS (
            SELECT e.event_id, i.request_id, e.user_id, i.arm, e.item_id, i.position, e.type, e.value,
                   e.timestamp, false AS direct
            FROM ev e JOIN imp i
              ON e.user_id = i.user_id AND e.item_id = i.item_id
             AND e.timestamp >= i.shown_at
             AND e.timestamp <= i.shown_at + to_microseconds(CAST({int(window_seconds * 1e6)} AS BIGINT))
            WHERE e.event_id NOT IN (SELECT event_id FROM direct)
            QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY i.shown_at DESC, i.request_id) = 1
        )
        SELECT * FROM direct UNION ALL SELECT * FROM indirect ORDER BY timestamp, event_id
        """
        table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return table.cast(ATTRIBUTED_SCHEMA)
