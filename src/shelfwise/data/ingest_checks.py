"""Checks of an ingestion batch against what the store already holds, as SQL over the staging engine.

Each check marks rows of the validated table (``<staged>_v``: normalised columns, ``_rec``, ``_reason``,
``_conflict``) so that quarantine and the accepted rows stay the one place where rows are split:

- :func:`mark_conflicts`: an event whose ``event_id`` is stored, or earlier in the same source, with
  different content is a *conflict* (quarantined, naming the differing fields); the stored / first row
  wins. Identical repeats stay silent duplicates.
- :func:`mark_unknown_items`: events on items absent from the catalogue are counted, and quarantined when
  ``ingest.unknown_items = "quarantine"`` (catalogues often arrive after the events, so accept is default).
- :func:`drop_known_quarantine`: quarantine rows already stored from the same content (same kind, raw row
  and reason) are not written again, so re-ingesting a file changes nothing.
"""

from __future__ import annotations

import logging

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.data.schema import EVENT_COLUMNS
from shelfwise.data.validation import q
from shelfwise.storage.base import Store

log = logging.getLogger(__name__)

#: Event fields compared to tell an identical duplicate from a conflicting one.
EVENT_FIELDS: tuple[str, ...] = tuple(c for c in EVENT_COLUMNS if c != "event_id")

CONFLICT_PREFIX = "conflicting duplicate"

#: A batch of n events compares against every stored event when n * this >= the stored events' ``seq``;
#: a smaller batch reads only the events of its own users (the Store interface has no lookup by event id),
#: so a small batch's conflict on a different ``user_id`` passes as a plain duplicate.
FULL_SCAN_RATIO = 20


def _diff_sql(left: str, right: str) -> str:
    """SQL text listing the event fields where ``left`` and ``right`` differ ('' when none)."""
    parts = ", ".join(
        f"CASE WHEN {left.format(c=q(f))} IS DISTINCT FROM {right.format(c=q(f))} THEN '{f}' END"
        for f in EVENT_FIELDS
    )
    return f"concat_ws(', ', {parts})"


def _conflict_reason(valid: str) -> str:
    """The reason of a conflicting row (SQL). The same words whether the kept event is stored or earlier in
    the source, so re-ingesting a file finds its conflicts already quarantined."""
    return (
        f"'{CONFLICT_PREFIX}: event_id \"' || {valid}.event_id || '\" differs in ' || d.diff || "
        "' from the event already kept under that id (the kept one stays)'"
    )


def mark_conflicts(con: duckdb.DuckDBPyConnection, valid: str, store: Store | None) -> int:
    """Quarantine events whose explicit ``event_id`` is stored (unless ``store`` is None), or seen earlier
    in this source, with other content. Returns how many rows were marked."""
    explicit = f"FROM {valid} WHERE _reason IS NULL AND event_id IS NOT NULL"
    n_rows, n_ids = con.execute(f"SELECT count(*), count(DISTINCT event_id) {explicit}").fetchall()[0]
    if not n_rows:
        return 0
    stored_seq = store.max_event_seq() if store is not None else 0
    if store is not None and stored_seq > 0:
        columns = ["event_id", *EVENT_FIELDS]
        if n_rows * FULL_SCAN_RATIO >= stored_seq:
            stored = store.read_events(columns)
        else:  # a small batch against a big store: only its users' events
            users = [r[0] for r in con.execute(f"SELECT DISTINCT user_id {explicit}").fetchall()]
            stored = store.read_events(columns, user_ids=users)
        con.register("_stored_events", stored)
        try:
            con.execute(
                f"UPDATE {valid} SET _conflict = true, _reason = {_conflict_reason(valid)} "
                f"FROM (SELECT b._rec, {_diff_sql('b.{c}', 's.{c}')} AS diff FROM {valid} b "
                "JOIN _stored_events s ON b.event_id = s.event_id "
                "WHERE b._reason IS NULL AND b.event_id IS NOT NULL) d "
                f"WHERE {valid}._rec = d._rec AND d.diff <> ''"
            )
        finally:
            con.unregister("_stored_events")
    if n_rows != n_ids:  # repeated ids inside the source: compare each to the first valid one
        first = "first_value({c}) OVER (PARTITION BY event_id ORDER BY _rec)"
        con.execute(
            f"UPDATE {valid} SET _conflict = true, _reason = {_conflict_reason(valid)} "
            f"FROM (SELECT _rec, {_diff_sql('{c}', first)} AS diff {explicit}) d "
            f"WHERE {valid}._rec = d._rec AND d.diff <> ''"
        )
    return int(con.execute(f"SELECT count(*) FROM {valid} WHERE _conflict").fetchall()[0][0])


def mark_unknown_items(
    con: duckdb.DuckDBPyConnection, valid: str, store: Store, *, quarantine: bool
) -> tuple[int, int]:
    """Count (distinct items, events) of valid events on items absent from the catalogue; with
    ``quarantine`` those events are marked as bad rows."""
    ids = [
        r[0]
        for r in con.execute(f"SELECT DISTINCT item_id FROM {valid} WHERE item_id IS NOT NULL").fetchall()
    ]
    catalogue = store.read_items(["item_id"], item_ids=ids)
    con.register("_catalogue_ids", catalogue)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _unknown AS SELECT v._rec, v.item_id FROM {valid} v "
            "ANTI JOIN _catalogue_ids c ON v.item_id = c.item_id "
            "WHERE v._reason IS NULL AND v.item_id IS NOT NULL"
        )
    finally:
        con.unregister("_catalogue_ids")
    items, events = con.execute("SELECT count(DISTINCT item_id), count(*) FROM _unknown").fetchall()[0]
    if quarantine and events:
        con.execute(
            f"UPDATE {valid} SET _reason = 'item_id \"' || {valid}.item_id || "
            '\'" is not in the catalogue (ingest.unknown_items = "quarantine")\' '
            f"FROM _unknown u WHERE {valid}._rec = u._rec"
        )
    con.execute("DROP TABLE _unknown")
    return int(items), int(events)


def quarantine_keys(con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Array:
    """The content key of quarantine rows: md5 of (kind, raw row, reason); line, run and source excluded."""
    con.register("_q_rows", table.select(["kind", "raw", "reason"]))
    try:
        return (
            con.sql("SELECT md5(concat_ws(chr(31), kind, coalesce(raw, ''), reason)) AS k FROM _q_rows")
            .to_arrow_table()
            .column("k")
            .combine_chunks()
        )
    finally:
        con.unregister("_q_rows")


def drop_known_quarantine(
    con: duckdb.DuckDBPyConnection, quarantine: pa.Table, store: Store
) -> tuple[pa.Table, int]:
    """The quarantine rows not already stored from the same content, and how many were."""
    if not quarantine.num_rows:
        return quarantine, 0
    stored = store.read_quarantine()
    stored = stored.filter(pc.equal(stored.column("kind"), quarantine.column("kind")[0]))
    if not stored.num_rows:
        return quarantine, 0
    known = pc.is_in(quarantine_keys(con, quarantine), value_set=quarantine_keys(con, stored))
    fresh = quarantine.filter(pc.invert(known))
    return fresh, quarantine.num_rows - fresh.num_rows


#: free-text columns scrubbed of PII on the way in, per record kind (catalogue text is the shop's own)
SCRUBBED_COLUMNS: dict[str, tuple[str, ...]] = {"events": ("query",), "users": ("attributes",)}


def scrub_free_text(kind: str, accepted: pa.Table, quarantine: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """Accepted rows and quarantined raw lines with PII replaced by typed placeholders
    (:func:`shelfwise.privacy.pii.scrub_table`); returns both tables and the number of spans replaced."""
    from shelfwise.privacy.pii import scrub_table

    spans = 0
    columns = SCRUBBED_COLUMNS.get(kind, ())
    if columns and accepted.num_rows:
        accepted, counts = scrub_table(accepted, columns)
        spans += sum(counts["total"].values())
    if quarantine.num_rows:
        quarantine, counts = scrub_table(quarantine, ["raw"])
        spans += sum(counts["total"].values())
    return accepted, quarantine, spans
