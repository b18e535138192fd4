"""The PostgreSQL store's tables, and the versioned migrations that create and change them.

Each migration is a list of statements applied in one transaction under an advisory lock, so two processes
opening a fresh database at once apply it exactly once. ``shelfwise_schema`` records every applied version;
a database whose version is newer than this code knows is refused (an old binary must not write to it).

Unlike the embedded store, ids are primary keys here: PostgreSQL's anti-joins against a large ``events``
table need the index, and the constraint also stops a second writer that bypassed the writer lock.
``events.timestamp`` holds integer microseconds since the epoch (UTC), Arrow's own representation: the
event log is the bulk of the data and is written and read whole, and turning microseconds into
``timestamptz`` and back cost more than the rest of the copy (the ``events_readable`` view shows them as
``timestamptz`` for people). ``events.seq`` has a BRIN index (rows are appended in seq order, so it is tiny and nearly free to keep);
``events.user_id`` has none on purpose: each btree on ``events`` costs ingest time, and per-user reads and
deletions are rare next to bulk ingest and full reads for training (add one with a migration if a shop's
access pattern says otherwise).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

#: Key of the transaction-level advisory lock every writer takes (one writer at a time per database,
#: as in the embedded store: ``seq`` and change-log numbers are assigned as max + n).
WRITER_LOCK = 0x5E1F_0001
#: Key of the advisory lock held while migrating.
MIGRATION_LOCK = 0x5E1F_0002

#: Every text column compares byte-wise (as the embedded store orders), whatever the database's locale;
#: this also makes key comparisons plain memcmp.
T = 'text COLLATE "C"'

_V1 = [
    f"CREATE TABLE meta (key {T} PRIMARY KEY, value {T})",
    f"""CREATE TABLE items (
        item_id {T} PRIMARY KEY, title {T}, description {T}, category {T}, brand {T},
        price double precision, currency {T}, attributes {T}, image {T}, available boolean NOT NULL,
        updated_at timestamptz)""",
    f"CREATE TABLE users (user_id {T} PRIMARY KEY, attributes {T}, consent {T})",
    f"""CREATE TABLE events (
        event_id {T} PRIMARY KEY, user_id {T} NOT NULL, item_id {T}, type {T} NOT NULL,
        value double precision, query {T}, "timestamp" bigint NOT NULL, session_id {T},
        request_id {T}, seq bigint NOT NULL)""",
    "COMMENT ON COLUMN events.\"timestamp\" IS 'microseconds since 1970-01-01 UTC (see events_readable)'",
    "CREATE INDEX events_seq_brin ON events USING brin (seq)",
    """CREATE VIEW events_readable AS SELECT event_id, user_id, item_id, type, value, query,
        timestamptz 'epoch' + "timestamp" * interval '1 microsecond' AS "timestamp", session_id, request_id, seq
        FROM events""",
    f"""CREATE TABLE judgements (
        judgement_id {T} PRIMARY KEY, query {T} NOT NULL, item_id {T} NOT NULL,
        relevance double precision NOT NULL)""",
    f"CREATE TABLE splits (name {T} NOT NULL, event_id {T} NOT NULL, part {T} NOT NULL)",
    "CREATE INDEX splits_name_idx ON splits (name)",
    f"""CREATE TABLE impressions (
        request_id {T} PRIMARY KEY, user_id {T}, "timestamp" timestamptz NOT NULL, context {T},
        item_ids text[] COLLATE "C" NOT NULL, scores double precision[], arm {T})""",
    "CREATE INDEX impressions_user_idx ON impressions (user_id)",
    f"CREATE TABLE profiles (user_id {T} PRIMARY KEY, updated_at timestamptz, profile {T}, vector real[])",
    f"""CREATE TABLE quarantine (
        run_id {T} NOT NULL, kind {T} NOT NULL, source {T} NOT NULL, line bigint,
        reason {T} NOT NULL, raw {T})""",
    f"CREATE TABLE catalogue_log (seq bigint PRIMARY KEY, item_id {T} NOT NULL, changed_at timestamptz)",
    f"CREATE TABLE deletion_log (seq bigint PRIMARY KEY, user_digest {T} NOT NULL, deleted_at timestamptz)",
    f"""CREATE TABLE ingest_runs (
        run_id {T} NOT NULL, kind {T}, source {T}, finished_at timestamptz, read bigint, accepted bigint,
        inserted bigint, updated bigint, quarantined bigint, duplicates bigint)""",
]

#: ``events`` columns stored as integer microseconds since the epoch (read and written without conversion)
EVENT_MICROS = frozenset({"timestamp"})

#: version -> statements; append a new version to change the schema, never edit an applied one.
#: v2: the consent log (which shoppers' consent changed, for serving processes to re-read)
_V2 = [f"CREATE TABLE consent_log (seq bigint PRIMARY KEY, user_id {T} NOT NULL, changed_at timestamptz)"]

MIGRATIONS: dict[int, list[str]] = {1: _V1, 2: _V2}
SCHEMA_VERSION = max(MIGRATIONS)


def schema_version(conn: psycopg.Connection) -> int:
    """The applied schema version of the connected database (0 when shelfwise never ran there)."""
    row = conn.execute("SELECT to_regclass('shelfwise_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM shelfwise_schema").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection) -> int:
    """Apply the migrations the database lacks, each in its own transaction; returns the final version.

    Raises:
        RuntimeError: if the database holds a newer schema than this code knows.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS shelfwise_schema (version int PRIMARY KEY, applied_at timestamptz)"
        )
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database holds shelfwise schema version {current}, newer than this code's "
                f"{SCHEMA_VERSION}: upgrade shelfwise"
            )
        for version in sorted(v for v in MIGRATIONS if v > current):
            with conn.transaction():
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)  # trusted constant SQL
                conn.execute("INSERT INTO shelfwise_schema VALUES (%s, now())", [version])
            log.info("applied shelfwise schema migration %d", version)
        return max(current, SCHEMA_VERSION)
