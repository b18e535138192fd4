"""The embedded default store: one DuckDB file per shop, plus an artifact folder beside it.

Layout of a store folder::

    shop.duckdb          catalogue, events, users, judgements, splits, impressions, profiles,
                         quarantine, ingestion runs, metadata
    artifacts/           versioned model and index directories (see :mod:`shelfwise.storage.artifacts`)

Writes run in one transaction each; DuckDB's write-ahead log makes a process killed mid-write come back
as it was before that transaction. Uniqueness of ids is enforced by the write code (anti-joins), not by
index constraints, which keeps bulk loads fast.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shelfwise.data.schema import (
    EVENT_SCHEMA,
    IMPRESSION_SCHEMA,
    ITEM_SCHEMA,
    JUDGEMENT_SCHEMA,
    USER_SCHEMA,
)
from shelfwise.storage.artifacts import ArtifactStore
from shelfwise.storage.base import DeletionReport, Store, ValidatedBatch, WriteResult

SCHEMA_VERSION = 1
DB_FILE = "shop.duckdb"

_DDL = """
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
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR NOT NULL, kind VARCHAR, source VARCHAR, finished_at TIMESTAMPTZ,
    read BIGINT, accepted BIGINT, inserted BIGINT, updated BIGINT, quarantined BIGINT, duplicates BIGINT);
"""

_ITEM_VALUE_COLUMNS = [f.name for f in ITEM_SCHEMA if f.name not in ("item_id", "updated_at")]
_USER_VALUE_COLUMNS = [f.name for f in USER_SCHEMA if f.name != "user_id"]


def _cols(schema: pa.Schema) -> str:
    return ", ".join(f'"{f.name}"' for f in schema)


class DuckDBStore(Store):
    """A shop's data in one DuckDB file. Thread-safe: one connection guarded by a lock.

    Args:
        folder: the store folder; created when ``create`` is true.
        create: create the folder and tables when missing (else a missing store is an error).
        read_only: open without write access (several readers may share the file).
    """

    def __init__(self, folder: Path, *, create: bool = True, read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.url = f"duckdb://{self.folder}"
        db_path = self.folder / DB_FILE
        if not db_path.exists():
            if not create or read_only:
                raise FileNotFoundError(
                    f"no shelfwise store at {self.folder} (missing {DB_FILE}); "
                    "create one with `shelfwise init` or ingest data into it"
                )
            self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con = duckdb.connect(str(db_path), read_only=read_only)
        self._con.execute("SET TimeZone='UTC'")
        if not read_only:
            self._con.execute(_DDL)
            if self.get_meta("schema_version") is None:
                self.set_meta("schema_version", SCHEMA_VERSION)
        self._artifacts = ArtifactStore(self.folder / "artifacts")

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._con.close()

    @property
    def artifacts(self) -> ArtifactStore:
        return self._artifacts

    def _fetch(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self._lock:
            return self._con.sql(sql, params=list(params or [])).to_arrow_table()

    # -- metadata ----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            rows = self._con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return default if not rows else json.loads(rows[0][0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._con.execute("BEGIN")
            self._con.execute("DELETE FROM meta WHERE key = ?", [key])
            self._con.execute("INSERT INTO meta VALUES (?, ?)", [key, json.dumps(value, default=str)])
            self._con.execute("COMMIT")

    # -- writes ------------------------------------------------------------------------------------
    def write_batch(self, batch: ValidatedBatch) -> WriteResult:
        rows = batch.rows
        if "_ord" not in rows.column_names:
            rows = rows.append_column("_ord", pa.array(range(1, rows.num_rows + 1), pa.int64()))
        with self._lock:
            con = self._con
            con.register("_batch_rows", rows)
            con.register("_batch_quarantine", batch.quarantine)
            extra = batch.extra_items
            if extra is not None:
                con.register("_batch_extra_items", extra)
            try:
                con.execute("BEGIN")
                result = self._write_rows(batch.kind)
                new_items = 0
                if extra is not None:
                    new_items = self._upsert_keyed(
                        "items", "item_id", _ITEM_VALUE_COLUMNS, "_batch_extra_items", insert_only=True
                    )[0]
                con.execute(
                    "INSERT INTO quarantine SELECT run_id, kind, source, line, reason, raw FROM _batch_quarantine"
                )
                duplicates = result.duplicates + batch.batch_duplicates
                con.execute(
                    "INSERT INTO ingest_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?)",
                    [
                        batch.run_id,
                        batch.kind,
                        batch.source,
                        batch.read,
                        result.inserted + result.updated,
                        result.inserted,
                        result.updated,
                        batch.quarantine.num_rows,
                        duplicates,
                    ],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                for name in ("_batch_rows", "_batch_quarantine", "_batch_extra_items"):
                    with contextlib.suppress(duckdb.Error):
                        con.unregister(name)
        return WriteResult(
            inserted=result.inserted,
            updated=result.updated,
            duplicates=duplicates,
            new_users=result.new_users,
            new_items=result.new_items + new_items,
            unknown_items=result.unknown_items,
        )

    def _scalar(self, sql: str, params: Sequence[Any] | None = None) -> int:
        rows = self._con.execute(sql, params or []).fetchall()
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _write_rows(self, kind: str) -> WriteResult:
        if kind == "events":
            return self._write_events()
        if kind == "items":
            inserted, updated, dups = self._upsert_keyed(
                "items", "item_id", _ITEM_VALUE_COLUMNS, "_batch_rows"
            )
            return WriteResult(inserted, updated, dups, new_items=inserted)
        if kind == "users":
            inserted, updated, dups = self._upsert_keyed(
                "users", "user_id", _USER_VALUE_COLUMNS, "_batch_rows"
            )
            return WriteResult(inserted, updated, dups, new_users=inserted)
        if kind == "judgements":
            total = self._scalar("SELECT count(*) FROM _batch_rows")
            self._con.execute(
                "CREATE OR REPLACE TEMP TABLE _new_j AS SELECT b.* FROM _batch_rows b "
                "ANTI JOIN judgements j ON b.judgement_id = j.judgement_id"
            )
            new = self._scalar("SELECT count(*) FROM _new_j")
            self._con.execute(
                "INSERT INTO judgements SELECT judgement_id, query, item_id, relevance FROM _new_j ORDER BY _ord"
            )
            self._con.execute("DROP TABLE _new_j")
            return WriteResult(new, 0, total - new)
        raise ValueError(f"unknown record kind {kind!r}")

    def _write_events(self) -> WriteResult:
        """Insert events whose id is new; ``seq`` follows the batch's source order (``_ord``) after the
        highest stored one, so equal timestamps keep their ingestion order."""
        total = self._scalar("SELECT count(*) FROM _batch_rows")
        base = self._scalar("SELECT coalesce(max(seq), 0) FROM events")
        cols = ", ".join(f'b."{f.name}"' for f in EVENT_SCHEMA if f.name != "seq")
        inserted = self._scalar(
            f"INSERT INTO events SELECT {cols}, {base} + b._ord AS seq FROM _batch_rows b "
            "ANTI JOIN events e ON b.event_id = e.event_id"
        )
        # users and catalogue gaps are computed over the batch: ids of duplicate events are known already
        new_users = self._scalar(
            "INSERT INTO users SELECT n.user_id, NULL, NULL FROM (SELECT DISTINCT user_id FROM _batch_rows) n "
            "ANTI JOIN users u ON n.user_id = u.user_id"
        )
        unknown_items = self._scalar(
            "SELECT count(*) FROM (SELECT DISTINCT item_id FROM _batch_rows WHERE item_id IS NOT NULL) n "
            "ANTI JOIN items i ON n.item_id = i.item_id"
        )
        return WriteResult(inserted, 0, total - inserted, new_users=new_users, unknown_items=unknown_items)

    def _upsert_keyed(
        self, table: str, key: str, value_columns: list[str], source: str, *, insert_only: bool = False
    ) -> tuple[int, int, int]:
        """Insert new ids, replace changed rows (unless ``insert_only``), count identical ones.

        Returns:
            (inserted, updated, unchanged)
        """
        con = self._con
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
        if table == "items":  # the catalogue change log: what derived indexes must catch up with
            base = self._scalar("SELECT coalesce(max(seq), 0) FROM catalogue_log")
            con.execute(
                f"INSERT INTO catalogue_log SELECT {base} + row_number() OVER (ORDER BY _ord), item_id, now() "
                "FROM _classified WHERE _state <> 'same'"
            )
        con.execute("DROP TABLE _classified")
        return int(counts.get("new", 0)), int(counts.get("changed", 0)), int(counts.get("same", 0))

    def write_split(self, name: str, table: pa.Table) -> None:
        with self._lock:
            self._con.register("_split", table)
            try:
                self._con.execute("BEGIN")
                self._con.execute("DELETE FROM splits WHERE name = ?", [name])
                self._con.execute("INSERT INTO splits SELECT ?, event_id, part FROM _split", [name])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            finally:
                self._con.unregister("_split")

    def write_impressions(self, table: pa.Table) -> int:
        table = table.select(IMPRESSION_SCHEMA.names).cast(IMPRESSION_SCHEMA)
        with self._lock:
            self._con.register("_imp", table)
            try:
                before = self._scalar("SELECT count(*) FROM impressions")
                self._con.sql(
                    f"INSERT INTO impressions SELECT {_cols(IMPRESSION_SCHEMA)} FROM _imp i "
                    "ANTI JOIN impressions p ON i.request_id = p.request_id"
                )
                return self._scalar("SELECT count(*) FROM impressions") - before
            finally:
                self._con.unregister("_imp")

    def upsert_profiles(self, table: pa.Table) -> int:
        with self._lock:
            self._con.register("_prof", table)
            try:
                self._con.execute("BEGIN")
                self._con.execute("DELETE FROM profiles WHERE user_id IN (SELECT user_id FROM _prof)")
                self._con.execute(
                    "INSERT INTO profiles SELECT user_id, updated_at, profile, vector FROM _prof"
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            finally:
                self._con.unregister("_prof")
        return table.num_rows

    def delete_user(self, user_id: str) -> DeletionReport:
        removed: dict[str, int] = {}
        digest = self.user_digest(user_id)
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN")
                for table in ("events", "users", "profiles", "impressions"):
                    removed[table] = self._scalar(
                        f"SELECT count(*) FROM {table} WHERE user_id = ?", [user_id]
                    )
                    con.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id])
                base = self._scalar("SELECT coalesce(max(seq), 0) FROM deletion_log")
                con.execute(
                    "INSERT INTO deletion_log VALUES (?, ?, now())", [base + 1, digest]
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return DeletionReport(user_id, removed)

    # -- reads -------------------------------------------------------------------------------------
    def read_items(
        self, columns: Sequence[str] | None = None, *, item_ids: Sequence[str] | None = None
    ) -> pa.Table:
        cols = ", ".join(f'"{c}"' for c in columns) if columns else _cols(ITEM_SCHEMA)
        if item_ids is None:
            return self._fetch(f"SELECT {cols} FROM items ORDER BY item_id")
        return self._fetch(
            f"SELECT {cols} FROM items WHERE item_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY item_id",
            [list(item_ids)],
        )

    def catalogue_seq(self) -> int:
        with self._lock:
            return self._scalar("SELECT coalesce(max(seq), 0) FROM catalogue_log")

    def read_catalogue_changes(self, after_seq: int = 0) -> pa.Table:
        return self._fetch(
            "SELECT seq, item_id FROM catalogue_log WHERE seq > ? ORDER BY seq", [int(after_seq)]
        )

    def max_event_seq(self) -> int:
        with self._lock:
            return self._scalar("SELECT coalesce(max(seq), 0) FROM events")

    def read_deletions(self, after_seq: int = 0) -> pa.Table:
        return self._fetch(
            "SELECT seq, user_digest FROM deletion_log WHERE seq > ? ORDER BY seq", [int(after_seq)]
        )

    def deletion_seq(self) -> int:
        with self._lock:
            return self._scalar("SELECT coalesce(max(seq), 0) FROM deletion_log")

    def read_users(self) -> pa.Table:
        return self._fetch(f"SELECT {_cols(USER_SCHEMA)} FROM users ORDER BY user_id")

    def read_events(
        self,
        columns: Sequence[str] | None = None,
        *,
        types: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        after_seq: int | None = None,
    ) -> pa.Table:
        cols = ", ".join(f'"{c}"' for c in columns) if columns else _cols(EVENT_SCHEMA)
        where: list[str] = []
        params: list[Any] = []
        if after_seq is not None:
            where.append("seq > ?")
            params.append(int(after_seq))
        if types:
            where.append(f"type IN ({', '.join('?' for _ in types)})")
            params.extend(types)
        if user_ids is not None:
            where.append("user_id IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(user_ids))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self._fetch(f"SELECT {cols} FROM events {clause} ORDER BY timestamp, seq", params)

    def read_judgements(self) -> pa.Table:
        cols = "judgement_id, " + _cols(JUDGEMENT_SCHEMA)
        return self._fetch(f"SELECT {cols} FROM judgements ORDER BY query, item_id, judgement_id")

    def read_split(self, name: str) -> pa.Table:
        return self._fetch("SELECT event_id, part FROM splits WHERE name = ? ORDER BY event_id", [name])

    def list_splits(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._con.execute("SELECT DISTINCT name FROM splits ORDER BY 1").fetchall()]

    def read_impressions(self, user_id: str | None = None) -> pa.Table:
        if user_id is None:
            return self._fetch(f"SELECT {_cols(IMPRESSION_SCHEMA)} FROM impressions ORDER BY timestamp")
        return self._fetch(
            f"SELECT {_cols(IMPRESSION_SCHEMA)} FROM impressions WHERE user_id = ? ORDER BY timestamp",
            [user_id],
        )

    def read_profiles(self, user_ids: Sequence[str] | None = None) -> pa.Table:
        if user_ids is None:
            return self._fetch("SELECT * FROM profiles ORDER BY user_id")
        return self._fetch(
            "SELECT * FROM profiles WHERE user_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY user_id",
            [list(user_ids)],
        )

    def read_quarantine(self, run_id: str | None = None) -> pa.Table:
        if run_id is None:
            return self._fetch("SELECT * FROM quarantine ORDER BY run_id, line")
        return self._fetch("SELECT * FROM quarantine WHERE run_id = ? ORDER BY line", [run_id])

    def read_runs(self) -> pa.Table:
        return self._fetch("SELECT * FROM ingest_runs ORDER BY finished_at")

    def counts(self) -> dict[str, int]:
        with self._lock:
            con = self._con
            out = {
                "users": self._scalar("SELECT count(*) FROM users"),
                "items": self._scalar("SELECT count(*) FROM items"),
                "events": self._scalar("SELECT count(*) FROM events"),
                "judgements": self._scalar("SELECT count(*) FROM judgements"),
                "queries": self._scalar("SELECT count(DISTINCT query) FROM judgements"),
                "impressions": self._scalar("SELECT count(*) FROM impressions"),
                "profiles": self._scalar("SELECT count(*) FROM profiles"),
                "quarantined": self._scalar("SELECT count(*) FROM quarantine"),
                "users_with_events": self._scalar("SELECT count(DISTINCT user_id) FROM events"),
            }
            for etype, n in con.execute(
                "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
            ).fetchall():
                out[f"events_{etype}"] = int(n)
        return out
