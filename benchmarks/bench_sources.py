"""Candidate sources of issue #5 on Amazon Beauty: the published protocol, candidate recall, unions, latency.

Sections (all in one process, baselines side by side):

1. ``tune`` (``--tune``): coordinate search of each source's main knobs on the VALIDATION split (fit on
   train, rank the valid item; selection by NDCG@10). The defaults in the source modules are the winners.
2. ``protocol``: every source and the popularity / item-kNN / ALS baselines through
   :func:`shelfwise.evaluation.runner.run_recommend` — leave-one-out, full ranking over 12,101 items,
   random ties (seed 0), test model refit on train + valid; history rankable (the published convention)
   and, labelled, history excluded.
3. ``candidates``: each source fitted on train + valid proposes its top 200 for every test user (its own
   :meth:`candidates` rules: sparse sources propose only items they score above 0); recall@N = share of
   test targets inside the top N (history rankable, and history excluded as a shop would filter it).
   Unions: the top-100s of several sources merged (size varies), and a round-robin merge cut at 200.
4. ``latency``: ``candidates(context, k=100)`` per request, median / p95 over 300 test users.

Run (about 25 minutes on 2 busy shared cores; the item text vectors are encoded once and cached)::

    .venv/bin/python benchmarks/bench_sources.py --store /tmp/stores/amazon-beauty
    .venv/bin/python benchmarks/bench_sources.py --tune-only [--only item2item]   # validation search
    .venv/bin/python benchmarks/bench_sources.py --update latency,diagnostics     # refresh two sections

Writes ``benchmarks/results/sources.json`` and ``sources.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _sources_report import COLD_ITEMS, markdown, order_diagnostics, tuning_summary
from shelfwise.config import load_settings
from shelfwise.encoded.data import RecommendData, load_recommend_data
from shelfwise.evaluation.runner import run_recommend
from shelfwise.evaluation.source_models import SourceModel
from shelfwise.metrics import evaluate_ranking
from shelfwise.retrieval.base import CandidateSource, UserContext
from shelfwise.retrieval.cf import ALSSource
from shelfwise.retrieval.history import EventLog
from shelfwise.retrieval.scoring import ScoredSource, batch_top_k
from shelfwise.retrieval.sources_registry import SOURCE_NAMES, build_source
from shelfwise.storage import open_store

log = logging.getLogger("bench_sources")
OUT = Path(__file__).resolve().parent / "results"
BASELINES = ("popularity", "itemknn", "als")
CUTS = (50, 100, 200)
UNIONS = {
    "item2item + als_source": ("item2item", "als_source"),
    "item2item + item2item_text": ("item2item", "item2item_text"),
    "item2item + item2item_text + als_source": ("item2item", "item2item_text", "als_source"),
    "item2item + item2item_text + als_source + trending": (
        "item2item",
        "item2item_text",
        "als_source",
        "trending",
    ),
    "all sources": ("popular", "trending", "item2item", "item2item_text", "als_source", "profile_text"),
}

#: Coordinate-search axes per source: (dotted config field, values). The first value of each axis is
#: tried against the current best of the others.
AXES: dict[str, list[tuple[str, list[Any]]]] = {
    "trending": [("half_life_events", [1.0, 2.0, 3.0, 5.0, 10.0, 30.0])],
    "item2item": [
        ("window", [1, 2, 3, 5, 10, 20, None]),
        ("backward_weight", [0.0, 0.25, 0.5, 1.0]),
        ("distance_decay", [0.5, 0.7, 0.85, 1.0]),
        ("alpha", [0.25, 0.5, 0.75, 0.9, 1.0]),
        ("shrink", [0.0, 2.0, 10.0, 30.0, 100.0]),
        ("recency.half_life_events", [0.5, 1.0, 2.0, 3.0, 5.0, None]),
        ("aggregation", ["sum", "max"]),
        ("neighbours", [50, 100, 200]),
    ],
    "item2item_text": [
        ("recency.half_life_events", [0.5, 1.0, 2.0, 5.0]),
        ("aggregation", ["sum", "max"]),
        ("min_similarity", [0.0, 0.3, 0.5]),
    ],
    "profile_text": [("recency.half_life_events", [1.0, 2.0, 3.0, 5.0, 10.0, None])],
}


def _set(config: Any, dotted: str, value: Any) -> Any:
    head, _, rest = dotted.partition(".")
    if not rest:
        return config.model_copy(update={head: value})
    return config.model_copy(update={head: _set(getattr(config, head), rest, value)})


def _valid_metrics(model: SourceModel, data: RecommendData) -> dict[str, float]:
    r = data.ranking
    t0 = time.perf_counter()
    model.fit(data, "train")
    fit = time.perf_counter() - t0
    res = evaluate_ranking(
        model,
        r.valid_users,
        r.valid_targets,
        r.train[r.valid_users],
        ["ndcg@10", "hr@10", "hr@100"],
        split="valid",
    )
    return {**{k: round(float(v), 5) for k, v in res.metrics.items()}, "fit_s": round(fit, 1)}


def tune(data: RecommendData, settings: Any, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Coordinate search on validation from the current defaults; the trials and best config per source."""
    out: dict[str, Any] = {}
    for name, axes in AXES.items():
        if only and name not in only:
            continue
        source = build_source(name, settings)
        best_cfg = source.config  # type: ignore[attr-defined]
        best: dict[str, float] | None = None
        trials: list[dict[str, Any]] = []
        seen: dict[str, dict[str, float]] = {}
        for field, values in axes:
            for value in values:
                cfg = _set(best_cfg, field, value)
                key = cfg.model_dump_json()
                if key not in seen:
                    src = type(source)(cfg)  # type: ignore[call-arg]
                    seen[key] = _valid_metrics(SourceModel(src, name), data)
                    trials.append({"field": field, "value": value, **seen[key]})
                    log.info("tune %s %s=%s -> %s", name, field, value, seen[key])
                if best is None or seen[key]["ndcg@10"] > best["ndcg@10"]:
                    best, best_cfg = seen[key], cfg
        out[name] = {"trials": trials, "best": best, "best_config": best_cfg.model_dump(mode="json")}
    return out


def protocol(store: Any, data: RecommendData, exclude: bool) -> dict[str, Any]:
    """run_recommend over baselines + sources; returns {model: metrics + timings}."""
    overrides = ["evaluation.exclude_history=true"] if exclude else []
    settings = load_settings(overrides=overrides, environ={})
    result = run_recommend(store, [*BASELINES, *SOURCE_NAMES], settings, overrides=overrides, data=data)
    return {"protocol": result.protocol, "models": result.to_dict()["models"], "seconds": result.seconds}


def _fit_sources(data: RecommendData, settings: Any) -> dict[str, CandidateSource]:
    sources: dict[str, CandidateSource] = {}
    for name in SOURCE_NAMES:
        if name == "als_foldin":  # same factors as als_source, every user folded in
            base = sources["als_source"]
            assert isinstance(base, ALSSource)
            src = build_source(name, settings)
            assert isinstance(src, ALSSource)
            src.set_factors(base.user_factors, base.item_factors)
            sources[name] = src
            continue
        t0 = time.perf_counter()
        sources[name] = build_source(name, settings).fit(data)
        log.info("fitted %s in %.1f s", name, time.perf_counter() - t0)
    return sources


def candidate_lists(
    source: CandidateSource, contexts: list[UserContext], k: int, exclude: bool
) -> np.ndarray:
    """int32 ``(n, k)`` top-k of each request (``-1`` padded), as :meth:`candidates` picks them."""
    assert isinstance(source, ScoredSource)
    out = np.full((len(contexts), k), -1, dtype=np.int32)
    for start in range(0, len(contexts), 1024):
        batch = contexts[start : start + 1024]
        scores = source.score_all(batch)
        if exclude:
            for r, ctx in enumerate(batch):
                scores[r, ctx.history] = -np.inf
        out[start : start + len(batch)] = batch_top_k(scores, k, source.tie_order, source.sparse_scores)
    return out


def cold_start_section(
    sources: dict[str, CandidateSource], events: EventLog, users: np.ndarray, targets: np.ndarray
) -> dict[str, Any]:
    """Each test user as a stranger: no user id, only their last COLD_ITEMS items as the current session."""
    contexts: list[UserContext] = []
    for u in users:
        ctx = events.context(int(u))
        last = ctx.history[-COLD_ITEMS:]
        weights = None if ctx.weights is None else ctx.weights[-COLD_ITEMS:]
        contexts.append(UserContext(-1, last, weights, last))
    out: dict[str, Any] = {}
    for name in ("popular", "trending", "item2item", "item2item_text", "als_source", "content"):
        lists = candidate_lists(sources[name], contexts, max(CUTS), exclude=False)
        out[name] = {f"recall@{n}": round(_recall(lists, targets, n), 4) for n in (10, *CUTS)}
        log.info("cold start %s: %s", name, out[name])
    return out


def _recall(lists: np.ndarray, targets: np.ndarray, n: int) -> float:
    return float(np.mean((lists[:, :n] == targets[:, None]).any(axis=1)))


def _round_robin(lists: list[np.ndarray], budget: int) -> np.ndarray:
    out = np.full((lists[0].shape[0], budget), -1, dtype=np.int32)
    for r in range(out.shape[0]):
        merged: dict[int, None] = {}
        for col in range(lists[0].shape[1]):
            for lst in lists:
                item = int(lst[r, col])
                if item >= 0:
                    merged.setdefault(item, None)
            if len(merged) >= budget:
                break
        items = list(merged)[:budget]
        out[r, : len(items)] = items
    return out


def candidates_section(data: RecommendData, settings: Any) -> dict[str, Any]:
    """Recall@N of every source and of unions, under both history protocols; plus latency."""
    sources = _fit_sources(data, settings)
    events = EventLog.from_data(data)
    users, targets = data.ranking.test_users, data.ranking.test_targets.astype(np.int64)
    out: dict[str, Any] = {"per_source": {}, "unions": {}, "latency_ms": {}}
    lists: dict[tuple[str, bool], np.ndarray] = {}
    contexts: list[UserContext] = list(events.contexts(users))
    for name, src in sources.items():
        for exclude in (False, True):
            t0 = time.perf_counter()
            lists[name, exclude] = candidate_lists(src, contexts, max(CUTS), exclude)
            label = "excluded" if exclude else "rankable"
            row = {f"recall@{n}": round(_recall(lists[name, exclude], targets, n), 4) for n in CUTS}
            row["mean_list_length"] = round(float((lists[name, exclude] >= 0).sum(axis=1).mean()), 1)
            row["seconds"] = round(time.perf_counter() - t0, 1)
            out["per_source"].setdefault(name, {})[label] = row
            log.info("candidates %s (%s): %s", name, label, row)
    for label, members in UNIONS.items():
        for exclude in (False, True):
            tops = [lists[m, exclude] for m in members]
            hit = np.zeros(users.size, dtype=bool)
            size = np.zeros(users.size)
            for r in range(users.size):
                union = set().union(*(t[r, :100][t[r, :100] >= 0].tolist() for t in tops))
                hit[r] = int(targets[r]) in union
                size[r] = len(union)
            rr = _round_robin(tops, 200)
            out["unions"].setdefault(label, {})["excluded" if exclude else "rankable"] = {
                "union_top100_recall": round(float(hit.mean()), 4),
                "union_top100_mean_size": round(float(size.mean()), 1),
                "round_robin_recall@200": round(_recall(rr, targets, 200), 4),
                "best_member_recall@200": max(round(_recall(t, targets, 200), 4) for t in tops),
            }
    out["cold_start"] = cold_start_section(sources, events, users, targets)
    out["latency_ms"] = latency_section(sources, events, users)
    return out


def latency_section(
    sources: dict[str, CandidateSource], events: EventLog, users: np.ndarray
) -> dict[str, dict[str, float]]:
    """Milliseconds per ``candidates(context, k=100)`` call, median / p95 over 300 test users."""
    rng = np.random.default_rng(0)
    sample = rng.choice(users, size=min(300, users.size), replace=False)
    out: dict[str, dict[str, float]] = {}
    for name, src in sources.items():
        times = []
        for u in sample:
            ctx = events.context(int(u))
            t0 = time.perf_counter()
            src.candidates(ctx, 100)
            times.append(1000 * (time.perf_counter() - t0))
        out[name] = {
            "median": round(statistics.median(times), 2),
            "p95": round(float(np.percentile(times, 95)), 2),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="/tmp/stores/amazon-beauty")
    ap.add_argument("--tune", action="store_true", help="run the validation search first")
    ap.add_argument("--tune-only", action="store_true", help="only the validation search")
    ap.add_argument("--only", default="", help="comma-separated sources to tune (default: all)")
    ap.add_argument(
        "--update",
        default="",
        help="recompute only these sections of an existing sources.json: diagnostics, latency (comma-separated)",
    )
    ap.add_argument("--skip-excluded", action="store_true", help="skip the history-excluded protocol run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t_all = time.perf_counter()
    settings = load_settings(environ={})
    payload: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_1m": os.getloadavg()[0],
        },
    }
    with open_store(args.store, create=False, read_only=True) as store:
        data = load_recommend_data(store)
        if args.update:
            parts = set(args.update.split(","))
            payload = json.loads((OUT / "sources.json").read_text())
            if "diagnostics" in parts:
                payload["diagnostics"] = order_diagnostics(data)
            if "latency" in parts:
                events = EventLog.from_data(data)
                sources = _fit_sources(data, settings)
                payload["candidates"]["latency_ms"] = latency_section(
                    sources, events, data.ranking.test_users
                )
                payload["environment_latency"] = {"load_1m": os.getloadavg()[0]}
            payload["command"] += f" && {Path(sys.executable).name} {' '.join(sys.argv)}"
            (OUT / "sources.json").write_text(json.dumps(payload, indent=2, default=float))
            (OUT / "sources.md").write_text(markdown(payload))
            return
        payload["data"] = {"users": data.n_users, "items": data.n_items, "split": data.split.sizes()}
        if args.tune or args.tune_only:
            payload["tuning"] = tune(data, settings, tuple(n for n in args.only.split(",") if n))
            if args.tune_only:
                OUT.mkdir(parents=True, exist_ok=True)
                (
                    OUT / f"sources_tuning{'_' + args.only.replace(',', '_') if args.only else ''}.json"
                ).write_text(json.dumps(payload, indent=2, default=float))
                return
        payload["protocol"] = {"rankable": protocol(store, data, exclude=False)}
        if not args.skip_excluded:
            payload["protocol"]["excluded"] = protocol(store, data, exclude=True)
    payload["candidates"] = candidates_section(data, settings)
    payload["diagnostics"] = order_diagnostics(data)
    payload.setdefault("tuning", tuning_summary())
    payload["seconds"] = round(time.perf_counter() - t_all, 1)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "sources.json").write_text(json.dumps(payload, indent=2, default=float))
    (OUT / "sources.md").write_text(markdown(payload))
    print(markdown(payload))


if __name__ == "__main__":
    main()
