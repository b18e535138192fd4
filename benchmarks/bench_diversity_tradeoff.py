"""Diversity / calibration vs accuracy on Amazon Beauty: the re-ranker's knob swept against no re-ranking.

Relevance model: ALS (implicit; 256 factors, regularisation 10, alpha 40, 15 iterations, seed 0 — the
configuration tuned on validation under "history excluded" in ``bench_beauty_baselines.py``), fitted on
train + valid of the leave-one-out split (``shelfwise.evaluation``). For each of the 22,363 test users
its top ``--candidates`` (200) items, history excluded, are the candidate list; every method re-ranks the
same lists through :class:`shelfwise.rerank.RerankPipeline`, and "none" (the top 10 of the candidates)
is the baseline of the same run.

Protocol: leave-one-out test item, full ranking (the candidates are the model's top 200 over all items),
history items excluded from the lists (in this data the next item is never a repeat, and with history
rankable the ALS top 10 is mostly the user's own items), random score ties (seed 0). NDCG@10 / HR@10 from
the lists (``ranks_from_lists``); ILD@10, coverage@10, category ILD@10 and miscalibration@10 with the
harness's metric objects (``shelfwise.evaluation``); miscalibration against the train+valid history.

Item side information:

* **category** (a proxy: Beauty has no category names): ``Beauty_item2attributes.json`` lists per item an
  optional brand id followed by its category path (ids seen after position 0 anywhere are category ids;
  a leading id never seen there is the brand). The category proxy is the first two levels of the path
  (48 groups, e.g. "Makeup > Nails"). Used by calibration, xQuAD, category ILD and miscalibration.
* **embeddings**: ``--embeddings als`` (default) = the ALS item factors L2-normalised; ``minilm`` = the
  all-MiniLM-L6-v2 title vectors (``shelfwise.encoders``). ILD is reported in both spaces when MiniLM
  vectors are available (``--ild-minilm``), since ILD in the space MMR / DPP diversify over flatters them.

Run (17 minutes on 2 cores shared at load ~14; ``--users 3000`` for a quick look)::

    .venv/bin/python benchmarks/bench_diversity_tradeoff.py --ild-minilm

Writes ``benchmarks/results/diversity_tradeoff.json`` / ``.md`` (+ ``.png`` when matplotlib is installed).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from _common import RESULTS, write_results
from shelfwise.data.datasets import load_dataset
from shelfwise.evaluation import (
    NDCG,
    CategoryILD,
    Coverage,
    HitRate,
    IntraListDiversity,
    LeaveOneOut,
    Miscalibration,
    RankingData,
    evaluate_ranking,
    ranks_from_lists,
    top_k_items,
)
from shelfwise.rerank import ItemCatalog, RerankConfig, RerankPipeline, rerank_top_items
from shelfwise.retrieval.baselines import ALS

log = logging.getLogger("bench_diversity_tradeoff")

GRID = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
METHODS = ("mmr", "dpp", "calibrated", "xquad")


def category_proxy(items: Any, item_ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense category ids (first two levels of the attribute path) per item index, and their count."""
    attrs = {
        i: json.loads(a or "{}").get("attribute_ids", [])
        for i, a in zip(
            items.column("item_id").to_pylist(), items.column("attributes").to_pylist(), strict=True
        )
    }
    cat_ids = {a for ids in attrs.values() for a in ids[1:]}
    paths = []
    for item in item_ids:
        ids = attrs.get(str(item), [])
        path = ids[1:] if ids and ids[0] not in cat_ids else ids
        paths.append(tuple(path[:2]))
    uniq = {p: n for n, p in enumerate(sorted(set(paths)))}
    return np.array([uniq[p] for p in paths], dtype=np.int32), len(uniq)


def minilm_vectors(items: Any, item_ids: np.ndarray) -> np.ndarray:
    """all-MiniLM-L6-v2 title vectors per item index (cached under /tmp between runs)."""
    from shelfwise.encoders import EncoderConfig, build_encoder

    titles = dict(zip(items.column("item_id").to_pylist(), items.column("title").to_pylist(), strict=True))
    texts = [titles.get(str(i)) or "" for i in item_ids]
    cfg = EncoderConfig(
        type="sentence-transformers",
        max_length=64,
        show_progress=False,
        cache_dir=Path("/tmp/shelfwise-bench-cache"),
    )
    t0 = time.perf_counter()
    vecs = build_encoder(cfg).encode_documents(texts)
    log.info("MiniLM title vectors: %s in %.0f s", vecs.shape, time.perf_counter() - t0)
    return np.asarray(vecs, dtype=np.float32)


def candidates(
    model: ALS, users: np.ndarray, history: sp.csr_matrix, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``n`` items per user (history excluded, random ties) and their ALS scores."""
    top = top_k_items(model.score, users, n, history=history, exclude_history=True, tie_break_seed=0)
    scores = np.empty(top.shape, dtype=np.float32)
    for s in range(0, users.size, 2048):  # the very scores top_k_items ranked by
        full = model.score(users[s : s + 2048])
        scores[s : s + 2048] = np.take_along_axis(full, top[s : s + 2048].astype(np.int64), axis=1)
    return top, scores


def metrics_of(lists: np.ndarray, ctx: dict[str, Any]) -> tuple[dict[str, float], np.ndarray]:
    """List metrics and per-user NDCG@10 of ``(n_users, 10)`` lists."""
    ranks = ranks_from_lists(lists, ctx["targets"])
    per_user = NDCG(10).per_user(ranks)
    out = {
        "ndcg@10": float(np.nanmean(per_user)),
        "hr@10": HitRate(10).compute(ranks),
        "ild@10": ctx["ild"].compute(lists),
        "coverage@10": ctx["coverage"].compute(lists),
        "ild_category@10": ctx["cild"].compute(lists),
        "miscalibration@10": ctx["miscal"].compute(lists, ctx["history"]),
    }
    if "ild_minilm" in ctx:
        out["ild_minilm@10"] = ctx["ild_minilm"].compute(lists)
    return out, per_user


def run(args: argparse.Namespace) -> dict[str, Any]:
    t_start = time.perf_counter()
    ds = load_dataset("amazon-beauty", Path(args.data))
    assert ds.events is not None and ds.items is not None
    split = LeaveOneOut().split(ds.events)
    data = RankingData.from_split(split)
    item_ids = data.items.ids
    cats, n_cats = category_proxy(ds.items, item_ids)
    model = ALS(factors=256, regularization=10.0, alpha=40.0, iterations=15, seed=0)
    t0 = time.perf_counter()
    model.fit(data.train_valid)
    log.info("ALS fitted in %.0f s", time.perf_counter() - t0)
    users, targets = data.test_users, data.test_targets
    if args.users and args.users < users.size:
        pick = np.sort(np.random.default_rng(0).choice(users.size, args.users, replace=False))
        users, targets = users[pick], targets[pick]
    history = data.train_valid[users]
    harness = evaluate_ranking(model, users, targets, history, ["ndcg@10", "hr@10"], exclude_history=True)
    top, scores = candidates(model, users, history, args.candidates)
    als_unit = model.item_factors / np.maximum(
        np.linalg.norm(model.item_factors, axis=1, keepdims=True), 1e-12
    )
    minilm = minilm_vectors(ds.items, item_ids) if (args.embeddings == "minilm" or args.ild_minilm) else None
    emb = minilm if args.embeddings == "minilm" else als_unit
    assert emb is not None
    catalog = ItemCatalog(embeddings=emb, categories=cats)
    n_items = len(data.items)
    ctx: dict[str, Any] = {
        "targets": targets,
        "history": history,
        "ild": IntraListDiversity(als_unit, k=10),
        "coverage": Coverage(n_items, k=10),
        "cild": CategoryILD(cats, k=10),
        "miscal": Miscalibration(cats, k=10),
    }
    if minilm is not None:
        ctx["ild_minilm"] = IntraListDiversity(minilm, k=10)
    base_lists = rerank_top_items(RerankPipeline(), top, scores, catalog, history)
    assert (base_lists == top[:, :10]).all(), "method none must return the candidates' top 10"
    base, base_user = metrics_of(base_lists, ctx)
    rows = [{"method": "none", "diversity": 0.0, **base, **_relative(base, base, base_user, base_user)}]
    log.info("none: %s", {k: round(v, 4) for k, v in base.items()})
    configs = [RerankConfig(method=method, diversity=d) for method in args.methods for d in args.grid]
    for slots in args.exploration:  # exploration slots (the last positions) alone and after calibration
        for method, d in (("none", 0.0), ("calibrated", 0.3)):
            configs.append(RerankConfig(method=method, diversity=d, exploration={"slots": slots}))
    for cfg in configs:
        method, d = cfg.method, cfg.diversity
        if cfg.exploration.slots:
            method = f"{method}+explore{cfg.exploration.slots}"
        t0 = time.perf_counter()
        lists = rerank_top_items(RerankPipeline(cfg), top, scores, catalog, history)
        secs = time.perf_counter() - t0
        m, per_user = metrics_of(lists, ctx)
        row = {"method": method, "diversity": d, **m, **_relative(m, base, per_user, base_user)}
        row["ms_per_user"] = 1000 * secs / users.size
        rows.append(row)
        log.info(
            "%-10s d=%.2f ndcg %+.1f%% ild %+.1f%% cov %+.1f%% miscal %+.1f%% (%.2f ms/user)",
            method,
            d,
            row["d_ndcg%"],
            row["d_ild%"],
            row["d_coverage%"],
            row["d_miscal%"],
            row["ms_per_user"],
        )
    return {
        "benchmark": "diversity / calibration trade-off, Amazon Beauty",
        "protocol": "leave-one-out test item; ALS top-200 candidates over all items, history excluded; random "
        "ties seed 0; lists of 10; relative changes against no re-ranking on the same candidates",
        "model": {"name": "als", **model.params()},
        "data": {"users_evaluated": int(users.size), "items": n_items, "categories_proxy": n_cats},
        "embeddings_for_reranking": args.embeddings,
        "params": {k: v for k, v in vars(args).items() if k != "data"},
        "harness_check": {
            "ndcg@10": harness.metrics["ndcg@10"],
            "hr@10": harness.metrics["hr@10"],
            "protocol": harness.protocol.label(),
        },
        "seconds": time.perf_counter() - t_start,
        "rows": rows,
    }


def _relative(
    m: dict[str, float], base: dict[str, float], per_user: np.ndarray, base_user: np.ndarray
) -> dict[str, Any]:
    """Relative changes (%), the paired 95% CI of the NDCG change, and whether the goals are met."""
    pct = {key: 100.0 * (m[key] / base[key] - 1.0) for key in m}
    extra = {"d_ild_minilm%": pct["ild_minilm@10"]} if "ild_minilm@10" in pct else {}
    diff = per_user - base_user
    half = 1.96 * float(np.nanstd(diff)) / np.sqrt(np.isfinite(diff).sum()) / base["ndcg@10"] * 100.0
    ndcg_ok = pct["ndcg@10"] >= -2.0
    return {
        "d_ndcg%": pct["ndcg@10"],
        "d_ndcg_ci95%": half,
        "d_ild%": pct["ild@10"],
        "d_coverage%": pct["coverage@10"],
        "d_miscal%": pct["miscalibration@10"],
        **extra,
        "goal_diversity": bool(ndcg_ok and pct["ild@10"] >= 20.0 and pct["coverage@10"] >= 30.0),
        "goal_calibration": bool(ndcg_ok and pct["miscalibration@10"] <= -40.0),
    }


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, goal in zip(axes, ("d_ild%", "d_coverage%", "d_miscal%"), (20.0, 30.0, -40.0), strict=True):
        for method in sorted({r["method"] for r in rows} - {"none"}):
            pts = [(r["d_ndcg%"], r[key]) for r in rows if r["method"] == method]
            ax.plot(*zip(*pts, strict=True), marker="o", label=method)
        ax.axvline(-2.0, color="grey", ls="--", lw=1)
        ax.axhline(goal, color="grey", ls=":", lw=1)
        ax.set_xlabel("NDCG@10 change vs none (%)")
        ax.set_ylabel(f"{key.removeprefix('d_')} change vs none")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Amazon Beauty, ALS top-200 re-ranked to 10 (dashed: -2% NDCG; dotted: goal)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--users", type=int, default=0, help="evaluate a seeded sample of test users (0 = all)")
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--embeddings", choices=("als", "minilm"), default="als")
    ap.add_argument("--ild-minilm", action="store_true", help="also report ILD over MiniLM title vectors")
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--grid", nargs="+", type=float, default=list(GRID))
    ap.add_argument(
        "--exploration", nargs="*", type=int, default=[1, 2], help="exploration slot counts to add"
    )
    ap.add_argument("--name", default="diversity_tradeoff")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    payload = run(args)
    rows = payload.pop("rows")
    drawn = plot(rows, RESULTS / f"{args.name}.png")
    keep = (
        "method",
        "diversity",
        "ndcg@10",
        "d_ndcg%",
        "d_ndcg_ci95%",
        "hr@10",
        "ild@10",
        "d_ild%",
        "coverage@10",
        "d_coverage%",
        "miscalibration@10",
        "d_miscal%",
        "ild_category@10",
        "ild_minilm@10",
        "d_ild_minilm%",
        "goal_diversity",
        "goal_calibration",
    )
    table = [{c: r.get(c) for c in keep if c in r} for r in rows]
    notes = (
        f"{payload['protocol']}. Model: ALS {payload['model']}. Categories: a proxy (first two levels of the "
        f"attribute path, {payload['data']['categories_proxy']} groups). ild@10 is over the normalised ALS item "
        f"factors (re-ranking embeddings here: {args.embeddings}); ild_minilm@10 over MiniLM title vectors. "
        "d_* = relative change vs `none` in %, d_ndcg_ci95% = half-width of the paired 95% CI of the NDCG change. "
        "Goals (BENCHMARKS.md section 4): diversity = ILD +20% and coverage +30% at <= 2% NDCG loss; "
        "calibration = miscalibration -40% at <= 2% NDCG loss. "
        f"Harness check (evaluate_ranking, same model/users): NDCG@10 {payload['harness_check']['ndcg@10']:.4f}. "
        + ("Plot: " + f"{args.name}.png." if drawn else "matplotlib not installed: no plot.")
    )
    path = write_results(args.name, payload | {"rows": rows}, table, notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
