"""The scale-out store: a shop's data in a PostgreSQL database, behind the same :class:`Store` contract.

Open one by URL::

    >>> store = open_store("postgresql://shop@db.internal:5432/shop?artifacts=/srv/shop-artifacts")  # doctest: +SKIP

The database must exist (or the connecting role may create it); the tables are created by versioned
migrations (:mod:`shelfwise.storage.postgres_schema`). Artifacts (models, indexes) are files, not rows: they
live in the folder named by the URL's ``artifacts`` query parameter, else ``$SHELFWISE_ARTIFACTS``, else
``./shelfwise-artifacts/<database>``. Several replicas share them through a shared folder.

Writes: the batch goes into a temporary table by ``COPY`` (:mod:`shelfwise.storage.postgres_io`), then
set-based ``INSERT ... SELECT`` with anti-joins, all in one transaction under a writer advisory lock, so a
batch lands whole or not at all and ``seq`` numbers never collide between processes. Reads come back
through ``COPY ... TO STDOUT`` parsed by Arrow. pgvector is not used: vectors stay in the replicas' own
indexes, built from the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from shelfwise._optional import require
from shelfwise.data.schema import EVENT_SCHEMA, IMPRESSION_SCHEMA, ITEM_SCHEMA, USER_SCHEMA
from shelfwise.storage import postgres_io as pio
from shelfwise.storage.artifacts import ArtifactStore
from shelfwise.storage.base import QUARANTINE_SCHEMA, DeletionReport, Store, ValidatedBatch, WriteResult
from shelfwise.storage.postgres_schema import (
    EVENT_MICROS,
    SCHEMA_VERSION,
    WRITER_LOCK,
    migrate,
    schema_version,
)
from shelfwise.storage.postgres_writes import write_rows

log = logging.getLogger(__name__)

_TS = pa.timestamp("us", tz="UTC")
_JUDGEMENT_READ = pa.schema(
    [
        ("judgement_id", pa.string()),
        ("query", pa.string()),
        ("item_id", pa.string()),
        ("relevance", pa.float64()),
    ]
)
_SPLIT_READ = pa.schema([("event_id", pa.string()), ("part", pa.string())])
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
_PROFILE_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("updated_at", _TS),
        ("profile", pa.string()),
        ("vector", pa.list_(pa.float32())),
    ]
)


def split_url(url: str) -> tuple[str, Path]:
    """The libpq connection URL and the artifact folder of a ``postgresql://...`` store URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    artifacts = next((v for k, v in query if k == "artifacts"), None)
    rest = [(k, v) for k, v in query if k != "artifacts"]
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), parts.fragment))
    if artifacts is None:
        artifacts = os.environ.get("SHELFWISE_ARTIFACTS") or str(
            Path("shelfwise-artifacts") / (parts.path.strip("/") or "postgres")
        )
    return conninfo, Path(artifacts)


def redact(url: str) -> str:
    """``url`` without a password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class PostgresStore(Store):
    """A shop's data in a PostgreSQL database. Thread-safe: one connection guarded by a lock.

    Args:
        url: ``postgresql://user[:password]@host[:port]/database[?artifacts=/folder&libpq-options]``.
        create: create the database (when the role may) and the tables when missing; else a database
            without shelfwise tables is an error.
        read_only: every transaction is read-only.

    Raises:
        FileNotFoundError: no shelfwise store at ``url`` and ``create`` is false (the message names the fix).
        ConnectionError: the server cannot be reached (the message says how to start a local one).
    """

    def __init__(self, url: str, *, create: bool = True, read_only: bool = False) -> None:
        psycopg = require("psycopg", "postgres")
        conninfo, artifacts = split_url(url)
        self.url = redact(url)
        self._conninfo = conninfo
        self._lock = threading.RLock()
        self._conn = self._connect(psycopg, conninfo, create=create and not read_only)
        try:
            self._conn.execute("SET TimeZone = 'UTC'")
            if read_only:
                self._conn.execute("SET default_transaction_read_only = on")
            if schema_version(self._conn) == 0 and (not create or read_only):
                raise FileNotFoundError(
                    f"no shelfwise store in {self.url}; create one with `shelfwise init --store {self.url}`"
                )
            if not read_only:
                migrate(self._conn)
                if self.get_meta("schema_version") is None:
                    self.set_meta("schema_version", SCHEMA_VERSION)
        except BaseException:
            self._conn.close()
            raise
        self._artifacts = ArtifactStore(artifacts)

    def _connect(self, psycopg: Any, conninfo: str, *, create: bool) -> Any:
        try:
            return psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "does not exist" in text and "database" in text and create:
                self._create_database(psycopg, conninfo)
                return psycopg.connect(conninfo, autocommit=True)
            if "does not exist" in text and "database" in text:
                raise FileNotFoundError(
                    f"no shelfwise store at {self.url} ({text}); create it with "
                    f"`shelfwise init --store {self.url}`"
                ) from None
            raise ConnectionError(
                f"cannot connect to PostgreSQL at {self.url}: {text} "
                "(for a local server: scripts/dev_services.sh start)"
            ) from None

    @staticmethod
    def _create_database(psycopg: Any, conninfo: str) -> None:
        parts = urlsplit(conninfo)
        name = parts.path.strip("/")
        admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        # another process may have been first: DuplicateDatabase is success
        with (
            psycopg.connect(admin, autocommit=True) as conn,
            contextlib.suppress(psycopg.errors.DuplicateDatabase),
        ):
            conn.execute(f"CREATE DATABASE {pio.ident(name)}")
        log.info("created PostgreSQL database %s", name)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def artifacts(self) -> ArtifactStore:
        return self._artifacts

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        """One transaction holding the writer lock; rolled back on any error."""
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
            yield self._conn

    def _scalar(self, sql: str, params: Sequence[Any] | None = None) -> int:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _copy_out(self, sql: Any, schema: pa.Schema) -> pa.Table:
        with self._lock:
            text = sql.as_string(self._conn) if hasattr(sql, "as_string") else sql
            return pio.copy_out(self._conn, text, schema)

    # -- metadata ----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = %s", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [key, json.dumps(value, default=str)],
            )

    def user_digest(self, user_id: str) -> str:
        # Several processes share this database: the first to need the deletion salt fixes it (insert-if-absent),
        # where get-then-set could let two processes log digests under two different salts.
        if self.get_meta("deletion_salt") is None:
            import secrets

            with self._lock:
                self._conn.execute(
                    "INSERT INTO meta VALUES ('deletion_salt', %s) ON CONFLICT (key) DO NOTHING",
                    [json.dumps(secrets.token_hex(16))],
                )
        return super().user_digest(user_id)

    # -- writes ------------------------------------------------------------------------------------
    def write_batch(self, batch: ValidatedBatch) -> WriteResult:
        rows = batch.rows
        if "_ord" not in rows.column_names:
            rows = rows.append_column("_ord", pa.array(range(1, rows.num_rows + 1), pa.int64()))
        with self._writing() as conn:
            result, new_items = write_rows(conn, batch.kind, rows, batch.extra_items)
            quarantine = batch.quarantine.select(QUARANTINE_SCHEMA.names)
            if quarantine.num_rows:
                pio.copy_in(conn, "quarantine", quarantine)
            duplicates = result.duplicates + batch.batch_duplicates
            conn.execute(
                "INSERT INTO ingest_runs VALUES (%s, %s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s)",
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
        return WriteResult(
            inserted=result.inserted,
            updated=result.updated,
            duplicates=duplicates,
            new_users=result.new_users,
            new_items=result.new_items + new_items,
            unknown_items=result.unknown_items,
        )

    def write_split(self, name: str, table: pa.Table) -> None:
        with self._writing() as conn:
            conn.execute("DELETE FROM splits WHERE name = %s", [name])
            pio.create_temp_table(conn, "_split", _SPLIT_READ)
            pio.copy_in(conn, "_split", table.select(["event_id", "part"]).cast(_SPLIT_READ))
            conn.execute("INSERT INTO splits SELECT %s, event_id, part FROM _split", [name])

    def write_impressions(self, table: pa.Table) -> int:
        table = table.select(IMPRESSION_SCHEMA.names).cast(IMPRESSION_SCHEMA)
        with self._writing() as conn:
            cur = conn.cursor()
            cur.executemany(
                "INSERT INTO impressions VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (request_id) DO NOTHING",
                [tuple(r.values()) for r in table.to_pylist()],
            )
            return max(cur.rowcount, 0)

    def upsert_profiles(self, table: pa.Table) -> int:
        table = table.select(_PROFILE_SCHEMA.names)
        rows = {r["user_id"]: tuple(r.values()) for r in table.to_pylist()}  # the last row of a user wins
        with self._writing() as conn:
            conn.cursor().executemany(
                "INSERT INTO profiles VALUES (%s, %s, %s, %s) ON CONFLICT (user_id) DO UPDATE SET "
                "updated_at = EXCLUDED.updated_at, profile = EXCLUDED.profile, vector = EXCLUDED.vector",
                list(rows.values()),
            )
        return table.num_rows

    def delete_user(self, user_id: str) -> DeletionReport:
        removed: dict[str, int] = {}
        digest = self.user_digest(user_id)
        with self._writing() as conn:
            for table in ("events", "users", "profiles", "impressions"):
                cur = conn.execute(f"DELETE FROM {table} WHERE user_id = %s", [user_id])
                removed[table] = cur.rowcount
            conn.execute(
                "INSERT INTO deletion_log SELECT coalesce(max(seq), 0) + 1, %s, clock_timestamp() FROM deletion_log",
                [digest],
            )
        return DeletionReport(user_id, removed)

    def vacuum_deleted(self) -> None:
        """Rewrite the tables :meth:`delete_user` touches (``VACUUM FULL``) so deleted rows leave the files.

        PostgreSQL keeps deleted tuples on disk until a vacuum reclaims them; this makes a deletion final
        on the server's storage (the WAL and backups follow their own retention). It locks those tables
        while it runs.
        """
        with self._lock:
            for table in ("events", "users", "profiles", "impressions"):
                self._conn.execute(f"VACUUM FULL {table}")

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
        return self._copy_out(query, _SPLIT_READ)

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
            return self._rows_to_arrow("SELECT * FROM profiles ORDER BY user_id", [], _PROFILE_SCHEMA)
        return self._rows_to_arrow(
            "SELECT * FROM profiles WHERE user_id = ANY(%s::text[]) ORDER BY user_id",
            [list(user_ids)],
            _PROFILE_SCHEMA,
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
