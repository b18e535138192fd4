"""Set-based writes of one ingestion batch into PostgreSQL, with the embedded store's semantics.

Called inside the writer's transaction (see :meth:`PostgresStore.write_batch`): the batch is copied into a
temporary table, then classified and inserted with single statements:

* events: anti-join on ``event_id`` (into an empty table: straight in by COPY, no staging); ``seq`` = highest stored seq + the row's batch order (``_ord``), so
  equal timestamps keep their ingestion order; unknown users are registered, unknown items counted.
* items / users: each row is new, changed (replaces the stored row) or the same (a duplicate); every
  inserted or changed item gets an entry in the catalogue change log, in batch order.
* judgements: anti-join on ``judgement_id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.data.schema import ITEM_SCHEMA, USER_SCHEMA
from shelfwise.storage import postgres_io as pio
from shelfwise.storage.base import CHANGE_LOGS, WriteResult, change_log_insert
from shelfwise.storage.postgres_schema import EVENT_MICROS

if TYPE_CHECKING:
    import psycopg

_VALUE_COLUMNS = {
    "items": [f.name for f in ITEM_SCHEMA if f.name not in ("item_id", "updated_at")],
    "users": [f.name for f in USER_SCHEMA if f.name != "user_id"],
}
_TABLE_COLUMNS = {"items": ITEM_SCHEMA.names, "users": USER_SCHEMA.names}
_KEY = {"items": "item_id", "users": "user_id"}


def _scalar(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _load(conn: psycopg.Connection, name: str, rows: pa.Table) -> None:
    pio.create_temp_table(conn, name, rows.schema)
    pio.copy_in(conn, name, rows)


def write_rows(
    conn: psycopg.Connection, kind: str, rows: pa.Table, extra_items: pa.Table | None
) -> tuple[WriteResult, int]:
    """Write a batch's accepted rows (with ``_ord``); returns the result and the new items of ``extra_items``."""
    if kind not in ("events", "items", "users", "judgements"):
        raise ValueError(f"unknown record kind {kind!r}")
    if kind == "events":
        result = _write_events(conn, rows)  # stages the rows itself, when it needs to
    elif kind == "judgements":
        _load(conn, "_batch_rows", rows)
        inserted = conn.execute(
            "INSERT INTO judgements SELECT b.judgement_id, b.query, b.item_id, b.relevance FROM _batch_rows b "
            "WHERE NOT EXISTS (SELECT 1 FROM judgements j WHERE j.judgement_id = b.judgement_id) ORDER BY b._ord"
        ).rowcount
        result = WriteResult(inserted, 0, rows.num_rows - inserted)
    else:
        _load(conn, "_batch_rows", rows)
        inserted, updated, same = upsert_keyed(conn, kind, "_batch_rows", rows.schema)
        if kind == "items":
            result = WriteResult(inserted, updated, same, new_items=inserted)
        else:
            result = WriteResult(inserted, updated, same, new_users=inserted)
    new_items = 0
    if extra_items is not None and extra_items.num_rows:
        extra = extra_items
        if "_ord" not in extra.column_names:
            extra = extra.append_column("_ord", pa.array(range(1, extra.num_rows + 1), pa.int64()))
        _load(conn, "_batch_extra_items", extra)
        new_items = upsert_keyed(conn, "items", "_batch_extra_items", extra.schema, insert_only=True)[0]
    return result, new_items


def _write_events(conn: psycopg.Connection, rows: pa.Table) -> WriteResult:
    base = _scalar(conn, "SELECT coalesce(max(seq), 0) FROM events")
    fields = [f for f in rows.schema if f.name != "_ord"]
    names = ", ".join(pio.ident(f.name) for f in fields)
    # A batch larger than everything stored (a first bulk load, typically): maintaining the primary key row
    # by row costs more than building it once afterwards by sorting, as PostgreSQL's "Populating a
    # Database" advises. Same transaction, so a failure restores the key with everything else; the
    # ACCESS EXCLUSIVE lock this takes holds readers of `events` until the batch commits.
    rebuild = rows.num_rows > max(base, 50_000)
    if rebuild:
        conn.execute("ALTER TABLE events DROP CONSTRAINT events_pkey")
    if base == 0:
        # nothing stored to de-duplicate against (the batch has no repeated ids: validation dropped them,
        # and the key below would refuse them): the rows go straight in, with no staging table
        staged = rows.drop_columns(["_ord"]).append_column(
            "seq", pc.add(rows.column("_ord"), pa.scalar(base, pa.int64()))
        )
        inserted = pio.copy_in(conn, "events", staged)
    else:
        _load(conn, "_batch_rows", rows)
        select = ", ".join(pio.from_wire(f, "b.", micros=EVENT_MICROS) for f in fields)
        inserted = conn.execute(
            f"INSERT INTO events ({names}, seq) SELECT {select}, {base} + b._ord FROM _batch_rows b "
            "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = b.event_id)"
        ).rowcount
    if rebuild:
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        conn.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id)")
    # users and catalogue gaps are computed over the batch (ids of duplicate events are known already);
    # the distinct ids come from Arrow, so the server joins tens of thousands of ids, not every row
    new_users = _anti_join_ids(conn, rows.column("user_id"), "users", "user_id", insert=True)
    unknown_items = _anti_join_ids(conn, rows.column("item_id"), "items", "item_id", insert=False)
    return WriteResult(
        inserted, 0, rows.num_rows - inserted, new_users=new_users, unknown_items=unknown_items
    )


def _anti_join_ids(
    conn: psycopg.Connection, ids: pa.ChunkedArray, table: str, key: str, *, insert: bool
) -> int:
    """How many distinct non-null ``ids`` ``table`` lacks; with ``insert``, add them (other columns null)."""
    distinct = pc.unique(ids.drop_null()).cast(pa.string())
    name = f"_batch_{key}s"
    _load(conn, name, pa.table({key: distinct}))
    missing = (
        f"SELECT n.{key} FROM {name} n WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = n.{key})"
    )
    if insert:
        return conn.execute(f"INSERT INTO {table} ({key}) {missing}").rowcount
    return _scalar(conn, f"SELECT count(*) FROM ({missing}) m")


def upsert_keyed(
    conn: psycopg.Connection, table: str, source: str, schema: pa.Schema, *, insert_only: bool = False
) -> tuple[int, int, int]:
    """Insert new ids, replace changed rows (unless ``insert_only``), count identical ones.

    ``source`` is a :func:`~shelfwise.storage.postgres_io.create_temp_table` table of ``schema`` (with ``_ord``).

    Returns:
        (inserted, updated, unchanged)
    """
    key = _KEY[table]
    converted = ", ".join(f"{pio.from_wire(f, 's.')} AS {pio.ident(f.name)}" for f in schema)
    same = " AND ".join(
        f"s.{pio.ident(c)} IS NOT DISTINCT FROM t.{pio.ident(c)}" for c in _VALUE_COLUMNS[table]
    )
    conn.execute(
        f"CREATE TEMP TABLE _classified ON COMMIT DROP AS SELECT {converted}, "
        f"CASE WHEN t.{key} IS NULL THEN 'new' WHEN {'true' if insert_only else same} THEN 'same' "
        f"ELSE 'changed' END AS _state FROM {source} s LEFT JOIN {table} t ON s.{key} = t.{key}"
    )
    counts: dict[str, int] = dict(
        conn.execute("SELECT _state, count(*) FROM _classified GROUP BY _state").fetchall()
    )
    conn.execute(
        f"DELETE FROM {table} t USING _classified c WHERE t.{key} = c.{key} AND c._state = 'changed'"
    )
    cols = ", ".join(pio.ident(c) for c in _TABLE_COLUMNS[table])
    conn.execute(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _classified WHERE _state <> 'same' ORDER BY _ord"
    )
    if table in CHANGE_LOGS:
        base = _scalar(conn, f"SELECT coalesce(max(seq), 0) FROM {CHANGE_LOGS[table][0]}")
        conn.execute(change_log_insert(table, base, "clock_timestamp()"))
    conn.execute("DROP TABLE _classified")
    return int(counts.get("new", 0)), int(counts.get("changed", 0)), int(counts.get("same", 0))
