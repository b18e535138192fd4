"""What consent and retention cost on a real store: the consented read of training events against the plain read,
and a retention purge (with the erasure rewrite) against the plain deletion of one shopper.

On a copy of a built Amazon Beauty store (198,502 events, 22,363 shoppers, 26,340 impressions):

* training read: ``store.read_events(cols)`` (baseline) vs ``consented_events(store, "training", cols)`` with
  ``--withhold`` shoppers recording ``{"training": false}`` (the filter the recommender fit, search popularity
  and DP releases read through), median of ``--repeat`` runs each, interleaved;
* purge: ``shelfwise purge``'s work (``privacy.retention.purge``) with retention set so that every impression and
  every event is older than the cutoff (Beauty's timestamps are synthetic, all on 2000-01-01; the purge runs "two
  days later" so the impressions logged today are past a 1-day retention), dry run first, and
  ``delete_user`` + ``erase_deleted`` of one shopper as the side-by-side baseline of a rewrite.

    python benchmarks/bench_retention.py --store /tmp/h2b-beauty [--repeat 5] [--withhold 1000]

The store is copied to a temporary folder first (the original is read-only). Writes
``benchmarks/results/retention.json`` and ``retention.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shelfwise.privacy.consent import consented_events
from shelfwise.privacy.retention import RetentionDays, purge
from shelfwise.storage import open_store
from shelfwise.storage.duckdb_writes import DB_FILE, database_bytes

RESULTS = Path(__file__).parent / "results"
COLUMNS = ["event_id", "user_id", "item_id", "type", "timestamp", "seq"]


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(store_path: Path, repeat: int, withhold: int) -> dict[str, Any]:
    """Measure on a copy of ``store_path``; returns the JSON-ready result."""
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        copy = Path(tmp) / "shop"
        shutil.copytree(store_path, copy)
        with open_store(copy, create=False) as st:
            users = sorted(set(st.read_events(["user_id"]).column("user_id").to_pylist()))
            for u in users[:withhold]:
                st.set_consent(u, '{"training": false}')
            plain, consented = [], []
            rows = {}
            for _ in range(repeat):
                s, t = _timed(lambda: st.read_events(COLUMNS))
                plain.append(s)
                rows["plain"] = t.num_rows
                s, t = _timed(lambda: consented_events(st, "training", COLUMNS))
                consented.append(s)
                rows["consented"] = t.num_rows
            counts = st.counts()
            later = datetime.now(UTC) + timedelta(
                days=2
            )  # as if run two days on: today's impressions are old
            retention = RetentionDays(events=365, impressions=1)
            dry_s, dry = _timed(lambda: purge(st, retention, now=later, dry_run=True))
            shopper = users[-1]
            delete_s, erased = _timed(lambda: (st.delete_user(shopper), st.erase_deleted())[1])
            purge_s, done = _timed(lambda: purge(st, retention, now=later))
            size_after = database_bytes(copy / DB_FILE)
            after = st.counts()
    return {
        "store": str(store_path),
        "events": counts["events"],
        "impressions": counts["impressions"],
        "withheld_shoppers": withhold,
        "read_rows": rows,
        "read_plain_median_s": round(statistics.median(plain), 4),
        "read_consented_median_s": round(statistics.median(consented), 4),
        "read_ratio": round(statistics.median(consented) / statistics.median(plain), 2),
        "purge_dry_run_s": round(dry_s, 3),
        "purge_dry_run_removed": dry["removed"],
        "delete_one_shopper_and_erase_s": round(delete_s, 3),
        "purge_s": round(purge_s, 3),
        "purge_removed": done["removed"],
        "after": {"events": after["events"], "impressions": after["impressions"]},
        "db_bytes": {
            "before": erased.bytes_before,
            "after_delete": erased.bytes_after,
            "after_purge": size_after,
        },
        "repeat": repeat,
        "machine": "2 cores shared with 7 other engineers' jobs (loaded)",
    }


def markdown(r: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    return "\n".join(
        [
            "# Consent and retention on Amazon Beauty",
            "",
            f"Command: `python benchmarks/bench_retention.py --store {r['store']} --repeat {r['repeat']} "
            f"--withhold {r['withheld_shoppers']}`; machine: {r['machine']}.",
            "",
            "| what | baseline | with consent / retention | ratio |",
            "|---|---|---|---|",
            f"| training read, median of {r['repeat']} ({r['read_rows']['plain']:,} events; "
            f"{r['withheld_shoppers']:,} shoppers withhold training -> {r['read_rows']['consented']:,}) | "
            f"{r['read_plain_median_s']} s | {r['read_consented_median_s']} s | {r['read_ratio']}x |",
            f"| rewrite of the store: delete one shopper + erase vs purge all {r['events']:,} events and "
            f"{r['impressions']:,} impressions + erase | {r['delete_one_shopper_and_erase_s']} s | "
            f"{r['purge_s']} s | - |",
            f"| purge --dry-run (counts only) | - | {r['purge_dry_run_s']} s | - |",
            "",
            f"Removed: {r['purge_removed']}; left: {r['after']}. Database file bytes: {r['db_bytes']}.",
            "",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path("/tmp/h2b-beauty"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--withhold", type=int, default=1000)
    args = ap.parse_args()
    result = run(args.store, args.repeat, args.withhold)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "retention.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "retention.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
