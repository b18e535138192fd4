"""Fair exposure vs accuracy on Amazon Beauty: the Pareto curve of ``rerank.fairness``.

The relevance model (``--model``, default ``shelfwise``: the full pipeline) is fitted once on train + valid;
its top ``--candidates`` items per test user are computed once (cached with ``--cache``, the cache of
``bench_diversity_tradeoff.py``) and every fairness level re-ranks the same lists through the harness's own
path (:func:`shelfwise.evaluation.runner.reranked_metrics`, what ``shelfwise evaluate --set
rerank.method=fair_exposure --set rerank.fairness=F`` runs), one :class:`~shelfwise.rerank.fair.FairExposureLedger`
over all test users in row order. The baseline is ``method=none`` on the same candidates in the same run.
Brands on Beauty: the leading id of the attribute path (:func:`shelfwise.metrics.fairness.item_brands`).

Goal (issue "Privacy and fairness by design"): brand-exposure Gini -30% at <= 2% NDCG@10 loss.

Usage:
    python benchmarks/bench_fairness_pareto.py --store /tmp/h8beauty --cache /tmp/h8cands
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from _common import write_results
from bench_diversity_tradeoff import load_inputs
from shelfwise.config import Settings
from shelfwise.encoded.data import load_recommend_data
from shelfwise.evaluation.runner import rerank_catalog, reranked_metrics
from shelfwise.rerank import RerankConfig
from shelfwise.storage import open_store

log = logging.getLogger("bench_fairness_pareto")

GRID = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0)
KEYS = (
    "ndcg@10",
    "hr@10",
    "gini_brand_exposure@10",
    "gini_item_exposure@10",
    "brand_exposure_vs_relevance@10",
    "long_tail_share@10",
    "coverage@10",
)


def main() -> None:
    """Sweep the fairness knob and write ``benchmarks/results/<name>.{json,md}``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--model", default="shelfwise")
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--grid", default=",".join(map(str, GRID)))
    ap.add_argument(
        "--merit", default="max", help="rerank.fairness_merit values to sweep, e.g. max,sum,equal"
    )
    ap.add_argument("--sum-grid", default="0.1,0.5,1.0", help="fairness levels for merit=sum / equal")
    ap.add_argument(
        "--tail",
        default="",
        help="fairness_tail settings as TAIL/MERIT/F triples, e.g. 1/equal/0,2/equal/0 (the last TAIL positions "
        "go to the most under-exposed brands; the others use fairness F); '' = none",
    )
    ap.add_argument("--name", default="fairness_pareto")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t_start = time.perf_counter()
    settings = Settings()
    settings.rerank.candidates = args.candidates
    data = load_recommend_data(open_store(args.store, create=False, read_only=True))
    inputs = load_inputs(data, settings, args.model, Path(args.cache) if args.cache else None)
    catalog = rerank_catalog(data, "fair_exposure")

    def measure(cfg: RerankConfig) -> tuple[dict[str, float], float]:
        t0 = time.perf_counter()
        m, _ = reranked_metrics(inputs, data, settings.model_copy(update={"rerank": cfg}), catalog)
        return {k: float(m[k]) for k in KEYS if k in m}, time.perf_counter() - t0

    base, base_s = measure(RerankConfig(method="none", candidates=args.candidates))
    rows: list[dict[str, Any]] = [
        {"setting": "none", **base, "ndcg_change_%": 0.0, "brand_gini_change_%": 0.0}
    ]
    log.info("none: %s (%.0f s)", base, base_s)
    sweeps = [
        (merit, float(x), 0)
        for merit in (args.merit.split(",") if args.merit else [])
        for x in (args.grid if merit == "max" else args.sum_grid).split(",")
    ]
    for triple in filter(None, args.tail.split(",")):
        tail, merit, f = triple.split("/")
        sweeps.append((merit, float(f), int(tail)))
    for merit, f, tail in sweeps:
        cfg = RerankConfig(
            method="fair_exposure",
            fairness=f,
            fairness_merit=merit,
            fairness_tail=tail,
            candidates=args.candidates,
        )
        m, secs = measure(cfg)
        label = [f"merit={merit}"] if merit != "max" else []
        label += [f"last {tail} to under-exposed brands"] if tail else []
        row = {
            "setting": f"fair_exposure@{f:g}" + (f" ({', '.join(label)})" if label else ""),
            **m,
            "ndcg_change_%": 100.0 * (m["ndcg@10"] / base["ndcg@10"] - 1.0),
            "brand_gini_change_%": 100.0
            * (m["gini_brand_exposure@10"] / base["gini_brand_exposure@10"] - 1.0),
            "seconds": round(secs, 1),
        }
        row["goal_met"] = row["ndcg_change_%"] >= -2.0 and row["brand_gini_change_%"] <= -30.0
        rows.append(row)
        log.info("%s: %s", row["setting"], {k: round(v, 4) for k, v in m.items()})
    met = [r["setting"] for r in rows if r.get("goal_met")]
    notes = (
        f"Model `{args.model}`, {inputs.items.shape[0]} test users, {args.candidates} candidates each "
        f"(candidate scoring {inputs.seconds:.0f} s, once). Goal brand-exposure Gini -30% at <= 2% NDCG@10 loss: "
        + (f"met by {', '.join(met)}." if met else "not met at any tested setting.")
        + f" Total {time.perf_counter() - t_start:.0f} s."
    )
    path = write_results(args.name, {"model": args.model, "baseline": base, "rows": rows}, rows, notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
