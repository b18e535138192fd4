"""The search harness: judged queries x systems -> NDCG@10 for retrieval and for re-ranking, per query kept.

Protocols (BENCHMARKS.md section 3): gains are ``relevance - 1`` (CrowdFlower's 1..4 -> 0..3); repeated
judgements of one (query, item) pair are merged by their mean. **Retrieval** ranks the whole catalogue and
unjudged items have gain 0 (NDCG@10, Recall@50); **re-ranking** orders each query's judged items (NDCG@10),
ties broken randomly with the run's seed. Queries are dealt into ``folds`` by-query folds: a system that
learns from labels is fitted once per fold on the other folds and scores only that fold's queries, so every
query is scored by a model that never saw its labels; a system that does not learn is fitted once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.config import Settings
from shelfwise.encoded.judgements import merged_judgements
from shelfwise.encoded.splits import ByQuery
from shelfwise.evaluation.runner import ExperimentResult, ModelRun, peak_memory
from shelfwise.evaluation.search_models import build_searcher
from shelfwise.metrics import NDCG, NOT_RANKED, Recall
from shelfwise.storage import Store

log = logging.getLogger(__name__)

RETRIEVAL_DEPTH = 100


def _query_groups(judged: pa.Table) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for q, i, g in zip(*(judged.column(c).to_pylist() for c in ("query", "item_id", "gain")), strict=True):
        out.setdefault(q, {})[i] = float(g)
    return out


def _ranks_and_gains(ranking: Sequence[str], judged: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks of the query's positive-gain items in ``ranking`` (NOT_RANKED when absent)."""
    pos = {item: r for r, item in enumerate(ranking, start=1)}
    positives = [(i, g) for i, g in judged.items() if g > 0]
    ranks = np.array([pos.get(i, NOT_RANKED) for i, _ in positives], dtype=np.int64)
    gains = np.array([g for _, g in positives], dtype=np.float64)
    return ranks, gains


def _pad(rows: list[np.ndarray], fill: float | int, dtype: Any) -> np.ndarray:
    width = max((r.size for r in rows), default=0) or 1
    out = np.full((len(rows), width), fill, dtype=dtype)
    for n, r in enumerate(rows):
        out[n, : r.size] = r
    return out


def _metrics(
    ranks: list[np.ndarray], gains: list[np.ndarray], prefix: str, recall_k: int | None
) -> dict[str, float]:
    r, g = _pad(ranks, 0, np.int64), _pad(gains, 0.0, np.float64)
    out = {f"ndcg_{prefix}@10": float(NDCG(10).compute(r, g))}
    if recall_k:
        out[f"recall_{prefix}@{recall_k}"] = float(Recall(recall_k).compute(r, g))
    return out


def run_search(
    store: Store, models: Sequence[str], settings: Settings, *, overrides: Sequence[str] = ()
) -> ExperimentResult:
    """Evaluate each named search system on the store's judgements (see the module docstring)."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t_all = time.perf_counter()
    ev = settings.evaluation
    folder = getattr(store, "folder", None)
    if settings.search.encoder.cache_dir is None and folder is not None:  # re-runs encode nothing new
        encoder = settings.search.encoder.model_copy(update={"cache_dir": folder / "cache" / "encoder"})
        settings = settings.model_copy(
            update={"search": settings.search.model_copy(update={"encoder": encoder})}
        )
    judged = merged_judgements(store)
    groups = _query_groups(judged)
    items = store.read_items(
        ["item_id", "title", "description", "category", "brand", "price", "available", "attributes"]
    ).to_pylist()
    folds = ByQuery(folds=ev.folds, seed=ev.tie_break_seed)
    fold_of = folds.fold_of_query(judged)
    rng = np.random.default_rng(ev.tie_break_seed)
    runs: list[ModelRun] = []
    per_query: dict[str, dict[str, dict[str, float]]] = {}
    for name in models:
        model = build_searcher(name, settings)
        fit_total = score_total = 0.0
        ret_ranks, ret_gains, rr_ranks, rr_gains = [], [], [], []
        with peak_memory() as peak:
            fold_list = range(ev.folds) if model.uses_labels else [None]
            for fold in fold_list:
                if fold is None:
                    test_queries = sorted(groups)
                    train = None
                else:
                    split = folds.split(judged, fold)
                    split.check_disjoint()
                    test_queries = sorted({q for q in groups if fold_of[q] == fold})
                    train = split.train_table
                t0 = time.perf_counter()
                model.fit(items, train)
                fit_total += time.perf_counter() - t0
                t0 = time.perf_counter()
                retrieved = model.retrieve(test_queries, RETRIEVAL_DEPTH)
                for q, ranking in zip(test_queries, retrieved, strict=True):
                    r, g = _ranks_and_gains(ranking, groups[q])
                    ret_ranks.append(r)
                    ret_gains.append(g)
                    cand = list(groups[q])
                    scores = model.rerank(q, cand)
                    noise = rng.random(len(cand))  # random tie-break, never by id
                    order = np.lexsort((noise, -scores))
                    r2, g2 = _ranks_and_gains([cand[j] for j in order], groups[q])
                    rr_ranks.append(r2)
                    rr_gains.append(g2)
                    per_query.setdefault(q, {})[name] = {
                        "ndcg_retrieval@10": float(
                            NDCG(10).compute(_pad([r], 0, np.int64), _pad([g], 0.0, np.float64))
                        ),
                        "ndcg_rerank@10": float(
                            NDCG(10).compute(_pad([r2], 0, np.int64), _pad([g2], 0.0, np.float64))
                        ),
                    }
                score_total += time.perf_counter() - t0
        metrics = {
            **_metrics(ret_ranks, ret_gains, "retrieval", 50),
            **_metrics(rr_ranks, rr_gains, "rerank", None),
        }
        log.info("%s: %s", name, {k: round(v, 4) for k, v in metrics.items()})
        runs.append(
            ModelRun(
                model=name,
                part="test",
                metrics={k: round(v, 6) for k, v in metrics.items()},
                protocol={
                    "split": f"by-query, {ev.folds} folds, seed {ev.tie_break_seed}",
                    "fitted": "per fold on the other folds" if model.uses_labels else "once (no labels used)",
                    "gain": "relevance - 1, repeated pairs averaged",
                    "tie_break_seed": ev.tie_break_seed,
                },
                fit_seconds=round(fit_total, 3),
                score_seconds=round(score_total, 3),
                peak_memory_mb=peak[0],
                n_users=len(ret_ranks),
                params=model.params(),
            )
        )
    protocol = {
        "split": "by-query",
        "folds": ev.folds,
        "tie_break_seed": ev.tie_break_seed,
        "retrieval": f"whole catalogue ({len(items)} items), unjudged gain 0",
        "rerank": "judged candidates of each query",
        "history": "n/a",
        "ranking": "full",
    }
    data = {
        "queries": len(groups),
        "judged_pairs": judged.num_rows,
        "items": len(items),
        "per_query": per_query,
    }
    return ExperimentResult(
        "search",
        store.url,
        protocol,
        list(overrides),
        runs,
        data,
        round(time.perf_counter() - t_all, 2),
        started,
    )
