"""Fitting the pipeline on a split, without leakage: what ``shelfwise train`` and ``evaluate --models
shelfwise`` both run.

1. The sources are fitted on the validation view of the split (:func:`~shelfwise.ranking.dataset.validation_view`:
   the train part; the held-out items are the validation events).
2. Each validation user's request (history = their train items) goes through the sources exactly as a
   served request does (:meth:`ShelfwisePipeline.merged`); the candidates are labelled with the user's
   validation item and the LightGBM ranker is trained on them with the feature state of the train part.
3. Fresh sources and the feature state are fitted on train + valid; the ranker is kept.

The sequential model is trained once, on the train part with early stopping on the validation items
(the SASRec convention), and used for both steps: refitting it would double the longest training. Its
scores on the validation items are therefore slightly optimistic for the ranker (early stopping saw
them); the test part is never read.

For serving, :func:`serving_data` makes a split of *all* events whose validation part is each shopper's
last event and whose test part is empty, so the served models learn from everything.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData, aligned_vectors, ordered_events
from shelfwise.encoded.interactions import IdIndex, RankingData, interaction_matrix, targets_by_user
from shelfwise.encoded.splits import LeaveOneOut, Split
from shelfwise.privacy.consent import ConsentDefaults
from shelfwise.ranking.config import RankerConfig
from shelfwise.ranking.dataset import RequestSet, fit_state, validation_view
from shelfwise.ranking.ranker import Ranker
from shelfwise.recommend.pipeline import ShelfwisePipeline, make_context
from shelfwise.recommend.sources import build_source
from shelfwise.retrieval.base import CandidateSource, UserContext
from shelfwise.storage import Store

__all__ = ["fit_pipeline", "pipeline_sources", "ranker_config", "serving_data"]

log = logging.getLogger(__name__)


def pipeline_sources(settings: Settings) -> list[str]:
    """The configured source names, with the fallback source added when missing."""
    names = list(dict.fromkeys(settings.recommend.sources))
    if settings.recommend.fallback not in names:
        names.append(settings.recommend.fallback)
    return names


def ranker_config(settings: Settings) -> RankerConfig:
    """The ranker settings the pipeline uses (the ranking benchmark's defaults, seeded)."""
    cfg = RankerConfig(seed=settings.seed, k_per_source=settings.recommend.k_per_source)
    cfg.lgbm.seed = settings.seed
    return cfg


def _requests(
    pipeline: ShelfwisePipeline, contexts: list[UserContext], targets: np.ndarray, show_progress: bool
) -> RequestSet:
    kept_ctx, kept_merged, kept_labels = [], [], []
    chunk = 512
    for start in tqdm(range(0, len(contexts), chunk), desc="ranker requests", disable=not show_progress):
        batch = contexts[start : start + chunk]
        for ctx, merged, target in zip(
            batch, pipeline.merged_many(batch), targets[start : start + chunk], strict=True
        ):
            t = np.atleast_1d(target)
            labels = np.isin(merged.items, t[t >= 0]).astype(np.float32)
            if labels.any():
                kept_ctx.append(ctx)
                kept_merged.append(merged)
                kept_labels.append(labels)
    return RequestSet(kept_ctx, kept_merged, kept_labels, len(contexts))


def _fit_source(job: tuple[str, Settings, RecommendData]) -> tuple[CandidateSource, float]:
    """One source fitted on one view (a job of the runner: a Ray task with ``--ray``), and its seconds."""
    name, settings, on = job
    t = time.perf_counter()
    source = build_source(name, settings).fit(on)
    return source, round(time.perf_counter() - t, 1)


def fit_pipeline(
    data: RecommendData, settings: Settings, *, show_progress: bool = True, runner: Any = None
) -> tuple[ShelfwisePipeline, dict[str, Any]]:
    """Train the ranker on the validation period and return the pipeline refitted on train + valid.

    ``runner`` (a :class:`~shelfwise.distributed.JobRunner`, default in-process): every source is fitted on
    the validation view and on all events as independent jobs, in parallel on a Ray cluster.

    Returns:
        ``(pipeline, report)``; the report is JSON-ready (timings, candidate recall, ranker rounds).
    """
    cfg = settings.recommend
    names = pipeline_sources(settings)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    view = _validation_view(data)
    shared: dict[str, CandidateSource] = {}
    if "sequential" in names:  # trained once: train part, early stopping on the validation items
        t = time.perf_counter()
        shared["sequential"] = build_source("sequential", settings).fit(data)
        seconds["sequential"] = round(time.perf_counter() - t, 1)

    # the sources of both steps are independent of the ranker: fitted up front as one batch of jobs
    todo = [(name, step, on) for step, on in (("validation", view), ("final", data)) for name in names]
    todo = [job for job in todo if job[0] not in shared]
    if runner is None:
        from shelfwise.distributed import InProcessRunner

        runner = InProcessRunner()
    t = time.perf_counter()
    from shelfwise.distributed.runner import JobFailedError

    try:
        done = runner.map(_fit_source, [(name, settings, on) for name, _, on in todo], desc="sources")
    except JobFailedError as exc:  # the source's own error, as when fitted without jobs
        raise exc.cause from exc
    seconds["sources_wall"] = round(time.perf_counter() - t, 1)
    by_step: dict[tuple[str, str], CandidateSource] = {}
    for (name, step, _), (source, took) in zip(todo, done, strict=True):
        by_step[(name, step)] = source
        seconds[f"{name}/{step}"] = took

    def fitted(step: str) -> list[CandidateSource]:
        return [shared[name] if name in shared else by_step[(name, step)] for name in names]

    view_sources = fitted("validation")
    users, targets = view.ranking.test_users, view.ranking.test_targets
    if cfg.ranker_max_users is not None and users.size > cfg.ranker_max_users:
        keep = np.sort(
            np.random.default_rng(settings.seed).choice(users.size, cfg.ranker_max_users, replace=False)
        )
        users, targets = users[keep], targets[keep]
    seqs = view.train_valid_sequences
    contexts = [make_context(int(u), seqs[int(u)], cfg.max_history) for u in users]
    rconfig = ranker_config(settings)
    ranker = Ranker(rconfig)
    probe = ShelfwisePipeline(view_sources, ranker, cfg.k_per_source)
    t = time.perf_counter()
    requests = _requests(probe, contexts, targets, show_progress)
    seconds["ranker_requests"] = round(time.perf_counter() - t, 1)
    log.info("shelfwise: candidate recall on validation %.4f (%d users)", requests.recall, users.size)
    t = time.perf_counter()
    ranker.fit_requests(requests, fit_state(view, rconfig.features))
    seconds["ranker_fit"] = round(time.perf_counter() - t, 1)
    final = fitted("final")
    t = time.perf_counter()
    ranker.state = fit_state(data, rconfig.features)
    seconds["feature_state"] = round(time.perf_counter() - t, 1)
    pipeline = ShelfwisePipeline(final, ranker, cfg.k_per_source)
    booster = ranker.model.booster
    report = {
        "sources": names,
        "validation_users": int(users.size),
        "validation_candidate_recall": round(requests.recall, 4),
        "ranker_requests": len(requests.merged),
        "ranker_rounds": int(booster.best_iteration or booster.current_iteration()) if booster else None,
        "ranker_features": len(ranker.features.names) if ranker.features else 0,
        "seconds": {**seconds, "total": round(time.perf_counter() - t0, 1)},
        "runner": getattr(runner, "name", "in-process"),
    }
    for s in final:
        rep = getattr(s, "report", None)
        if isinstance(rep, dict) and rep:
            report[f"{s.name}_report"] = rep
    return pipeline, report


def encode_split(split: Split, users: IdIndex, items: IdIndex) -> RankingData:
    """:meth:`RankingData.from_split` with given user and item indices (e.g. a catalogue-wide item index)."""
    table = split.table
    u_all = users.encode(table.column("user_id").to_pylist(), unknown=-1)
    i_all = items.encode(table.column("item_id").to_pylist(), unknown=-1)
    shape = (len(users), len(items))

    def part(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = rows[(i_all[rows] >= 0) & (u_all[rows] >= 0)]
        return u_all[keep], i_all[keep]

    tr, va, te = part(split.train), part(split.valid), part(split.test)
    return RankingData(
        users,
        items,
        interaction_matrix(*tr, shape),
        interaction_matrix(np.concatenate([tr[0], va[0]]), np.concatenate([tr[1], va[1]]), shape),
        *targets_by_user(*va),
        *targets_by_user(*te),
    )


def _validation_view(data: RecommendData) -> RecommendData:
    """:func:`~shelfwise.ranking.dataset.validation_view` keeping ``data``'s user and item indices."""
    view = validation_view(data)
    ranking = encode_split(view.split, data.ranking.users, data.ranking.items)
    return RecommendData(view.split, ranking, data.items, dict(data.meta), data.item_vectors)


def serving_data(store: Store, default_consent: ConsentDefaults | None = None) -> RecommendData:
    """All events of the store as a split for serving: valid = each shopper's last event, no test part.

    The item index covers the whole catalogue (items nobody interacted with yet included), so every
    catalogue item at training time is servable. Shoppers who withhold training consent are left out
    (``default_consent``: the flags of shoppers with no recorded choice, ``privacy.default_consent``).
    """
    events = ordered_events(store, None, default_consent=default_consent)
    if events.num_rows == 0:
        raise ValueError("the store has no events with items; ingest some first (`shelfwise ingest`)")
    loo = LeaveOneOut().split(events)
    train = np.sort(np.concatenate([loo.train, loo.valid]))
    split = Split(
        "serving[valid = last event]", loo.table, train, loo.test, np.zeros(0, dtype=np.int64), meta=loo.meta
    )
    split.check_disjoint()
    catalogue = store.read_items()
    table = split.table
    users = IdIndex.from_values(table.column("user_id").to_pylist())
    items = IdIndex.from_values(table.column("item_id").to_pylist() + catalogue.column("item_id").to_pylist())
    ranking = encode_split(split, users, items)
    ids = items.ids.astype(str).tolist()
    index = {i: k for k, i in enumerate(catalogue.column("item_id").to_pylist())}
    take = pa.array([index.get(i) for i in ids], pa.int64())
    rows = (
        catalogue.take(take) if catalogue.num_rows else pa.table({"item_id": ids, "title": [None] * len(ids)})
    )
    rows = rows.set_column(0, "item_id", pa.array(ids, pa.string()))
    return RecommendData(split, ranking, rows, {}, aligned_vectors(store, ids))
