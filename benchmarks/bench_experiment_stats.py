"""Experiment statistics on simulations with known answers: A/A false positives under peeking, and the shoppers
an A/B test and team-draft interleaving need to find a better ranker.

    python benchmarks/bench_experiment_stats.py [--reps 200] [--sim-reps 100]

Writes benchmarks/results/experiment_stats.json and .md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from shelfwise.experiments.decision import DecisionSettings, decide
from shelfwise.experiments.interleaving_sim import ShopModel, users_needed
from shelfwise.experiments.stats import compare_means

RESULTS = Path(__file__).parent / "results"


def aa_peeking(reps: int, seed: int = 7) -> dict[str, float]:
    """False-positive rates of three readings of 10 looks at an A/A test of clicks per user."""
    rng = np.random.default_rng(seed)
    values = rng.poisson(2.0, 4000).astype(float)
    looks = list(range(400, 4001, 400))
    seq = DecisionSettings(inference="sequential", correction="none")
    fixed = DecisionSettings(
        inference="fixed", correction="none", min_users_per_arm=1900, min_detectable_effect=1.0
    )
    counts = {"sequential": 0, "fixed_horizon_with_guard": 0, "naive_fixed_every_look": 0}
    for _ in range(reps):
        order = rng.permutation(values.size)
        v, arm = values[order], rng.integers(0, 2, values.size)
        hit = dict.fromkeys(counts, False)
        for n in looks:
            c = compare_means("clicks", v[:n][arm[:n] == 0], v[:n][arm[:n] == 1])
            hit["naive_fixed_every_look"] |= c.p_fixed_horizon < 0.05
            hit["sequential"] |= decide([c], seq)[0].significant
            hit["fixed_horizon_with_guard"] |= decide([c], fixed)[0].significant
        for k in counts:
            counts[k] += hit[k]
    ci = binomtest(round(0.05 * reps), reps, 0.05).proportion_ci(0.95, method="exact")
    return {
        **{k: v / reps for k, v in counts.items()},
        "alpha_interval_low": ci.low,
        "alpha_interval_high": ci.high,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--sim-reps", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    aa = aa_peeking(args.reps)
    grid = [100, 200, 400, 800, 1200, 1600, 2400, 3200, 4800, 6400]
    model = ShopModel()
    il_n, il_curve = users_needed("interleaving", model, grid, args.sim_reps)
    ab_n, ab_curve = users_needed("ab", model, grid, args.sim_reps)
    out = {
        "aa_peeking": {"reps": args.reps, "looks": 10, "alpha": 0.05, **aa},
        "interleaving_vs_ab": {
            "model": model.__dict__,
            "power": 0.8,
            "reps": args.sim_reps,
            "users_needed": {"interleaving": il_n, "ab": ab_n},
            "power_curve": {"interleaving": il_curve, "ab": ab_curve},
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "experiment_stats.json").write_text(json.dumps(out, indent=2))
    md = [
        "# Experiment statistics on simulations with known answers",
        "",
        "Command: `python benchmarks/bench_experiment_stats.py "
        f"--reps {args.reps} --sim-reps {args.sim_reps}`",
        "",
        f"## A/A test read at 10 looks, {args.reps} random re-splits of 4,000 users (alpha 0.05; exact 95% interval of "
        f"a rate of 0.05 over {args.reps} trials: [{aa['alpha_interval_low']:.3f}, {aa['alpha_interval_high']:.3f}])",
        "",
        "| reading | false-positive rate |",
        "|---|---|",
        *[
            f"| {k} | {aa[k]:.3f} |"
            for k in ("sequential", "fixed_horizon_with_guard", "naive_fixed_every_look")
        ],
        "",
        f"## Shoppers needed to find the better ranker with 80% power ({args.sim_reps} simulated experiments per size)",
        "",
        "| method | shoppers needed | power by size |",
        "|---|---|---|",
        f"| team-draft interleaving | {il_n} | {', '.join(f'{n}: {p:.2f}' for n, p in il_curve.items())} |",
        f"| A/B test (Welch) | {ab_n} | {', '.join(f'{n}: {p:.2f}' for n, p in ab_curve.items())} |",
        "",
    ]
    (RESULTS / "experiment_stats.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
