"""PII in free text never reaches the store: search queries and quarantined raw lines are scrubbed on ingestion."""

from __future__ import annotations

from pathlib import Path

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.storage import open_store


def test_queries_and_quarantined_lines_are_scrubbed_and_counted(tmp_path: Path) -> None:
    rows = [
        {
            "event_id": "e1",
            "user_id": "u1",
            "type": "search",
            "query": "mail me at jane.doe@example.com",
            "timestamp": 1_700_000_000,
        },
        {
            "event_id": "e2",
            "user_id": "u1",
            "type": "search",
            "query": "red tape 3m 48mm",
            "timestamp": 1_700_000_001,
        },
        {
            "event_id": "e3",
            "user_id": "u2",
            "type": "teleport",
            "query": "call +1 415 555 2671",
            "timestamp": 1_700_000_002,
        },
    ]
    with open_store(tmp_path / "s") as st:
        report = Ingestor(st, load_settings(environ={})).ingest_table(rows, "events")
        queries = sorted(st.read_events(["query"]).column("query").to_pylist())
        raw = st.read_quarantine().column("raw").to_pylist()
    assert queries == ["mail me at [EMAIL]", "red tape 3m 48mm"]  # a product code is not PII
    assert report.quarantined == 1 and "415 555 2671" not in raw[0] and "[PHONE]" in raw[0]
    assert report.pii_scrubbed == 2


def test_scrubbing_can_be_turned_off(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides=["privacy.scrub_pii=false"])
    rows = [
        {
            "event_id": "e1",
            "user_id": "u1",
            "type": "search",
            "query": "jane.doe@example.com",
            "timestamp": 1_700_000_000,
        }
    ]
    with open_store(tmp_path / "s") as st:
        report = Ingestor(st, settings).ingest_table(rows, "events")
        assert st.read_events(["query"]).column("query").to_pylist() == ["jane.doe@example.com"]
    assert report.pii_scrubbed == 0
