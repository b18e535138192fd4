"""Bringing a loaded search pipeline up to date with its store (what other processes wrote since it loaded).

:func:`catch_up` is :meth:`~shelfwise.search.pipeline.SearchPipeline.catch_up`'s body: catalogue changes,
events, deletions and the shop's search rules, each from the pipeline's own cursor.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shelfwise.search.rules import load_rules

if TYPE_CHECKING:
    from shelfwise.search.pipeline import SearchPipeline
    from shelfwise.storage import Store


def catch_up(pipe: SearchPipeline, store: Store) -> dict[str, int]:
    """See :meth:`~shelfwise.search.pipeline.SearchPipeline.catch_up`."""
    from shelfwise.build import _ITEM_COLUMNS

    with pipe._catch_up_lock:
        items_applied = 0
        changes = store.read_catalogue_changes(pipe._catalogue_seq)
        if changes.num_rows:
            ids = list(dict.fromkeys(str(i) for i in changes.column("item_id").to_pylist()))
            for start in range(0, len(ids), 1000):  # bounded batches: each rebuilds the parser once
                chunk = ids[start : start + 1000]
                rows = store.read_items(_ITEM_COLUMNS, item_ids=chunk).to_pylist()
                for row in rows:
                    if isinstance(row.get("attributes"), str):
                        row["attributes"] = json.loads(row["attributes"])
                items_applied += pipe.upsert_items(rows)
                present = {str(r["item_id"]) for r in rows}
                items_applied += pipe.delete_items([i for i in chunk if i not in present])
            pipe._catalogue_seq = int(max(changes.column("seq").to_pylist()))
        table = store.read_events(
            ["event_id", "user_id", "item_id", "type", "value", "query", "timestamp", "seq"],
            after_seq=pipe._applied.cursor or 0,
        )
        events_applied = pipe.observe(table.to_pylist()) if table.num_rows else 0
        with pipe._lock:
            pipe._applied.advance(
                int(max(table.column("seq").to_pylist()))
                if table.num_rows
                else int(pipe._applied.cursor or 0)
            )
        pipe.rules = load_rules(store)  # synonyms / redirects another process may have changed
        forgotten = 0
        deletions = store.read_deletions(pipe._deletion_seq)
        if deletions.num_rows:
            wanted = set(deletions.column("user_digest").to_pylist())
            from shelfwise.recommend.forget import digest_function

            digest = digest_function(store)
            known = list(pipe.profiles.states) if pipe.profiles is not None else []
            for uid in known:
                if digest(uid) in wanted:
                    forgotten += bool(pipe.forget_user(uid)["profile"])
            pipe._deletion_seq = int(max(deletions.column("seq").to_pylist()))
        return {
            "event_seq": int(pipe._applied.cursor or 0),
            "catalogue_seq": pipe._catalogue_seq,
            "events_applied": events_applied,
            "items_applied": items_applied,
            "deletion_seq": pipe._deletion_seq,
            "users_forgotten": forgotten,
        }
