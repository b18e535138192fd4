"""Consent records and retention purges of the PostgreSQL store, as functions of its open connection.

Kept apart from :mod:`shelfwise.storage.postgres_store` (connections, locking, transactions). A purge deletes in
the writer's transaction, then ``VACUUM FULL`` rewrites the touched tables into new files (autocommit: a vacuum
cannot run inside a transaction), so purged rows leave the table files as a deletion's do; the server's WAL
archive and backups follow their own retention.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

#: per retention kind: the table and the condition of rows older than the cutoff (``%(cutoff)s`` a timestamp,
#: ``%(micros)s`` the same in microseconds: ``events.timestamp`` is stored as integer microseconds)
PURGE_WHERE: dict[str, tuple[str, str]] = {
    "events": ("events", '"timestamp" < %(micros)s'),
    "search_logs": ("events", "type = 'search' AND \"timestamp\" < %(micros)s"),
    "impressions": ("impressions", '"timestamp" < %(cutoff)s'),
    "quarantine": ("quarantine", "run_id IN (SELECT run_id FROM ingest_runs WHERE finished_at < %(cutoff)s)"),
}


def set_consent(conn: Any, user_id: str, consent: str | None) -> int:
    """Upsert the user row's consent, log the change, delete the profile when personalisation is withdrawn
    (inside the caller's transaction); returns the consent log ``seq``."""
    conn.execute(
        "INSERT INTO users (user_id, consent) VALUES (%s, %s) "
        "ON CONFLICT (user_id) DO UPDATE SET consent = EXCLUDED.consent",
        [user_id, consent],
    )
    if consent is not None and json.loads(consent).get("personalisation") is False:
        conn.execute("DELETE FROM profiles WHERE user_id = %s", [user_id])
    row = conn.execute(
        "INSERT INTO consent_log SELECT coalesce(max(seq), 0) + 1, %s, clock_timestamp() FROM consent_log "
        "RETURNING seq",
        [user_id],
    ).fetchone()
    return int(row[0])


def purge(conn: Any, kind: str, cutoff: datetime, *, dry_run: bool) -> int:
    """Delete (``dry_run``: count) the rows of ``kind`` older than ``cutoff`` (split rows of purged events
    with them), inside the caller's transaction."""
    try:
        table, where = PURGE_WHERE[kind]
    except KeyError:
        raise ValueError(f"unknown retention kind {kind!r}; known: {', '.join(PURGE_WHERE)}") from None
    params = {"cutoff": cutoff, "micros": int(cutoff.timestamp() * 1_000_000)}
    if dry_run:
        row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0
    if table == "events":
        conn.execute(
            f"DELETE FROM splits WHERE event_id IN (SELECT event_id FROM events WHERE {where})", params
        )
    return int(conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount)


def vacuum(conn: Any, kind: str) -> None:
    """``VACUUM FULL`` the tables a purge of ``kind`` touched (autocommit connection, outside a transaction)."""
    table = PURGE_WHERE[kind][0]
    for name in (table, "splits") if table == "events" else (table,):
        conn.execute(f"VACUUM FULL {name}")
