"""What one ingestion run did: :class:`IngestReport`, and :func:`merge_reports` to add several up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class IngestReport:
    """The outcome of ingesting one source. ``read == accepted + quarantined + duplicates`` always holds.

    ``conflicts`` (rows whose event id was already stored or seen with different content) and rows on
    unknown items under ``ingest.unknown_items = "quarantine"`` are part of ``quarantined``;
    ``quarantine_known`` of the quarantined rows were already stored from an earlier run of the same content
    and were not written again. ``unknown_items`` counts distinct item ids absent from the catalogue,
    ``unknown_item_events`` the events on them. ``batches`` is the number of transactions written.
    """

    run_id: str
    kind: str
    source: str
    read: int
    accepted: int
    inserted: int
    updated: int
    quarantined: int
    duplicates: int
    new_users: int = 0
    new_items: int = 0
    unknown_items: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    conflicts: int = 0
    quarantine_known: int = 0
    unknown_item_events: int = 0
    batches: int = 1
    pii_scrubbed: int = 0  # PII spans replaced by placeholders in free text (privacy.scrub_pii)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def merge_reports(reports: list[IngestReport], *, kind: str, source: str) -> IngestReport:
    """Add up several reports (e.g. the items and events of one dataset) into one."""
    total = {
        k: sum(getattr(r, k) for r in reports)
        for k in (
            "read",
            "accepted",
            "inserted",
            "updated",
            "quarantined",
            "duplicates",
            "new_users",
            "new_items",
            "unknown_items",
            "conflicts",
            "quarantine_known",
            "unknown_item_events",
            "pii_scrubbed",
        )
    }
    sample = [s for r in reports for s in r.quarantine_sample][:5]
    return IngestReport(
        run_id=",".join(r.run_id for r in reports),
        kind=kind,
        source=source,
        batches=sum(r.batches for r in reports),
        quarantine_sample=sample,
        seconds=round(sum(r.seconds for r in reports), 3),
        **total,
    )
