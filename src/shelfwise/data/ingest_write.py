"""Writing a validated source in batches: each batch is one atomic :meth:`Store.write_batch`."""

from __future__ import annotations

import logging

import pyarrow as pa

from shelfwise.data.sources import SourceError
from shelfwise.storage.base import RecordKind, Store, ValidatedBatch, WriteResult

log = logging.getLogger("shelfwise.data.ingest")


def write_in_batches(
    store: Store,
    accepted: pa.Table,
    quarantine: pa.Table,
    *,
    kind: str,
    source: str,
    run_id: str,
    read: int,
    batch_duplicates: int,
    conflicts: int = 0,
    extra_items: pa.Table | None,
    batch_rows: int,
) -> tuple[WriteResult, int]:
    """Write the accepted rows in transactions of ``ingest.batch_rows`` rows, in source order.

    The first batch also carries the quarantine, the in-source duplicates and the catalogue rows of
    judged products, so each batch's run record reconciles (``read = accepted + quarantined +
    duplicates``). A crash keeps the batches committed before it; re-running the ingest skips them as
    duplicates. ``_ord`` is renumbered per batch so event ``seq`` stays dense and in source order.
    """
    size = batch_rows
    accepted = accepted.sort_by("_ord")
    starts = list(range(0, accepted.num_rows, size)) or [0]
    keys = ("inserted", "updated", "duplicates", "new_users", "new_items", "unknown_items")
    totals = dict.fromkeys(keys, 0)
    for k, start in enumerate(starts):
        rows = accepted.slice(start, size)
        ords = pa.array(range(1, rows.num_rows + 1), pa.int64())
        rows = rows.set_column(rows.column_names.index("_ord"), "_ord", ords)
        first = k == 0
        batch = ValidatedBatch(
            kind=record_kind(kind),
            rows=rows,
            quarantine=quarantine if first else quarantine.slice(0, 0),
            source=source,
            read=rows.num_rows + (read - accepted.num_rows if first else 0),
            batch_duplicates=batch_duplicates if first else 0,
            conflicts=conflicts if first else 0,
            run_id=run_id,
            extra_items=extra_items if first else None,
        )
        result = store.write_batch(batch)
        for key in keys:
            totals[key] += getattr(result, key)
        log.info(
            "committed batch %d/%d of %s: rows %s to %s",
            k + 1,
            len(starts),
            source,
            f"{start + 1:,}",
            f"{start + rows.num_rows:,}",
        )
    return WriteResult(**totals), len(starts)


def record_kind(kind: str) -> RecordKind:
    """``kind`` as a store record kind."""
    if kind in ("events", "items", "users", "judgements"):
        return kind  # type: ignore[return-value]
    raise SourceError(f"unknown kind {kind!r}")
