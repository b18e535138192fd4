"""``shelfwise train``: fit the configured pipeline on every event of a store and save it as a versioned artifact."""

from __future__ import annotations

import logging
import time
from typing import Any

from shelfwise.config import Settings
from shelfwise.recommend.artifact import save_pipeline
from shelfwise.recommend.fit import fit_pipeline, serving_data
from shelfwise.storage import Store

__all__ = ["train_recommender"]

log = logging.getLogger(__name__)


def train_recommender(store: Store, settings: Settings, *, show_progress: bool = True) -> dict[str, Any]:
    """Fit everything the configured pipeline needs on all events in ``store`` and save the artifact.

    The ranker learns from each shopper's last event (the sources fitted on everything before it); the
    served sources and feature state are then refitted on all events.

    Returns:
        A JSON-ready report: artifact version, sizes, candidate recall on the last events, timings.
    """
    t0 = time.perf_counter()
    data = serving_data(store)
    load_seconds = time.perf_counter() - t0
    pipeline, report = fit_pipeline(data, settings, show_progress=show_progress)
    histories = data.train_valid_sequences
    art = save_pipeline(
        store.artifacts,
        pipeline,
        data.ranking.items.ids.astype(str).tolist(),
        data.ranking.users.ids.astype(str).tolist(),
        histories,
        settings,
        report,
    )
    out = {
        "artifact": art.name,
        "version": art.version,
        "path": str(art.path),
        "users": data.n_users,
        "items": data.n_items,
        "events": int(data.split.table.num_rows),
        **report,
        "load_seconds": round(load_seconds, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    log.info("trained %s v%d in %.1f s", art.name, art.version, out["total_seconds"])
    return out
