"""The embedded default store: one DuckDB file per shop, shared by every process that opens the folder.

Layout of a store folder::

    shop.duckdb          catalogue, events, users, judgements, splits, impressions, profiles,
                         quarantine, change and deletion logs, ingestion runs, metadata
    shop.duckdb.wal      DuckDB's write-ahead log (between checkpoints)
    shop.lock            who holds the store right now (pid, command, since); see :mod:`.locking`
    shop.lock.waiting    processes waiting for it announce themselves here
    artifacts/           versioned model and index directories (see :mod:`shelfwise.storage.artifacts`)

**Many processes, one file.** DuckDB lets one process open a file read-write at a time (read-only openers
only while no writer has it). The service, its ``--workers``, and CLI commands all need to read *and*
write, so instead of one process keeping the file open, every process holds it on a short lease under a
cross-process ``flock`` (:mod:`shelfwise.storage.connection`): it opens the file when an operation comes,
keeps it while operations keep coming, and hands it over as soon as another process waits (after the
operation in progress) or after ``idle_release`` seconds idle. Waiters queue; one that waits longer than
``lock_timeout`` (``$SHELFWISE_STORE_LOCK_TIMEOUT``, 30 s) gets :class:`StoreBusyError` naming the holder.
Why this and not read-only readers beside one writer: DuckDB refuses read-only opens while a writer has the
file, and a writer-owning server would still lock out CLI writes; a server process per store (DuckDB has
none) would be a new service to run. Serialising whole operations fits DuckDB's single-writer model, costs
one open (~20 ms) per hand-over, and nothing per operation within a lease.

**Writes** run in one transaction each; DuckDB's write-ahead log makes a process killed mid-write come back
as it was before that transaction. A failing ``ROLLBACK`` never hides the error that caused it, and a full
disk raises :class:`StoreFullError`. Uniqueness of ids is enforced by the write code (anti-joins), not by
index constraints, which keeps bulk loads fast.

**Deletion and erasure.** :meth:`DuckDBStore.delete_user` removes the shopper from every table and, in the
same transaction, sets an "erasure pending" marker. Deleted bytes stay in the file until it is rewritten
(:mod:`shelfwise.storage.erasure`), which took 0.4-1.5 s for 200k events here and blocks other processes
meanwhile, so deletions are batched: the file is rewritten at the latest ``erase_delay`` seconds after the
first pending deletion (``$SHELFWISE_ERASE_DELAY``, default 60; 0 = within the deleting call), when the
deleting store is closed, or when any process opens the store (a crash between the deletion and the rewrite
is completed there).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
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
from shelfwise.storage.base import (
    DeletionReport,
    ErasureReport,
    PurgeKind,
    Store,
    ValidatedBatch,
    WriteResult,
    batch_result,
    run_record,
)
from shelfwise.storage.connection import LeasedConnection
from shelfwise.storage.duckdb_writes import (
    DB_FILE,
    DDL,
    ITEM_VALUE_COLUMNS,
    SCHEMA_VERSION,
    column_list,
    database_bytes,
    delete_user_rows,
    purge_rows,
    registered,
    scalar,
    set_consent_row,
    upsert_keyed,
    write_events,
    write_rows,
)
from shelfwise.storage.erasure import PENDING_KEY, copy_live_rows, remove_leftovers, swap_in
from shelfwise.storage.errors import StoreError, StoreFullError, StoreNotFoundError
from shelfwise.storage.locking import default_timeout

log = logging.getLogger(__name__)

ENV_ERASE_DELAY = "SHELFWISE_ERASE_DELAY"
DEFAULT_ERASE_DELAY = 60.0
DEFAULT_IDLE_RELEASE = 1.0
DEFAULT_QUANTUM = 0.0


def _env_seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return max(0.0, float(text))
    except ValueError:
        raise ValueError(f"${name}={text!r} must be a number of seconds") from None


class DuckDBStore(Store):
    """A shop's data in one DuckDB file, shared by threads and processes (see the module docstring).

    Args:
        folder: the store folder; created when ``create`` is true.
        create: create the folder and tables when missing (else a missing store is an error).
        read_only: open without write access (it still queues for the store, briefly, like any process).
        lock_timeout: seconds to wait for another process holding the store (default
            ``$SHELFWISE_STORE_LOCK_TIMEOUT`` or 30) before :class:`~shelfwise.storage.errors.StoreBusyError`.
        idle_release: seconds without an operation after which this process closes the file (1 s).
        quantum: seconds this process keeps the store, once it has it, before handing it to a waiter.
        erase_delay: at most this many seconds pass between a deletion and the rewrite that removes its bytes
            (default ``$SHELFWISE_ERASE_DELAY`` or 60; 0 rewrites within :meth:`delete_user`).
    """

    def __init__(
        self,
        folder: Path,
        *,
        create: bool = True,
        read_only: bool = False,
        lock_timeout: float | None = None,
        idle_release: float = DEFAULT_IDLE_RELEASE,
        quantum: float = DEFAULT_QUANTUM,
        erase_delay: float | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.url = f"duckdb://{self.folder}"
        self.read_only = read_only
        self._db_path = self.folder / DB_FILE
        if not self._db_path.exists():
            if not create or read_only:
                raise StoreNotFoundError(
                    f"no shelfwise store at {self.folder} (missing {DB_FILE}); "
                    "create one with `shelfwise init` or ingest data into it"
                )
            self.folder.mkdir(parents=True, exist_ok=True)
        self.erase_delay = (
            erase_delay if erase_delay is not None else _env_seconds(ENV_ERASE_DELAY, DEFAULT_ERASE_DELAY)
        )
        self._initialised = False
        self._pending_at_open = False
        self._db = LeasedConnection(
            self._db_path,
            read_only=read_only,
            timeout=lock_timeout if lock_timeout is not None else default_timeout(),
            idle_release=idle_release,
            quantum=quantum,
            on_connect=self._on_connect,
        )
        try:
            with self._db.session():
                pass
            if self._pending_at_open:  # a deletion whose rewrite did not happen (crash): complete it now
                try:
                    self.erase_deleted()
                except StoreFullError as exc:  # the rewrite needs room for a copy: reads must still work
                    log.warning("erasure left pending on %s: %s", self.folder, exc)
        except BaseException:
            self._db.close()
            raise
        self._artifacts = ArtifactStore(self.folder / "artifacts")

    def _on_connect(self, con: duckdb.DuckDBPyConnection) -> None:
        """Set up tables on the first connection; notice erasures other processes left pending."""
        if self.read_only:
            return
        if not self._initialised:
            remove_leftovers(self._db_path)  # an interrupted rewrite: unused, no other process has the file
            con.execute(DDL)
            if not con.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchall():
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [json.dumps(SCHEMA_VERSION)])
        pending = self._pending(con)
        if pending is not None:
            if not self._initialised:
                self._pending_at_open = True
            else:
                due = float(pending.get("since", time.time())) + self.erase_delay - time.time()
                self._db.schedule(due, self._erase_job)
        self._initialised = True

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Complete a pending erasure of this process's deletions, then release the store."""
        try:
            if not self.read_only and self._pending_here:
                self.erase_deleted()
        except StoreError as exc:
            log.warning("erasure left pending on %s (the next open completes it): %s", self.folder, exc)
        finally:
            self._db.close()

    @property
    def artifacts(self) -> ArtifactStore:
        return self._artifacts

    @contextlib.contextmanager
    def _session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._db.session() as con:
            yield con

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction in one session; a failed ROLLBACK never hides the error that caused it."""
        with self._db.session() as con:
            con.execute("BEGIN")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise

    def _fetch(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        with self._session() as con:
            return con.sql(sql, params=list(params or [])).to_arrow_table()

    def _value(self, sql: str, params: Sequence[Any] | None = None) -> int:
        with self._session() as con:
            return scalar(con, sql, params)

    # -- metadata ----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._session() as con:
            rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return default if not rows else json.loads(rows[0][0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM meta WHERE key = ?", [key])
            con.execute("INSERT INTO meta VALUES (?, ?)", [key, json.dumps(value, default=str)])

    # -- writes ------------------------------------------------------------------------------------
    def write_batch(self, batch: ValidatedBatch) -> WriteResult:
        rows = batch.rows
        if "_ord" not in rows.column_names:
            rows = rows.append_column("_ord", pa.array(range(1, rows.num_rows + 1), pa.int64()))
        tables = {"_batch_rows": rows, "_batch_quarantine": batch.quarantine}
        if batch.extra_items is not None:  # numbered too: the catalogue change log follows source order
            extra = batch.extra_items
            if "_ord" not in extra.column_names:
                extra = extra.append_column("_ord", pa.array(range(1, extra.num_rows + 1), pa.int64()))
            tables["_batch_extra_items"] = extra
        with self._session() as con, registered(con, tables), self._transaction():
            result = self._write_events() if batch.kind == "events" else write_rows(con, batch.kind)
            new_items = 0
            if batch.extra_items is not None:
                new_items = upsert_keyed(
                    con, "items", "item_id", ITEM_VALUE_COLUMNS, "_batch_extra_items", insert_only=True
                )[0]
            con.execute(
                "INSERT INTO quarantine SELECT run_id, kind, source, line, reason, raw FROM _batch_quarantine"
            )
            con.execute(
                "INSERT INTO ingest_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?)", run_record(batch, result)
            )
        return batch_result(result, batch, new_items)

    def _write_events(self) -> WriteResult:
        """The events step of :meth:`write_batch`, inside its transaction (a seam crash tests pause in)."""
        with self._session() as con:
            return write_events(con)

    def write_split(self, name: str, table: pa.Table) -> None:
        with self._session() as con, registered(con, {"_split": table}), self._transaction():
            con.execute("DELETE FROM splits WHERE name = ?", [name])
            con.execute("INSERT INTO splits SELECT ?, event_id, part FROM _split", [name])

    def write_impressions(self, table: pa.Table) -> int:
        table = table.select(IMPRESSION_SCHEMA.names).cast(IMPRESSION_SCHEMA)
        with self._session() as con, registered(con, {"_imp": table}):
            return scalar(
                con,
                f"INSERT INTO impressions SELECT {column_list(IMPRESSION_SCHEMA)} FROM _imp i "
                "ANTI JOIN impressions p ON i.request_id = p.request_id",
            )

    def upsert_profiles(self, table: pa.Table) -> int:
        with self._session() as con, registered(con, {"_prof": table}), self._transaction():
            con.execute("DELETE FROM profiles WHERE user_id IN (SELECT user_id FROM _prof)")
            con.execute("INSERT INTO profiles SELECT user_id, updated_at, profile, vector FROM _prof")
        return table.num_rows

    def delete_user(self, user_id: str, *, raw_ids: Sequence[str] = ()) -> DeletionReport:
        digest = self.user_digest(user_id)
        with self._transaction() as con:
            removed = delete_user_rows(con, user_id, raw_ids)
            base = scalar(con, "SELECT coalesce(max(seq), 0) FROM deletion_log")
            con.execute("INSERT INTO deletion_log VALUES (?, ?, now())", [base + 1, digest])
            self._mark_pending(con, deletions=1)
        self._pending_here = True
        if self.erase_delay <= 0:
            self.erase_deleted()
        else:
            self._db.schedule(self.erase_delay, self._erase_job)
        core = ("events", "users", "profiles", "impressions")
        return DeletionReport(user_id, {k: n for k, n in removed.items() if k in core or n})

    # -- consent and retention -----------------------------------------------------------------------
    def set_consent(self, user_id: str, consent: str | None) -> int:
        with self._transaction() as con:
            return set_consent_row(con, user_id, consent)

    def consent_seq(self) -> int:
        return self._value("SELECT coalesce(max(seq), 0) FROM consent_log")

    def read_consent_changes(self, after_seq: int = 0) -> pa.Table:
        return self._fetch(
            "SELECT c.seq, c.user_id, u.consent FROM consent_log c LEFT JOIN users u USING (user_id) "
            "WHERE c.seq > ? ORDER BY c.seq",
            [int(after_seq)],
        )

    def purge_before(self, kind: PurgeKind, cutoff: datetime, *, dry_run: bool = False) -> int:
        """See :meth:`Store.purge_before`; purged bytes leave the file with the next erasure rewrite (at the
        latest ``erase_delay`` seconds later, or call :meth:`erase_deleted`)."""
        if dry_run:
            with self._session() as con:
                return purge_rows(con, kind, cutoff, dry_run=True)
        with self._transaction() as con:
            removed = purge_rows(con, kind, cutoff, dry_run=False)
            if removed:
                self._mark_pending(con, deletions=0)
        if removed:
            self._pending_here = True
            self._db.schedule(self.erase_delay, self._erase_job)
        return removed

    # -- erasure -----------------------------------------------------------------------------------
    _pending_here = False

    def _mark_pending(self, con: duckdb.DuckDBPyConnection, *, deletions: int) -> None:
        """Set (or extend) the erasure pending marker inside the caller's transaction."""
        pending = self._pending(con) or {"since": time.time(), "deletions": 0}
        pending["deletions"] = int(pending.get("deletions", 0)) + deletions
        con.execute("DELETE FROM meta WHERE key = ?", [PENDING_KEY])
        con.execute("INSERT INTO meta VALUES (?, ?)", [PENDING_KEY, json.dumps(pending)])

    @staticmethod
    def _pending(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
        rows = con.execute("SELECT value FROM meta WHERE key = ?", [PENDING_KEY]).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def _erase_job(self) -> None:
        report = self.erase_deleted()
        if report.rewritten:
            log.info("erased %d deletion(s) from %s in %.2f s", report.deletions, self.folder, report.seconds)

    def erase_deleted(self) -> ErasureReport:
        """Rewrite the DuckDB file without the deleted rows' bytes when a deletion is pending (see
        :mod:`shelfwise.storage.erasure`); holds the store for the rewrite (0.4-1.5 s per 200k events here)."""
        if self.read_only:
            raise StoreError(f"the store {self.folder} was opened read-only; erasure needs write access")
        start = time.perf_counter()
        with self._session() as con:
            pending = self._pending(con)
            size_before = database_bytes(self._db_path)
            if pending is None:
                self._db.unschedule()
                return ErasureReport(False, 0, time.perf_counter() - start, size_before, size_before)
            fresh = copy_live_rows(con, self._db_path)
            self._db.restart(lambda: swap_in(self._db_path, fresh))
            self._db.unschedule()
            self._pending_here = False
        return ErasureReport(
            True,
            int(pending.get("deletions", 0)),
            time.perf_counter() - start,
            size_before,
            database_bytes(self._db_path),
        )

    # -- reads -------------------------------------------------------------------------------------
    def read_items(
        self, columns: Sequence[str] | None = None, *, item_ids: Sequence[str] | None = None
    ) -> pa.Table:
        cols = ", ".join(f'"{c}"' for c in columns) if columns else column_list(ITEM_SCHEMA)
        if item_ids is None:
            return self._fetch(f"SELECT {cols} FROM items ORDER BY item_id")
        return self._fetch(
            f"SELECT {cols} FROM items WHERE item_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY item_id",
            [list(item_ids)],
        )

    def catalogue_seq(self) -> int:
        return self._value("SELECT coalesce(max(seq), 0) FROM catalogue_log")

    def read_catalogue_changes(self, after_seq: int = 0) -> pa.Table:
        return self._fetch(
            "SELECT seq, item_id FROM catalogue_log WHERE seq > ? ORDER BY seq", [int(after_seq)]
        )

    def max_event_seq(self) -> int:
        return self._value("SELECT coalesce(max(seq), 0) FROM events")

    def read_deletions(self, after_seq: int = 0) -> pa.Table:
        return self._fetch(
            "SELECT seq, user_digest FROM deletion_log WHERE seq > ? ORDER BY seq", [int(after_seq)]
        )

    def deletion_seq(self) -> int:
        return self._value("SELECT coalesce(max(seq), 0) FROM deletion_log")

    def read_users(self) -> pa.Table:
        return self._fetch(f"SELECT {column_list(USER_SCHEMA)} FROM users ORDER BY user_id")

    def read_events(
        self,
        columns: Sequence[str] | None = None,
        *,
        types: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        after_seq: int | None = None,
    ) -> pa.Table:
        cols = ", ".join(f'"{c}"' for c in columns) if columns else column_list(EVENT_SCHEMA)
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
        cols = "judgement_id, " + column_list(JUDGEMENT_SCHEMA)
        return self._fetch(f"SELECT {cols} FROM judgements ORDER BY query, item_id, judgement_id")

    def read_split(self, name: str) -> pa.Table:
        return self._fetch("SELECT event_id, part FROM splits WHERE name = ? ORDER BY event_id", [name])

    def list_splits(self) -> list[str]:
        with self._session() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT name FROM splits ORDER BY 1").fetchall()]

    def read_impressions(self, user_id: str | None = None) -> pa.Table:
        if user_id is None:
            return self._fetch(f"SELECT {column_list(IMPRESSION_SCHEMA)} FROM impressions ORDER BY timestamp")
        return self._fetch(
            f"SELECT {column_list(IMPRESSION_SCHEMA)} FROM impressions WHERE user_id = ? ORDER BY timestamp",
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
        with self._session() as con:
            out = {
                name: scalar(con, sql)
                for name, sql in (
                    ("users", "SELECT count(*) FROM users"),
                    ("items", "SELECT count(*) FROM items"),
                    ("events", "SELECT count(*) FROM events"),
                    ("judgements", "SELECT count(*) FROM judgements"),
                    ("queries", "SELECT count(DISTINCT query) FROM judgements"),
                    ("impressions", "SELECT count(*) FROM impressions"),
                    ("profiles", "SELECT count(*) FROM profiles"),
                    ("quarantined", "SELECT count(*) FROM quarantine"),
                    ("users_with_events", "SELECT count(DISTINCT user_id) FROM events"),
                )
            }
            for etype, n in con.execute(
                "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
            ).fetchall():
                out[f"events_{etype}"] = int(n)
        return out
