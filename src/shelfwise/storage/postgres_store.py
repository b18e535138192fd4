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
through ``COPY ... TO STDOUT`` parsed by Arrow (:mod:`shelfwise.storage.postgres_reads`). pgvector is not
used: vectors stay in the replicas' own indexes, built from the store.

A first bulk load into an empty ``events`` table is copied straight in and its primary key built once
afterwards; ``events.timestamp`` is stored as integer microseconds (see
:mod:`shelfwise.storage.postgres_schema`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from shelfwise._optional import require
from shelfwise.data.schema import IMPRESSION_SCHEMA
from shelfwise.storage import postgres_io as pio
from shelfwise.storage.artifacts import ArtifactStore
from shelfwise.storage.base import (
    QUARANTINE_SCHEMA,
    DeletionReport,
    ErasureReport,
    PurgeKind,
    Store,
    ValidatedBatch,
    WriteResult,
    batch_result,
    run_record,
)
from shelfwise.storage.postgres_erasure import PENDING_KEY, delete_rows, erase_pending
from shelfwise.storage.postgres_reads import PROFILE_SCHEMA, SPLIT_SCHEMA, PostgresReads
from shelfwise.storage.postgres_retention import purge, set_consent, vacuum
from shelfwise.storage.postgres_schema import SCHEMA_VERSION, WRITER_LOCK, migrate, schema_version
from shelfwise.storage.postgres_writes import write_rows

log = logging.getLogger(__name__)


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


class PostgresStore(PostgresReads, Store):
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
        if getattr(self, "_deletion_salt", None) is None and self.get_meta("deletion_salt") is None:
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
            conn.execute(
                "INSERT INTO ingest_runs VALUES (%s, %s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s)",
                run_record(batch, result),
            )
        return batch_result(result, batch, new_items)

    def write_split(self, name: str, table: pa.Table) -> None:
        with self._writing() as conn:
            conn.execute("DELETE FROM splits WHERE name = %s", [name])
            pio.create_temp_table(conn, "_split", SPLIT_SCHEMA)
            pio.copy_in(conn, "_split", table.select(["event_id", "part"]).cast(SPLIT_SCHEMA))
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
        table = table.select(PROFILE_SCHEMA.names)
        rows = {r["user_id"]: tuple(r.values()) for r in table.to_pylist()}  # the last row of a user wins
        with self._writing() as conn:
            conn.cursor().executemany(
                "INSERT INTO profiles VALUES (%s, %s, %s, %s) ON CONFLICT (user_id) DO UPDATE SET "
                "updated_at = EXCLUDED.updated_at, profile = EXCLUDED.profile, vector = EXCLUDED.vector",
                list(rows.values()),
            )
        return table.num_rows

    def delete_user(self, user_id: str, *, raw_ids: Sequence[str] = ()) -> DeletionReport:
        digest = self.user_digest(user_id)
        with self._writing() as conn:
            removed = delete_rows(conn, user_id, raw_ids)
            conn.execute(
                "INSERT INTO deletion_log SELECT coalesce(max(seq), 0) + 1, %s, clock_timestamp() FROM deletion_log",
                [digest],
            )
            seq = conn.execute("SELECT max(seq) FROM deletion_log").fetchone()[0]
            conn.execute("DELETE FROM meta WHERE key = %s", [PENDING_KEY])
            conn.execute("INSERT INTO meta VALUES (%s, %s)", [PENDING_KEY, json.dumps(int(seq))])
        return DeletionReport(user_id, removed)

    # -- consent and retention -----------------------------------------------------------------------
    def set_consent(self, user_id: str, consent: str | None) -> int:
        with self._writing() as conn:
            return set_consent(conn, user_id, consent)

    def consent_seq(self) -> int:
        return self._scalar("SELECT coalesce(max(seq), 0) FROM consent_log")

    def read_consent_changes(self, after_seq: int = 0) -> pa.Table:
        schema = pa.schema([("seq", pa.int64()), ("user_id", pa.string()), ("consent", pa.string())])
        return self._copy_out(
            "SELECT c.seq, c.user_id, u.consent FROM consent_log c LEFT JOIN users u USING (user_id) "
            f"WHERE c.seq > {int(after_seq)} ORDER BY c.seq",
            schema,
        )

    def purge_before(self, kind: PurgeKind, cutoff: datetime, *, dry_run: bool = False) -> int:
        """See :meth:`Store.purge_before`; the touched tables are ``VACUUM FULL``-ed right after a purge that
        removed rows (:mod:`~shelfwise.storage.postgres_retention`)."""
        if dry_run:
            with self._lock:
                return purge(self._conn, kind, cutoff, dry_run=True)
        with self._writing() as conn:
            removed = purge(conn, kind, cutoff, dry_run=False)
        if removed:
            with self._lock:
                vacuum(self._conn, kind)
        return removed

    def erase_deleted(self) -> ErasureReport:
        """``VACUUM FULL`` of the tables a pending deletion touched (see :mod:`postgres_erasure`)."""
        with self._lock:
            return erase_pending(self, self._conn)

    def vacuum_deleted(self) -> None:
        """Alias of :meth:`erase_deleted` kept for callers of the first PostgreSQL release."""
        self.erase_deleted()
