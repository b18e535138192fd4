"""The storage interface: catalogue, events, impressions, judgements, profiles, quarantine and artifacts.

Callers speak Arrow tables with the schemas of :mod:`shelfwise.data.schema`; a backend decides how it keeps
them. The embedded default is one DuckDB file per shop (:mod:`shelfwise.storage.duckdb_store`); a
PostgreSQL backend implements the same class, registered by URL scheme, without touching callers.

Every write of an ingestion batch is atomic: the rows, their quarantine and the run record land together or
not at all.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Literal

import pyarrow as pa

from shelfwise.storage.artifacts import ArtifactStore

RecordKind = Literal["events", "items", "users", "judgements"]
#: What retention purges (``privacy.retention_days``): every event; search events (``type = 'search'``: the
#: query text); impressions; quarantined rows (by their ingestion run's time).
PurgeKind = Literal["events", "impressions", "quarantine", "search_logs"]
PURGE_KINDS: tuple[str, ...] = ("events", "impressions", "quarantine", "search_logs")

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("line", pa.int64()),  # physical line in a text file; row number (1-based) otherwise
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),  # the row as read, JSON
    ]
)


@dataclass(frozen=True)
class ValidatedBatch:
    """One validated batch ready to be written: accepted rows, quarantined rows and bookkeeping.

    Attributes:
        kind: what the rows are.
        rows: accepted rows in the store schema of ``kind``; events have no ``seq`` yet (the store assigns it).
        quarantine: rejected rows with line and reason (:data:`QUARANTINE_SCHEMA`).
        source: file path or a description ("pandas.DataFrame", "dataset:amazon-beauty").
        read: rows read from the source.
        batch_duplicates: rows dropped because an earlier row of the same batch had the same id.
        run_id: identifier of this ingestion run, shared by the quarantine rows.
        extra_items: for judgements, catalogue rows derived from the judged products (may be empty).
        conflicts: of the quarantined rows, events whose ``event_id`` was kept with other content (for the
            run record; a backend without the column ignores it).
    """

    kind: RecordKind
    rows: pa.Table
    quarantine: pa.Table
    source: str
    read: int
    batch_duplicates: int
    run_id: str
    extra_items: pa.Table | None = None
    conflicts: int = 0


@dataclass(frozen=True)
class WriteResult:
    """What a write changed: ``inserted`` new rows, ``updated`` changed rows, ``duplicates`` no-ops."""

    inserted: int
    updated: int
    duplicates: int
    new_users: int = 0
    new_items: int = 0
    unknown_items: int = 0  # distinct item ids referenced by new events but absent from the catalogue


#: Tables whose upserts append their new and changed rows to a change log: table -> (log table, key column,
#: extra condition). ``catalogue_log``: what derived indexes must catch up with; ``consent_log``: what serving
#: processes must re-read (a change of consent).
CHANGE_LOGS: dict[str, tuple[str, str, str]] = {
    "items": ("catalogue_log", "item_id", ""),
    "users": ("consent_log", "user_id", " AND (consent IS NOT NULL OR _state = 'changed')"),
}


def change_log_insert(table: str, base: int, now_sql: str) -> str:
    """The INSERT appending an upsert's rows of ``table`` (a key of :data:`CHANGE_LOGS`) to its change log,
    run by both stores against their ``_classified`` staging table (``_state`` new / changed / same, ``_ord``
    the input order); ``base`` is the log's highest ``seq``, ``now_sql`` the dialect's current time."""
    log_table, key, extra = CHANGE_LOGS[table]
    return (
        f"INSERT INTO {log_table} SELECT {base} + row_number() OVER (ORDER BY _ord), {key}, {now_sql} "
        f"FROM _classified WHERE _state <> 'same'{extra}"
    )


def run_record(batch: ValidatedBatch, result: WriteResult) -> list[Any]:
    """The ``ingest_runs`` row of a written batch after its timestamp: run id, kind, source, read, accepted,
    inserted, updated, quarantined, duplicates (the store's and the batch's own)."""
    return [
        batch.run_id,
        batch.kind,
        batch.source,
        batch.read,
        result.inserted + result.updated,
        result.inserted,
        result.updated,
        batch.quarantine.num_rows,
        result.duplicates + batch.batch_duplicates,
    ]


def batch_result(result: WriteResult, batch: ValidatedBatch, extra_items: int) -> WriteResult:
    """What a batch write reports: the rows' result with the batch's own duplicates and the catalogue rows
    its judgements added."""
    return WriteResult(
        inserted=result.inserted,
        updated=result.updated,
        duplicates=result.duplicates + batch.batch_duplicates,
        new_users=result.new_users,
        new_items=result.new_items + extra_items,
        unknown_items=result.unknown_items,
    )


@dataclass(frozen=True)
class DeletionReport:
    """What deleting a shopper removed, per table.

    ``removed`` always has ``events``, ``users``, ``profiles`` and ``impressions``; other tables (``splits``,
    ``quarantine``) appear when rows of the shopper were found there.
    """

    user_id: str
    removed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ErasureReport:
    """What :meth:`Store.erase_deleted` did.

    Attributes:
        rewritten: whether the store's files were rewritten (false when no deletion was pending).
        deletions: deletions whose bytes this erasure removed from disk.
        seconds: how long it took.
        bytes_before: size of the store's database files before.
        bytes_after: size after.
    """

    rewritten: bool
    deletions: int
    seconds: float
    bytes_before: int
    bytes_after: int


class Store(abc.ABC):
    """A shop's data. Open one with :func:`shelfwise.storage.open_store`.

    Reads return ``pyarrow.Table``; events come ordered by ``(timestamp, seq)`` so a user's history is in
    time order with ingestion order breaking ties.
    """

    url: str

    # -- lifecycle ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; the store stays valid on disk."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    @abc.abstractmethod
    def artifacts(self) -> ArtifactStore:
        """Versioned model and index directories of this shop."""

    def use_artifacts(self, artifacts: ArtifactStore) -> None:
        """Read and write artifacts in ``artifacts`` instead of the backend's own location (``--artifacts``:
        one shared location every replica reads). Backends keep theirs in ``_artifacts``."""
        self._artifacts = artifacts

    # -- metadata ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key`` (schema version, pseudonymisation, dataset facts...)."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""

    # -- writes ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def write_batch(self, batch: ValidatedBatch) -> WriteResult:
        """Write a validated batch atomically, de-duplicating against what is stored.

        Events are de-duplicated by ``event_id``; items and users are upserted by id (an identical row is
        a duplicate, a changed one an update); judgements by ``judgement_id``. Users and items referenced
        by events but not yet known are registered (users) or counted (items). The run record and the
        quarantine rows are written in the same transaction.
        """

    @abc.abstractmethod
    def write_split(self, name: str, table: pa.Table) -> None:
        """Replace the named split (event_id, part) — e.g. a dataset's given train/valid/test split."""

    @abc.abstractmethod
    def write_impressions(self, table: pa.Table) -> int:
        """Append impressions (what was shown); returns rows written (duplicates by request_id skipped)."""

    @abc.abstractmethod
    def upsert_profiles(self, table: pa.Table) -> int:
        """Insert or replace profiles: columns ``user_id``, ``updated_at``, ``profile`` (JSON), ``vector``."""

    @abc.abstractmethod
    def delete_user(self, user_id: str, *, raw_ids: Sequence[str] = ()) -> DeletionReport:
        """Remove every record of a shopper in one transaction: events, the user row, profile, impressions,
        split rows of their events and their quarantined rows.

        Quarantined rows are matched by their parsed ``user_id`` field, and unparseable lines by ``user_id``
        or any of ``raw_ids`` appearing as a field of the line (the id as the source file spelled it, before
        pseudonymisation: the store keeps no mapping back to it, so the caller who knows it passes it).

        The same transaction records that an erasure is pending; the deleted bytes leave the disk files at
        the latest when :meth:`erase_deleted` next runs (a backend documents when that is, and completes a
        pending erasure when it is opened after a crash).
        """

    @abc.abstractmethod
    def erase_deleted(self) -> ErasureReport:
        """Make deleted rows physically unrecoverable from the store's files, now.

        Deleting rows marks them dead; their bytes stay in database files until they are rewritten. This
        rewrites whatever holds them when a deletion is pending (no-op otherwise) and clears the pending
        marker in the same step, so a crash in between repeats the work instead of skipping it.
        """

    # -- consent and retention -----------------------------------------------------------------------
    @abc.abstractmethod
    def set_consent(self, user_id: str, consent: str | None) -> int:
        """Record a shopper's consent (a JSON object of flags, or None for "no record") on their user row,
        creating the row when missing, and log the change for other processes; a withdrawn
        ``personalisation`` also deletes the stored profile. One transaction; returns the log's ``seq``."""

    @abc.abstractmethod
    def consent_seq(self) -> int:
        """The newest entry of the consent log (0 when none)."""

    @abc.abstractmethod
    def read_consent_changes(self, after_seq: int = 0) -> pa.Table:
        """Consent log entries after ``after_seq`` (``seq``, ``user_id``, ``consent`` as stored now), oldest
        first: the shoppers whose consent a serving process must re-read. Ingesting a users file logs the
        rows it inserted or changed."""

    @abc.abstractmethod
    def purge_before(self, kind: PurgeKind, cutoff: datetime, *, dry_run: bool = False) -> int:
        """Delete the rows of a retention kind older than ``cutoff`` (events and search events by their
        timestamp, with their split rows; impressions by theirs; quarantined rows by their ingestion run's
        time); returns how many (``dry_run``: only counts). The deleted bytes leave the store's files as a
        deletion's do (a backend documents when)."""

    # -- reads -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def read_items(
        self, columns: Sequence[str] | None = None, *, item_ids: Sequence[str] | None = None
    ) -> pa.Table:
        """The catalogue ordered by item_id, optionally only the given ids."""

    @abc.abstractmethod
    def read_users(self) -> pa.Table:
        """Known users ordered by user_id."""

    @abc.abstractmethod
    def read_events(
        self,
        columns: Sequence[str] | None = None,
        *,
        types: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        after_seq: int | None = None,
    ) -> pa.Table:
        """Events ordered by (timestamp, seq), optionally only some types or users, or only those ingested
        after ``after_seq`` (the change feed online state follows)."""

    @abc.abstractmethod
    def max_event_seq(self) -> int:
        """The ``seq`` of the newest stored event (0 when none): a cursor for :meth:`read_events`."""

    @abc.abstractmethod
    def catalogue_seq(self) -> int:
        """The newest entry of the catalogue change log (0 when none). A derived artifact records the value
        it was built from; whatever has a larger ``seq`` is what it must catch up with."""

    @abc.abstractmethod
    def read_catalogue_changes(self, after_seq: int = 0) -> pa.Table:
        """Catalogue change log entries (``seq``, ``item_id``) after ``after_seq``, oldest first: one per
        inserted or changed item row (an item taken out of the catalogue is a change to unavailable)."""

    @abc.abstractmethod
    def deletion_seq(self) -> int:
        """The newest entry of the deletion log (0 when none)."""

    @abc.abstractmethod
    def read_deletions(self, after_seq: int = 0) -> pa.Table:
        """Deletion log entries (``seq``, ``user_digest``) after ``after_seq``: which shoppers other processes
        must forget. The log keeps a keyed digest (:meth:`user_digest`), never the id."""

    def user_digest(self, user_id: str) -> str:
        """A keyed SHA-256 of a stored user id: how the deletion log names a shopper without keeping the id."""
        # the salt never changes once written: read it once per process, not once per shopper (a follower
        # digests every shopper it knows, and on a leased DuckDB file each read may wait for the lease)
        salt = getattr(self, "_deletion_salt", None) or self.get_meta("deletion_salt")
        if salt is None:
            import secrets

            salt = secrets.token_hex(16)
            self.set_meta("deletion_salt", salt)
        self._deletion_salt = salt
        return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()

    @abc.abstractmethod
    def read_judgements(self) -> pa.Table:
        """Search relevance judgements (judgement_id, query, item_id, relevance)."""

    @abc.abstractmethod
    def read_split(self, name: str) -> pa.Table:
        """A stored split (event_id, part); empty when absent."""

    @abc.abstractmethod
    def list_splits(self) -> list[str]:
        """Names of the stored splits."""

    @abc.abstractmethod
    def read_impressions(self, user_id: str | None = None) -> pa.Table:
        """Logged impressions, optionally of one user."""

    @abc.abstractmethod
    def read_profiles(self, user_ids: Sequence[str] | None = None) -> pa.Table:
        """Stored profiles."""

    @abc.abstractmethod
    def read_quarantine(self, run_id: str | None = None) -> pa.Table:
        """Quarantined rows with line and reason, optionally of one run."""

    @abc.abstractmethod
    def read_runs(self) -> pa.Table:
        """Ingestion runs with their counts, newest last."""

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """Counts by record kind: users, items, events, judgements, queries, impressions, profiles,
        quarantined, and events per type under ``events_<type>``."""
