"""The DuckDB store's tables and the SQL of its writes, as functions of an open connection.

Kept apart from :mod:`shelfwise.storage.duckdb_store` (which owns connections, locking and transactions) so
that each module has one job. Every function here expects the caller to hold the store and to have begun
the transaction; temporary tables it creates live and die within that one connection session.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shelfwise.data.schema import EVENT_SCHEMA, ITEM_SCHEMA, USER_SCHEMA
from shelfwise.storage.base import CHANGE_LOGS, WriteResult, change_log_insert

SCHEMA_VERSION = 1
DB_FILE = "shop.duckdb"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS items (
    item_id VARCHAR NOT NULL, title VARCHAR, description VARCHAR, category VARCHAR, brand VARCHAR,
    price DOUBLE, currency VARCHAR, attributes VARCHAR, image VARCHAR, available BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS users (user_id VARCHAR NOT NULL, attributes VARCHAR, consent VARCHAR);
CREATE TABLE IF NOT EXISTS events (
    event_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, item_id VARCHAR, type VARCHAR NOT NULL,
    value DOUBLE, query VARCHAR, timestamp TIMESTAMPTZ NOT NULL, session_id VARCHAR, request_id VARCHAR,
    seq BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS judgements (
    judgement_id VARCHAR NOT NULL, query VARCHAR NOT NULL, item_id VARCHAR NOT NULL, relevance DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS splits (name VARCHAR NOT NULL, event_id VARCHAR NOT NULL, part VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS impressions (
    request_id VARCHAR NOT NULL, user_id VARCHAR, timestamp TIMESTAMPTZ NOT NULL, context VARCHAR,
    item_ids VARCHAR[] NOT NULL, scores DOUBLE[], arm VARCHAR);
CREATE TABLE IF NOT EXISTS profiles (
    user_id VARCHAR NOT NULL, updated_at TIMESTAMPTZ, profile VARCHAR, vector FLOAT[]);
CREATE TABLE IF NOT EXISTS quarantine (
    run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, source VARCHAR NOT NULL, line BIGINT,
    reason VARCHAR NOT NULL, raw VARCHAR);
CREATE TABLE IF NOT EXISTS catalogue_log (seq BIGINT NOT NULL, item_id VARCHAR NOT NULL, changed_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS deletion_log (seq BIGINT NOT NULL, user_digest VARCHAR NOT NULL, deleted_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS consent_log (seq BIGINT NOT NULL, user_id VARCHAR NOT NULL, changed_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR NOT NULL, kind VARCHAR, source VARCHAR, finished_at TIMESTAMPTZ,
    read BIGINT, accepted BIGINT, inserted BIGINT, updated BIGINT, quarantined BIGINT, duplicates BIGINT);
"""


def column_list(schema: pa.Schema) -> str:
    return ", ".join(f'"{f.name}"' for f in schema)


ITEM_VALUE_COLUMNS = [f.name for f in ITEM_SCHEMA if f.name not in ("item_id", "updated_at")]
USER_VALUE_COLUMNS = [f.name for f in USER_SCHEMA if f.name != "user_id"]

#: characters that separate fields in a quarantined line kept as text (CSV, TSV, JSON, sequences)
_FIELD_SEPARATORS = r"""[\s,;|:"'{}\[\]=]+"""


def scalar(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> int:
    """The first column of the first row as an int (0 when NULL or no row)."""
    rows = con.execute(sql, dict(params) if isinstance(params, Mapping) else list(params or [])).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def write_rows(con: duckdb.DuckDBPyConnection, kind: str) -> WriteResult:
    """Write ``_batch_rows`` (a registered Arrow table with ``_ord``) as records of ``kind``."""
    if kind == "events":
        return write_events(con)
    if kind == "items":
        inserted, updated, dups = upsert_keyed(con, "items", "item_id", ITEM_VALUE_COLUMNS, "_batch_rows")
        return WriteResult(inserted, updated, dups, new_items=inserted)
    if kind == "users":
        inserted, updated, dups = upsert_keyed(con, "users", "user_id", USER_VALUE_COLUMNS, "_batch_rows")
        return WriteResult(inserted, updated, dups, new_users=inserted)
    if kind == "judgements":
        total = scalar(con, "SELECT count(*) FROM _batch_rows")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _new_j AS SELECT b.* FROM _batch_rows b "
            "ANTI JOIN judgements j ON b.judgement_id = j.judgement_id"
        )
        new = scalar(con, "SELECT count(*) FROM _new_j")
        con.execute(
            "INSERT INTO judgements SELECT judgement_id, query, item_id, relevance FROM _new_j ORDER BY _ord"
        )
        con.execute("DROP TABLE _new_j")
        return WriteResult(new, 0, total - new)
    raise ValueError(f"unknown record kind {kind!r}")


def write_events(con: duckdb.DuckDBPyConnection) -> WriteResult:
    """Insert events whose id is new; ``seq`` follows the batch's source order (``_ord``) after the
    highest stored one, so equal timestamps keep their ingestion order."""
    total = scalar(con, "SELECT count(*) FROM _batch_rows")
    base = scalar(con, "SELECT coalesce(max(seq), 0) FROM events")
    cols = ", ".join(f'b."{f.name}"' for f in EVENT_SCHEMA if f.name != "seq")
    inserted = scalar(
        con,
        f"INSERT INTO events SELECT {cols}, {base} + b._ord AS seq FROM _batch_rows b "
        "ANTI JOIN events e ON b.event_id = e.event_id",
    )
    # users and catalogue gaps are computed over the batch: ids of duplicate events are known already
    new_users = scalar(
        con,
        "INSERT INTO users SELECT n.user_id, NULL, NULL FROM (SELECT DISTINCT user_id FROM _batch_rows) n "
        "ANTI JOIN users u ON n.user_id = u.user_id",
    )
    unknown_items = scalar(
        con,
        "SELECT count(*) FROM (SELECT DISTINCT item_id FROM _batch_rows WHERE item_id IS NOT NULL) n "
        "ANTI JOIN items i ON n.item_id = i.item_id",
    )
    return WriteResult(inserted, 0, total - inserted, new_users=new_users, unknown_items=unknown_items)


def upsert_keyed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    value_columns: list[str],
    source: str,
    *,
    insert_only: bool = False,
) -> tuple[int, int, int]:
    """Insert new ids, replace changed rows (unless ``insert_only``), count identical ones.

    Returns:
        (inserted, updated, unchanged)
    """
    same_cond = " AND ".join(f's."{c}" IS NOT DISTINCT FROM t."{c}"' for c in value_columns)
    con.sql(
        f"CREATE OR REPLACE TEMP TABLE _classified AS SELECT s.*, "
        f"CASE WHEN t.{key} IS NULL THEN 'new' WHEN {'true' if insert_only else same_cond} THEN 'same' "
        "ELSE 'changed' END AS _state "
        f"FROM {source} s LEFT JOIN {table} t ON s.{key} = t.{key}"
    )
    counts = dict(con.execute("SELECT _state, count(*) FROM _classified GROUP BY _state").fetchall())
    con.execute(
        f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _classified WHERE _state = 'changed')"
    )
    target_cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
    select = ", ".join(f'"{c}"' for c in target_cols)
    con.execute(f"INSERT INTO {table} SELECT {select} FROM _classified WHERE _state <> 'same'")
    if table in CHANGE_LOGS:
        base = scalar(con, f"SELECT coalesce(max(seq), 0) FROM {CHANGE_LOGS[table][0]}")
        con.execute(change_log_insert(table, base, "now()"))
    con.execute("DROP TABLE _classified")
    return int(counts.get("new", 0)), int(counts.get("changed", 0)), int(counts.get("same", 0))


def delete_user_rows(con: duckdb.DuckDBPyConnection, user_id: str, raw_ids: Sequence[str]) -> dict[str, int]:
    """Delete every row of one shopper; returns rows removed per table.

    Split rows go first (they name the shopper's events by id). Quarantined rows match when their parsed
    ``user_id`` is the shopper's, or when a line kept as text (``{"text": ...}``) has the id or one of
    ``raw_ids`` as one of its fields.
    """
    removed: dict[str, int] = {}
    removed["splits"] = scalar(
        con,
        "DELETE FROM splits WHERE event_id IN (SELECT event_id FROM events WHERE user_id = ?)",
        [user_id],
    )
    for table in ("events", "users", "profiles", "impressions"):
        removed[table] = scalar(con, f"DELETE FROM {table} WHERE user_id = ?", [user_id])
    con.execute("DELETE FROM consent_log WHERE user_id = ?", [user_id])
    ids = [user_id, *(r for r in raw_ids if r)]
    removed["quarantine"] = scalar(
        con,
        "DELETE FROM quarantine WHERE json_valid(raw) AND ("
        "json_extract_string(raw, '$.user_id') IN (SELECT unnest(?::VARCHAR[])) OR "
        "list_has_any(string_split_regex(coalesce(json_extract_string(raw, '$.text'), ''), ?), ?::VARCHAR[]))",
        [ids, _FIELD_SEPARATORS, ids],
    )
    return removed


def set_consent_row(con: duckdb.DuckDBPyConnection, user_id: str, consent: str | None) -> int:
    """Record a shopper's consent (JSON text) on their user row, created when missing, and log the change;
    withdrawn personalisation also deletes the stored profile. Returns the consent log ``seq``."""
    if scalar(con, "SELECT count(*) FROM users WHERE user_id = ?", [user_id]):
        con.execute("UPDATE users SET consent = ? WHERE user_id = ?", [consent, user_id])
    else:
        con.execute("INSERT INTO users VALUES (?, NULL, ?)", [user_id, consent])
    if consent is not None and json.loads(consent).get("personalisation") is False:
        con.execute("DELETE FROM profiles WHERE user_id = ?", [user_id])
    seq = scalar(con, "SELECT coalesce(max(seq), 0) FROM consent_log") + 1
    con.execute("INSERT INTO consent_log VALUES (?, ?, now())", [seq, user_id])
    return seq


#: per retention kind: the table and the condition of rows older than the cutoff (parameter ``$cutoff``)
PURGE_WHERE: dict[str, tuple[str, str]] = {
    "events": ("events", "timestamp < $cutoff"),
    "search_logs": ("events", "type = 'search' AND timestamp < $cutoff"),
    "impressions": ("impressions", "timestamp < $cutoff"),
    "quarantine": ("quarantine", "run_id IN (SELECT run_id FROM ingest_runs WHERE finished_at < $cutoff)"),
}


def purge_rows(con: duckdb.DuckDBPyConnection, kind: str, cutoff: Any, *, dry_run: bool) -> int:
    """Delete (or with ``dry_run`` only count) the rows of a retention kind older than ``cutoff``; split
    rows of purged events go with them."""
    try:
        table, where = PURGE_WHERE[kind]
    except KeyError:
        raise ValueError(f"unknown retention kind {kind!r}; known: {', '.join(PURGE_WHERE)}") from None
    params = {"cutoff": cutoff}
    if dry_run:
        return scalar(con, f"SELECT count(*) FROM {table} WHERE {where}", params)
    if table == "events":
        con.execute(
            f"DELETE FROM splits WHERE event_id IN (SELECT event_id FROM events WHERE {where})", params
        )
    return scalar(con, f"DELETE FROM {table} WHERE {where}", params)


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> Iterator[None]:
    """Arrow tables visible to SQL under the given names for the duration of the block."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)


def database_bytes(db_path: Path) -> int:
    """Bytes of the database file and its WAL."""
    total = 0
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total
