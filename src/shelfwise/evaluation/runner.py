"""The experiment runner: one store x many models x metrics -> one comparison table.

Every model is fitted and scored under the same protocol in the same process, with its train and inference
time, its peak memory and its hyper-parameters recorded::

    >>> result = run_recommend(store, ["popularity", "als"], settings)      # doctest: +SKIP
    >>> result.table()["als"]["ndcg@10"]                                    # doctest: +SKIP

The protocol defaults to the published one (leave-one-out, full ranking, history rankable, random ties);
for the test evaluation a model is fitted on train + valid (the convention that reproduces the published
baselines; see ``benchmarks/bench_beauty_baselines.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData, load_recommend_data
from shelfwise.evaluation.categories import item_categories
from shelfwise.evaluation.registry import EvalRecommender, build_recommender
from shelfwise.metrics import get_metric
from shelfwise.metrics.evaluate import evaluate_ranking
from shelfwise.metrics.fairness import fairness_list_metrics, item_brands
from shelfwise.metrics.ranking import top_k_items
from shelfwise.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRun:
    """One model's result on one part of the split."""

    model: str
    part: str
    metrics: dict[str, float]
    protocol: dict[str, Any]
    fit_seconds: float
    score_seconds: float
    peak_memory_mb: float
    n_users: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentResult:
    """Everything one ``shelfwise evaluate`` run produced."""

    task: str
    store: str
    protocol: dict[str, Any]
    overrides: list[str]
    runs: list[ModelRun]
    data: dict[str, Any]
    seconds: float
    started: str

    def table(self, part: str = "test") -> dict[str, dict[str, float]]:
        """``{model: {metric: value}}`` for one part."""
        return {r.model: r.metrics for r in self.runs if r.part == part}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``models`` maps each model to its test metrics, timings and protocol."""
        out = asdict(self)
        out["models"] = {
            r.model: {
                **r.metrics,
                "train_seconds": r.fit_seconds,
                "inference_seconds": r.score_seconds,
                "peak_memory_mb": r.peak_memory_mb,
                "protocol": r.protocol,
                "params": r.params,
            }
            for r in self.runs
            if r.part == "test"
        }
        return out


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Sample this process's RSS every 20 ms; yields a one-element list filled with the peak growth in MB."""
    import psutil

    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out = [0.0]
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], proc.memory_info().rss)
        out[0] = round((peak[0] - base) / 2**20, 1)


def _categories(data: RecommendData) -> np.ndarray | None:
    """int32 category code per item (see :mod:`shelfwise.evaluation.categories`), or None without any."""
    return item_categories(data.items)


def _metric_names(settings: Settings) -> list[str]:
    return [f"{m}@{k}" for k in settings.evaluation.ks for m in ("ndcg", "hr", "mrr")]


def _list_metrics(data: RecommendData, k: int, targets: np.ndarray | None = None) -> list[Any]:
    counts = np.asarray(data.ranking.train_valid.sum(axis=0)).ravel()
    metrics = [
        get_metric(f"coverage@{k}", n_items=data.n_items),
        get_metric(f"novelty@{k}", item_counts=counts),
        get_metric(f"gini@{k}", n_items=data.n_items),
    ]
    if data.item_vectors is not None:
        metrics.append(get_metric(f"ild@{k}", embeddings=data.item_vectors))
    cats = _categories(data)
    if cats is not None:
        metrics += [
            get_metric(f"ild_category@{k}", categories=cats),
            get_metric(f"miscalibration@{k}", categories=cats),
        ]
    metrics += fairness_list_metrics(data.items, data.n_items, k, targets, counts)  # exposure fairness
    return metrics


def _evaluate_part(
    model: EvalRecommender,
    data: RecommendData,
    part: str,
    settings: Settings,
    fit_seconds: float,
    peak_mb: float,
) -> ModelRun:
    ev = settings.evaluation
    ranking = data.ranking
    if part == "test":
        users, targets, history = (
            ranking.test_users,
            ranking.test_targets,
            ranking.train_valid[ranking.test_users],
        )
    else:
        users, targets, history = (
            ranking.valid_users,
            ranking.valid_targets,
            ranking.train[ranking.valid_users],
        )
    result = evaluate_ranking(
        model,
        users,
        targets,
        history,
        _metric_names(settings),
        exclude_history=ev.exclude_history,
        sampled=ev.sampled,
        tie_break_seed=ev.tie_break_seed,
        split=part,
        fit_seconds=fit_seconds,
        params=model.params(),
    )
    metrics = dict(result.metrics)
    k_list = 10 if 10 in ev.ks else max(ev.ks)
    t0 = time.perf_counter()
    top = top_k_items(
        model.score,
        users,
        k_list,
        history=history,
        exclude_history=ev.exclude_history,
        tie_break_seed=ev.tie_break_seed,
    )
    list_seconds = time.perf_counter() - t0
    for metric in _list_metrics(data, k_list, targets):
        metrics[metric.name] = float(metric.compute(top, history))
    return ModelRun(
        model=model.name,
        part=part,
        metrics={k: round(float(v), 6) for k, v in metrics.items()},
        protocol=result.protocol.to_dict(),
        fit_seconds=round(fit_seconds, 3),
        score_seconds=round(result.score_seconds + list_seconds, 3),
        peak_memory_mb=peak_mb,
        n_users=result.n_users,
        params=result.params,
    )


@dataclass(frozen=True, eq=False)
class RerankInputs:
    """A model's top candidates for every test user, computed once and re-ranked under many settings.

    Attributes:
        items: int32 ``(n_users, C)`` candidate items in the model's order (``-1`` padding).
        scores: float32 ``(n_users, C)`` the model's scores of those items.
        targets: the test targets, row-aligned.
        history: CSR train + valid history of the test users, row-aligned.
        seconds: time taken to rank and score the candidates.
    """

    items: np.ndarray
    scores: np.ndarray
    targets: np.ndarray
    history: Any
    seconds: float


def rerank_inputs(model: EvalRecommender, data: RecommendData, settings: Settings) -> RerankInputs:
    """The fitted ``model``'s top ``settings.rerank.candidates`` items and scores per test user."""
    ev = settings.evaluation
    ranking = data.ranking
    users, history = ranking.test_users, ranking.train_valid[ranking.test_users]
    t0 = time.perf_counter()
    scores = np.zeros((users.size, settings.rerank.candidates), dtype=np.float32)
    top = top_k_items(
        model.score,
        users,
        settings.rerank.candidates,
        history=history,
        exclude_history=ev.exclude_history,
        tie_break_seed=ev.tie_break_seed,
        scores_out=scores,
    )
    return RerankInputs(top, scores, ranking.test_targets, history, time.perf_counter() - t0)


def rerank_catalog(data: RecommendData, method: str) -> Any:
    """The re-ranker's :class:`~shelfwise.rerank.ItemCatalog` (text vectors, categories) for ``data``."""
    from shelfwise.rerank import ItemCatalog

    cats = _categories(data)
    if method in ("mmr", "dpp") and data.item_vectors is None:
        raise ValueError(f"rerank.method={method} needs item vectors: run `shelfwise build` first")
    if method in ("calibrated", "xquad") and cats is None:
        raise ValueError(f"rerank.method={method} needs item categories; this catalogue has none")
    brands = item_brands(data.items)
    if method == "fair_exposure" and brands is None:
        raise ValueError("rerank.method=fair_exposure needs item brands; this catalogue has none")
    return ItemCatalog(embeddings=data.item_vectors, categories=cats, brands=brands)


def reranked_metrics(
    inputs: RerankInputs, data: RecommendData, settings: Settings, catalog: Any
) -> tuple[dict[str, float], np.ndarray]:
    """Re-rank ``inputs`` by ``settings.rerank``; the metrics and the ``(n_users, k)`` lists."""
    from shelfwise.metrics import ranks_from_lists
    from shelfwise.rerank import RerankPipeline
    from shelfwise.rerank.batch import rerank_top_items
    from shelfwise.rerank.fair import FairExposureLedger

    ev, cfg = settings.evaluation, settings.rerank
    ledger = FairExposureLedger(data.n_items) if cfg.method == "fair_exposure" else None  # across the batch
    lists = rerank_top_items(
        RerankPipeline(cfg, exposure=ledger),
        inputs.items[:, : cfg.candidates],  # inputs computed for more candidates serve fewer too
        inputs.scores[:, : cfg.candidates],
        catalog,
        inputs.history,
        k=cfg.k,
        seeds=np.arange(inputs.items.shape[0]) + ev.tie_break_seed,
    )
    ranks = ranks_from_lists(lists, inputs.targets)
    metrics: dict[str, float] = {}
    for k in ev.ks:
        if k <= cfg.k:
            for name in ("ndcg", "hr", "mrr"):
                metrics[f"{name}@{k}"] = float(get_metric(f"{name}@{k}").compute(ranks))
    k_list = max(k for k in ev.ks if k <= cfg.k) if any(k <= cfg.k for k in ev.ks) else cfg.k
    for metric in _list_metrics(data, k_list, inputs.targets):
        metrics[metric.name] = float(metric.compute(lists, inputs.history))
    return metrics, lists


def _reranked_run(
    model: EvalRecommender, data: RecommendData, settings: Settings, base: ModelRun
) -> ModelRun:
    """The model's top candidates re-ranked by ``settings.rerank`` into a top-K list, scored from the lists."""
    cfg = settings.rerank
    catalog = rerank_catalog(data, cfg.method)
    inputs = rerank_inputs(model, data, settings)
    t0 = time.perf_counter()
    metrics, _ = reranked_metrics(inputs, data, settings, catalog)
    seconds = inputs.seconds + time.perf_counter() - t0
    label = f"{base.model}+{cfg.method}@{cfg.fairness if cfg.method == 'fair_exposure' else cfg.diversity:g}"
    return ModelRun(
        label,
        base.part,
        {k: round(v, 6) for k, v in metrics.items()},
        {**base.protocol, "rerank": cfg.model_dump(mode="json"), "candidates": cfg.candidates},
        base.fit_seconds,
        round(seconds, 3),
        base.peak_memory_mb,
        base.n_users,
        base.params,
    )


def _model_part(job: tuple[str, str, RecommendData, Settings, Settings]) -> list[ModelRun]:
    """Fit one model for one part and score it (plus its re-ranked row on the test part): one runner job."""
    name, part, data, settings, model_settings = job
    model = build_recommender(name, model_settings)
    log.info("%s: fitting on %s", name, "train" if part == "valid" else "train + valid")
    with peak_memory() as peak:
        t0 = time.perf_counter()
        model.fit(data, "train" if part == "valid" else "train_valid")
        fit_seconds = time.perf_counter() - t0
    run = _evaluate_part(model, data, part, settings, fit_seconds, peak[0])
    log.info("%s (%s): %s", name, part, {k: round(v, 4) for k, v in run.metrics.items() if "@10" in k})
    runs = [run]
    if settings.rerank.method != "none" and part == "test":
        reranked = _reranked_run(model, data, settings, run)
        log.info(
            "%s: %s", reranked.model, {k: round(v, 4) for k, v in reranked.metrics.items() if "@10" in k}
        )
        runs.append(reranked)
    return runs


def run_recommend(
    store: Store,
    models: Sequence[str],
    settings: Settings,
    *,
    overrides: Sequence[str] = (),
    data: RecommendData | None = None,
    runner: Any = None,
) -> ExperimentResult:
    """Evaluate each named model on the store's events under ``settings.evaluation``.

    Each (model, part) is fitted and scored as one job of ``runner`` (a
    :class:`~shelfwise.distributed.JobRunner`: in-process by default, Ray tasks in parallel with ``--ray``);
    the rows come back in the order of ``models``."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t_all = time.perf_counter()
    ev = settings.evaluation
    if data is None:
        data = load_recommend_data(
            store, ev.split, event_types=ev.event_types, default_consent=settings.privacy.default_consent
        )
    runs: list[ModelRun] = []
    # with a re-ranking method set, models are built without re-ranking (a pipeline that re-ranks
    # internally would otherwise be re-ranked twice): their row is the pipeline without re-ranking, and
    # the "+method@diversity" row re-ranks its top candidates by settings.rerank, in the same run
    model_settings = settings
    if settings.rerank.method != "none":
        model_settings = settings.model_copy(update={"rerank": type(settings.rerank)()})
    parts = ["valid", "test"] if ev.report_valid else ["test"]
    jobs = [(name, part, data, settings, model_settings) for name in models for part in parts]
    if runner is None:
        from shelfwise.distributed import InProcessRunner

        runner = InProcessRunner()
    from shelfwise.distributed.runner import JobFailedError

    try:
        for model_runs in runner.map(_model_part, jobs, desc="models"):  # Ray tasks with --ray
            runs.extend(model_runs)
    except JobFailedError as exc:  # the model's own error (an unknown name, bad settings), as without jobs
        raise exc.cause from exc
    protocol = {
        "split": ev.split,
        "ranking": f"sampled:{ev.sampled}" if ev.sampled else "full",
        "history": "excluded" if ev.exclude_history else "rankable",
        "tie_break_seed": ev.tie_break_seed,
        "fit_for_test": "train+valid",
        "rerank": settings.rerank.model_dump(mode="json") if settings.rerank.method != "none" else "none",
    }
    info = {
        "users": data.n_users,
        "items": data.n_items,
        "events": data.split.table.num_rows,
        "split_sizes": data.split.sizes(),
        "split_meta": data.split.meta,
    }
    return ExperimentResult(
        "recommend",
        store.url,
        protocol,
        list(overrides),
        runs,
        info,
        round(time.perf_counter() - t_all, 2),
        started,
    )
