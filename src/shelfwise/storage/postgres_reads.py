"""Reads of the PostgreSQL store: ``COPY (SELECT ...) TO STDOUT`` parsed by Arrow, no Python object per row.

:class:`PostgresReads` is the read half of :class:`~shelfwise.storage.postgres_store.PostgresStore` (a mixin
over its connection and lock). Small tables with list columns (impressions, profiles) come through psycopg's
own adaptation instead. Measured against psycopg binary rows: ``benchmarks/bench_read_postgres.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from shelfwise.data.schema import EVENT_SCHEMA, IMPRESSION_SCHEMA, ITEM_SCHEMA, USER_SCHEMA
from shelfwise.storage import postgres_io as pio
from shelfwise.storage.base import QUARANTINE_SCHEMA
from shelfwise.storage.postgres_schema import EVENT_MICROS

_TS = pa.timestamp("us", tz="UTC")
_JUDGEMENT_READ = pa.schema(
    [
        ("judgement_id", pa.string()),
        ("query", pa.string()),
        ("item_id", pa.string()),
        ("relevance", pa.float64()),
    ]
)
SPLIT_SCHEMA = pa.schema([("event_id", pa.string()), ("part", pa.string())])
_LOG_READ = {"catalogue_log": ("item_id", pa.string()), "deletion_log": ("user_digest", pa.string())}
_RUNS_READ = pa.schema(
    [
        ("run_id", pa.string()),
        ("kind", pa.string()),
        ("source", pa.string()),
        ("finished_at", _TS),
        *[(c, pa.int64()) for c in ("read", "accepted", "inserted", "updated", "quarantined", "duplicates")],
    ]
)
PROFILE_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("updated_at", _TS),
        ("profile", pa.string()),
        ("vector", pa.list_(pa.float32())),
    ]
)


class PostgresReads:
    """The read methods of the :class:`~shelfwise.storage.base.Store` contract over one psycopg connection."""

    _lock: threading.RLock
    _conn: Any

    def _scalar(self, sql: str, params: Sequence[Any] | None = None) -> int:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _copy_out(self, sql: Any, schema: pa.Schema) -> pa.Table:
        with self._lock:
            text = sql.as_string(self._conn) if hasattr(sql, "as_string") else sql
            return pio.copy_out(self._conn, text, schema)

    # -- reads -------------------------------------------------------------------------------------
    def read_items(
        self, columns: Sequence[str] | None = None, *, item_ids: Sequence[str] | None = None
    ) -> pa.Table:
        from psycopg import sql

        schema = pio.subset(ITEM_SCHEMA, columns)
        where: sql.Composable = sql.SQL("")
        if item_ids is not None:
            if not item_ids:
                return pio.nullable(schema).empty_table()
            where = sql.SQL("WHERE item_id = ANY({}::text[])").format(sql.Literal(list(item_ids)))
        query = sql.SQL("SELECT {} FROM items {} ORDER BY item_id").format(
            sql.SQL(pio.select_list(schema)), where
        )
        return self._copy_out(query, schema)

    def read_users(self) -> pa.Table:
        return self._copy_out(
            f"SELECT {pio.select_list(USER_SCHEMA)} FROM users ORDER BY user_id", USER_SCHEMA
        )

    def read_events(
        self,
        columns: Sequence[str] | None = None,
        *,
        types: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        after_seq: int | None = None,
    ) -> pa.Table:
        from psycopg import sql

        schema = pio.subset(EVENT_SCHEMA, columns)
        where: list[sql.Composable] = []
        if after_seq is not None:
            where.append(sql.SQL("seq > {}").format(sql.Literal(int(after_seq))))
        if types:
            where.append(sql.SQL("type = ANY({}::text[])").format(sql.Literal(list(types))))
        if user_ids is not None:
            if not user_ids:
                return pio.nullable(schema).empty_table()
            where.append(sql.SQL("user_id = ANY({}::text[])").format(sql.Literal(list(user_ids))))
        clause = sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL("")
        query = sql.SQL('SELECT {} FROM events {} ORDER BY "timestamp", seq').format(
            sql.SQL(pio.select_list(schema, micros=EVENT_MICROS)), clause
        )
        return self._copy_out(query, schema)

    def max_event_seq(self) -> int:
        return self._scalar("SELECT coalesce(max(seq), 0) FROM events")

    def catalogue_seq(self) -> int:
        return self._scalar("SELECT coalesce(max(seq), 0) FROM catalogue_log")

    def read_catalogue_changes(self, after_seq: int = 0) -> pa.Table:
        return self._read_log("catalogue_log", after_seq)

    def deletion_seq(self) -> int:
        return self._scalar("SELECT coalesce(max(seq), 0) FROM deletion_log")

    def read_deletions(self, after_seq: int = 0) -> pa.Table:
        return self._read_log("deletion_log", after_seq)

    def _read_log(self, table: str, after_seq: int) -> pa.Table:
        column, dtype = _LOG_READ[table]
        schema = pa.schema([("seq", pa.int64()), (column, dtype)])
        return self._copy_out(
            f"SELECT seq, {column} FROM {table} WHERE seq > {int(after_seq)} ORDER BY seq", schema
        )

    def read_judgements(self) -> pa.Table:
        return self._copy_out(
            f"SELECT {pio.select_list(_JUDGEMENT_READ)} FROM judgements ORDER BY query, item_id, judgement_id",
            _JUDGEMENT_READ,
        )

    def read_split(self, name: str) -> pa.Table:
        from psycopg import sql

        query = sql.SQL("SELECT event_id, part FROM splits WHERE name = {} ORDER BY event_id").format(
            sql.Literal(name)
        )
        return self._copy_out(query, SPLIT_SCHEMA)

    def list_splits(self) -> list[str]:
        with self._lock:
            return [
                r[0] for r in self._conn.execute("SELECT DISTINCT name FROM splits ORDER BY 1").fetchall()
            ]

    def read_impressions(self, user_id: str | None = None) -> pa.Table:
        where, params = ("", []) if user_id is None else ("WHERE user_id = %s", [user_id])
        return self._rows_to_arrow(
            f'SELECT * FROM impressions {where} ORDER BY "timestamp"', params, IMPRESSION_SCHEMA
        )

    def read_profiles(self, user_ids: Sequence[str] | None = None) -> pa.Table:
        if user_ids is None:
            return self._rows_to_arrow("SELECT * FROM profiles ORDER BY user_id", [], PROFILE_SCHEMA)
        return self._rows_to_arrow(
            "SELECT * FROM profiles WHERE user_id = ANY(%s::text[]) ORDER BY user_id",
            [list(user_ids)],
            PROFILE_SCHEMA,
        )

    def _rows_to_arrow(self, query: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
        """Small tables with list columns: rows through psycopg's adaptation, then columns to Arrow."""
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        return pa.table(
            [pa.array(list(col), f.type) for col, f in zip(columns, schema, strict=True)],
            schema=pio.nullable(schema),
        )

    def read_quarantine(self, run_id: str | None = None) -> pa.Table:
        from psycopg import sql

        schema = pio.nullable(QUARANTINE_SCHEMA)
        select = sql.SQL(pio.select_list(schema))
        if run_id is None:
            query = sql.SQL("SELECT {} FROM quarantine ORDER BY run_id, line").format(select)
        else:
            query = sql.SQL("SELECT {} FROM quarantine WHERE run_id = {} ORDER BY line").format(
                select, sql.Literal(run_id)
            )
        return self._copy_out(query, schema)

    def read_runs(self) -> pa.Table:
        return self._copy_out(
            f"SELECT {pio.select_list(_RUNS_READ)} FROM ingest_runs ORDER BY finished_at", _RUNS_READ
        )

    def counts(self) -> dict[str, int]:
        with self._lock:
            row = self._conn.execute(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items), (SELECT count(*) FROM events), "
                "(SELECT count(*) FROM judgements), (SELECT count(DISTINCT query) FROM judgements), "
                "(SELECT count(*) FROM impressions), (SELECT count(*) FROM profiles), "
                "(SELECT count(*) FROM quarantine), (SELECT count(DISTINCT user_id) FROM events)"
            ).fetchone()
            by_type = self._conn.execute(
                "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
            ).fetchall()
        keys = (
            "users",
            "items",
            "events",
            "judgements",
            "queries",
            "impressions",
            "profiles",
            "quarantined",
            "users_with_events",
        )
        out = {k: int(v) for k, v in zip(keys, row or (0,) * len(keys), strict=True)}
        for etype, n in by_type:
            out[f"events_{etype}"] = int(n)
        return out
