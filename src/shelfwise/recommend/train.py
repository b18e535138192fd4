"""``shelfwise train``: fit the configured pipeline on every event of a store and save it as a versioned artifact."""

from __future__ import annotations

import logging
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.config import Settings
from shelfwise.privacy.dp_training import check_training_budget, record_trained_model
from shelfwise.privacy.releases import ledger_of
from shelfwise.recommend.artifact import save_pipeline, store_cursors
from shelfwise.recommend.fit import fit_pipeline, serving_data
from shelfwise.storage import Store

__all__ = ["train_recommender"]

log = logging.getLogger(__name__)


def train_recommender(
    store: Store, settings: Settings, *, show_progress: bool = True, runner: Any = None
) -> dict[str, Any]:
    """Fit everything the configured pipeline needs on all events in ``store`` and save the artifact.

    The ranker learns from each shopper's last event (the sources fitted on everything before it); the
    served sources and feature state are then refitted on all events. ``runner``: where the sources are
    fitted (a Ray runner with ``--ray``; in-process by default).

    Returns:
        A JSON-ready report: artifact version, sizes, candidate recall on the last events, timings.
    """
    t0 = time.perf_counter()
    before = store_cursors(store)  # read first: a change racing with training is replayed, never lost
    data = serving_data(store, settings.privacy.default_consent)  # without shoppers withholding training
    cursors = {**before, "event_seq": _event_seq(data.split.table, before["event_seq"])}
    load_seconds = time.perf_counter() - t0
    ledger = ledger_of(store, settings.privacy.dp)  # DP training is charged to the shop's privacy budget
    check_training_budget(ledger, settings.privacy.dp_training, data.n_users, "sequential")
    pipeline, report = fit_pipeline(data, settings, show_progress=show_progress, runner=runner)
    histories = data.train_valid_sequences
    art = save_pipeline(
        store.artifacts,
        pipeline,
        data.ranking.items.ids.astype(str).tolist(),
        data.ranking.users.ids.astype(str).tolist(),
        histories,
        settings,
        report,
        cursors,
    )
    release = record_trained_model(ledger, pipeline, art.version)
    out = {
        "artifact": art.name,
        "version": art.version,
        "path": str(art.path),
        "users": data.n_users,
        "items": data.n_items,
        "events": int(data.split.table.num_rows),
        **cursors,
        **report,
        **({"privacy_release": release.release_id} if release is not None else {}),
        "load_seconds": round(load_seconds, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    log.info("trained %s v%d in %.1f s", art.name, art.version, out["total_seconds"])
    return out


def _event_seq(table: pa.Table, fallback: int) -> int:
    """The newest ``seq`` among the events trained on (``fallback`` when the table has no ``seq``)."""
    if "seq" not in table.column_names or table.num_rows == 0:
        return int(fallback)
    return int(pc.max(table.column("seq")).as_py() or 0)
