"""Deleting a shopper from a PostgreSQL store, and making the deletion final on the server's files.

Rows go in one transaction, as in the DuckDB store: events, the user row, profile, impressions, split rows of their
events, and quarantined rows (by the parsed ``user_id`` of a JSON ``raw``, and for unparseable lines by the id or
a caller-given raw id appearing as a whole field). PostgreSQL keeps deleted tuples in the table files until a
vacuum reclaims them, so the same transaction records an erasure as pending (``erasure.pending_seq``) and
:func:`erase_pending` runs ``VACUUM FULL`` (a rewrite of each touched table into new files) when one is pending.
What it cannot reach: the server's WAL archive and backups, which follow their own retention.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from shelfwise.storage.base import ErasureReport

TABLES = ("events", "users", "profiles", "impressions", "splits", "quarantine", "consent_log")
PENDING_KEY = "erasure.pending_seq"
DONE_KEY = "erasure.done_seq"
_FIELD_SEPARATORS = ",\t;|"


def delete_rows(conn: Any, user_id: str, raw_ids: Sequence[str]) -> dict[str, int]:
    """Delete the shopper's rows (inside the caller's transaction); returns rows removed per table."""
    removed: dict[str, int] = {}
    cur = conn.execute(
        "DELETE FROM splits WHERE event_id IN (SELECT event_id FROM events WHERE user_id = %s)", [user_id]
    )
    if cur.rowcount:
        removed["splits"] = cur.rowcount
    for table in ("events", "users", "profiles", "impressions"):
        removed[table] = conn.execute(f"DELETE FROM {table} WHERE user_id = %s", [user_id]).rowcount
    conn.execute("DELETE FROM consent_log WHERE user_id = %s", [user_id])
    ids = [user_id, *(r for r in raw_ids if r)]
    doomed = []
    for ctid, raw in conn.execute("SELECT ctid, raw FROM quarantine").fetchall():
        if _mentions(raw, ids):
            doomed.append(ctid)
    if doomed:
        conn.execute("DELETE FROM quarantine WHERE ctid = ANY(%s::tid[])", [doomed])
        removed["quarantine"] = len(doomed)
    return removed


def _mentions(raw: str | None, ids: list[str]) -> bool:
    if not raw:
        return False
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return str(parsed.get("user_id")) in ids
    text = raw if isinstance(parsed, str) or parsed is None else json.dumps(parsed)
    fields = [text]
    for sep in _FIELD_SEPARATORS:
        fields = [part for f in fields for part in f.split(sep)]
    return any(f.strip().strip('"') in ids for f in fields)


def erase_pending(store: Any, conn: Any) -> ErasureReport:
    """``VACUUM FULL`` the tables a deletion touched when a deletion is pending (autocommit: a vacuum cannot
    run inside a transaction); records the deletions it covered."""
    pending = int(store.get_meta(PENDING_KEY, 0) or 0)
    done = int(store.get_meta(DONE_KEY, 0) or 0)
    before = _size(conn)
    if pending <= done:
        return ErasureReport(False, 0, 0.0, before, before)
    started = time.perf_counter()
    for table in TABLES:
        conn.execute(f"VACUUM FULL {table}")
    store.set_meta(DONE_KEY, pending)
    return ErasureReport(True, pending - done, round(time.perf_counter() - started, 3), before, _size(conn))


def _size(conn: Any) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
        [list(TABLES)],
    ).fetchone()
    return int(row[0]) if row else 0
