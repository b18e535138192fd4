"""The price of privacy for the popularity source: NDCG@10 on Amazon Beauty at epsilon in {1, 3, 8, inf}.

Protocol (README / BENCHMARKS.md section 1): leave-one-out, the last item of each user is the target, ranked
against all 12,101 items, history rankable, ties broken randomly with seed 0. The popularity source counts the
training interactions (every item but each user's last); here the counts are released with OpenDP's Laplace
mechanism after bounding each user's contribution to ``--max-contributions`` interactions
(:func:`shelfwise.privacy.dp.dp_counts`), as ``privacy.dp`` does for the popular / trending sources and the
dashboard. epsilon = inf is the exact count of the bounded data; "exact" is the unbounded count (the published
popularity baseline, 0.0054 / 0.0114). DP runs are repeated ``--runs`` times (the noise differs each time);
mean and standard deviation are reported.

Popularity bias: the top-10 list's mean exact training count relative to the exact list's (1.0 = as
concentrated on blockbusters as the non-private list), and its overlap with the exact top-10.

    python benchmarks/bench_dp_popularity.py [--runs 5] [--max-contributions 20]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from shelfwise.privacy.dp import dp_counts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon-beauty" / "Beauty.txt"
RESULTS = Path(__file__).parent / "results"


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Training (user, item) pairs and each user's target item (0-based ids)."""
    users, items, targets = [], [], []
    n_items = 0
    for u, line in enumerate(path.read_text().split("\n")):
        if not line.strip():
            continue
        seq = [int(x) - 1 for x in line.split()[1:]]
        n_items = max(n_items, *seq)
        users += [u] * (len(seq) - 1)
        items += seq[:-1]
        targets.append(seq[-1])
    return np.array(users), np.array(items), np.array(targets), n_items + 1


def evaluate(counts: np.ndarray, targets: np.ndarray, seed: int = 0) -> dict[str, float]:
    """NDCG@10 / HR@10 of one global list for every user, ties broken randomly (seed)."""
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(counts.size)
    order = np.lexsort((tiebreak, -counts.astype(float)))
    rank = np.empty(counts.size, dtype=np.int64)
    rank[order] = np.arange(counts.size)
    r = rank[targets]
    hit = r < 10
    return {
        "ndcg@10": float(np.where(hit, 1.0 / np.log2(r + 2.0), 0.0).mean()),
        "hr@10": float(hit.mean()),
        "top10": order[:10].tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-contributions", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    users, items, targets, n_items = load(DATA)
    exact_counts = np.bincount(items, minlength=n_items)
    exact = evaluate(exact_counts, targets)
    exact_top_mean = exact_counts[exact["top10"]].mean()
    rows = [
        {
            "epsilon": "exact (unbounded)",
            "ndcg@10": exact["ndcg@10"],
            "hr@10": exact["hr@10"],
            "bias": 1.0,
            "overlap": 1.0,
        }
    ]
    for eps in (math.inf, 8.0, 3.0, 1.0):
        runs = []
        for run in range(1 if math.isinf(eps) else args.runs):
            counts = dp_counts(users, items, n_items, eps, args.max_contributions, seed=run)
            res = evaluate(counts, targets)
            runs.append(
                {
                    "ndcg@10": res["ndcg@10"],
                    "hr@10": res["hr@10"],
                    "bias": float(exact_counts[res["top10"]].mean() / exact_top_mean),
                    "overlap": len(set(res["top10"]) & set(exact["top10"])) / 10,
                }
            )
        row: dict[str, object] = {
            "epsilon": eps if math.isfinite(eps) else "inf (bounded)",
            "runs": len(runs),
        }
        for key in ("ndcg@10", "hr@10", "bias", "overlap"):
            vals = np.array([r[key] for r in runs])
            row[key] = float(vals.mean())
            row[key + "_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        rows.append(row)
    out = {
        "dataset": "amazon-beauty",
        "protocol": "leave-one-out, full ranking, history rankable, random ties (seed 0)",
        "max_contributions": args.max_contributions,
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dp_popularity.json").write_text(json.dumps(out, indent=2))
    md = [
        "# DP popularity source on Amazon Beauty",
        "",
        f"Command: `python benchmarks/bench_dp_popularity.py --runs {args.runs} --max-contributions {args.max_contributions}`",
        "",
        f"{out['protocol']}; each user contributes at most {args.max_contributions} training interactions; "
        "OpenDP Laplace mechanism; DP rows are the mean (sd) of the runs.",
        "",
        "| epsilon | NDCG@10 | HR@10 | popularity bias (top-10 mean count / exact) | overlap with exact top-10 |",
        "|---|---|---|---|---|",
    ]
    for r in rows:

        def cell(key: str, r: dict = r) -> str:
            sd = r.get(key + "_sd")
            return f"{r[key]:.4f}" + (f" ({sd:.4f})" if sd else "")

        md.append(
            f"| {r['epsilon']} | {cell('ndcg@10')} | {cell('hr@10')} | {cell('bias')} | {cell('overlap')} |"
        )
    (RESULTS / "dp_popularity.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
