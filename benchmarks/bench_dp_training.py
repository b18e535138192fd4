"""The price of privacy for the sequential model (DP-SGD, Opacus) and the DP-count popularity source on Beauty.

Protocol (README): Amazon Beauty, leave-one-out, full ranking over all items, history rankable, random ties
(seed 0); train on the train part, test input = train + valid. For each epsilon in ``--epsilons``:

* the sequential model trained with :func:`shelfwise.privacy.dp_training.dp_train_sequential` (user-level
  DP-SGD: Poisson sampling, per-shopper clipping, Gaussian noise chosen by Opacus for the target (epsilon,
  delta = 1 / n) over the fixed epochs, RDP accountant). epsilon = inf trains the *same* recipe without
  clipping or noise, so the gap is the cost of DP alone, not of the recipe. The recipe is a budgeted one (text
  item vectors, repeat bias, no text neighbours, ``--epochs`` epochs, last ``--max-len`` items, no early
  stopping): it is not the README's headline model (0.0578), which trains 24 epochs with early stopping;
* the popularity source from OpenDP counts of the training interactions (each shopper bounded to
  ``--max-contributions``; :func:`shelfwise.privacy.dp.dp_counts`).

Popularity bias of the top-10 lists: share of slots taken by the 100 most popular training items ("head-100
share"; the exact-count popularity list is 1.0) and the Gini of position-weighted item exposure over the
catalogue (:mod:`shelfwise.metrics.fairness`), over ``--bias-users`` seeded test users.

    nohup python benchmarks/bench_dp_training.py --epsilons inf,1,8,3 --epochs 6 --max-len 10 --negatives 500 --lr 0.01 --eval-users 6000 --bias-users 3000 &

Writes ``benchmarks/results/dp_training.{json,md}``; one seed per row; the machine is shared (load in the table).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_beauty_sequential import load, measure
from shelfwise.metrics import top_k_items
from shelfwise.metrics.beyond_accuracy import gini_coefficient
from shelfwise.metrics.fairness import item_exposure
from shelfwise.models.sequential import SequentialConfig, sequences_from_split
from shelfwise.privacy.dp import dp_counts
from shelfwise.privacy.dp_training import DPTrainingSettings, dp_train_sequential

log = logging.getLogger("bench_dp_training")
OUT = Path(__file__).resolve().parent / "results"
NAME = "dp_training"
MODEL = {"item_embedding": "text", "repeat_bias": True, "text_neighbours": 0}


def bias(top: np.ndarray, head: np.ndarray, n_items: int) -> dict[str, float]:
    """Head-100 share of the slots and Gini of position-weighted item exposure of ``(n, 10)`` lists."""
    return {
        "head100_share": float(np.isin(top, head).mean()),
        "gini_item_exposure": float(gini_coefficient(item_exposure(top, n_items))),
    }


def _sample_test(data: Any, n: int) -> Any:
    """``data`` with a seeded sample of ``n`` test users (targets and histories kept aligned)."""
    import dataclasses

    pick = np.sort(
        np.random.default_rng(1).choice(len(data.test_users), min(n, len(data.test_users)), replace=False)
    )
    return dataclasses.replace(
        data, test_users=data.test_users[pick], test_targets=np.asarray(data.test_targets)[pick]
    )


def popularity_row(
    eps: float,
    train_users: np.ndarray,
    train_items: np.ndarray,
    n_items: int,
    data: Any,
    users: np.ndarray,
    head: np.ndarray,
    max_contributions: int,
    seed: int,
) -> dict[str, Any]:
    counts = dp_counts(train_users, train_items, n_items, eps, max_contributions, seed).astype(np.float32)

    def score(u: np.ndarray, history: Any = None) -> np.ndarray:
        return np.tile(counts, (len(u), 1))

    return {
        "source": "popularity (OpenDP counts)",
        "epsilon": eps,
        **accuracy_and_bias(score, data, users, head),
    }


def accuracy_and_bias(score: Any, data: Any, users: np.ndarray, head: np.ndarray) -> dict[str, float]:
    """NDCG@10 / HR@10 over the test users and the popularity bias of ``users``' top-10 lists."""
    metrics, _ = measure(
        score,
        data.test_users,
        data.test_targets,
        data.train_valid[data.test_users],
        ("ndcg@10", "hr@10"),
        False,
    )
    top = top_k_items(score, users, 10, history=data.train_valid[users])
    return {**metrics, **bias(top, head, data.train_valid.shape[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epsilons", default="1,3,8,inf")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-len", type=int, default=20)
    parser.add_argument("--negatives", type=int, default=1000)
    parser.add_argument("--dropout", type=float, default=0.0, help="every dropout of the network (DP: none)")
    parser.add_argument("--eval-users", type=int, default=0, help="seeded sample of test users (0: all)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--max-contributions", type=int, default=20)
    parser.add_argument("--bias-users", type=int, default=5000)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shelfwise")
    parser.add_argument("--out", default=NAME)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    epsilons = [float(e) for e in args.epsilons.split(",")]
    split, data, vectors, info = load("amazon-beauty", "loo", args.cache_dir)
    n_items = len(data.items)
    train = sequences_from_split(split, data.users, data.items, ("train",))
    test_input = sequences_from_split(split, data.users, data.items, ("train", "valid"))
    train_users = np.concatenate([np.full(len(s), u) for u, s in enumerate(train)]).astype(np.int64)
    train_items = np.concatenate(train).astype(np.int64)
    exact = np.bincount(train_items, minlength=n_items)
    head = np.argsort(-exact, kind="stable")[:100]
    users = np.sort(
        np.random.default_rng(0).choice(
            data.test_users, min(args.bias_users, len(data.test_users)), replace=False
        )
    )
    if args.eval_users:
        data = _sample_test(data, args.eval_users)
    drop = {"dropout": args.dropout, "attn_dropout": args.dropout, "emb_dropout": args.dropout}
    cfg = SequentialConfig.model_validate({**MODEL, **drop})
    rows: list[dict[str, Any]] = []
    for eps in epsilons:
        rows.append(
            popularity_row(
                eps, train_users, train_items, n_items, data, users, head, args.max_contributions, 0
            )
        )
        log.info("%s", rows[-1])
    recipe = {k: getattr(args, k) for k in ("epochs", "batch_size", "max_len", "lr", "negatives")}
    for eps in epsilons:
        dp = DPTrainingSettings(enabled=True, epsilon=eps, max_grad_norm=args.clip, **recipe)
        load0, wall0, cpu0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
        model = dp_train_sequential(cfg, train, n_items, dp, item_vectors=vectors)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        scorer = model.with_user_sequences(test_input)
        measured = accuracy_and_bias(scorer.score, data, users, head)
        rows.append(
            {
                "source": f"sequential ({cfg.label}), DP-SGD",
                "epsilon": eps,
                **measured,
                "dp": model.report["dp"],
                "fit_wall_s": wall,
                "fit_cpu_s": cpu,
                "load_avg_1m": [load0, os.getloadavg()[0]],
            }
        )
        log.info("%s", rows[-1])
        write(args, info, rows)


def _fmt(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:g}"


def write(args: argparse.Namespace, info: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    command = "python benchmarks/bench_dp_training.py " + shlex.join(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": command,
        "dataset": {k: info[k] for k in ("dataset", "users", "items", "events")},
        "settings": {k: str(v) for k, v in vars(args).items()},
        "rows": rows,
    }
    (OUT / f"{args.out}.json").write_text(json.dumps(payload, indent=2, default=str))
    rows = sorted(rows, key=lambda r: (r["source"], r["epsilon"]))
    base = {r["source"]: r for r in rows if not math.isfinite(r["epsilon"])}
    lines = [
        f"# {args.out}",
        "",
        f"`{command}`",
        "",
        "Amazon Beauty, leave-one-out, full ranking over all items, history rankable, random ties (seed 0). "
        f"Sequential model: text item vectors + repeat bias, {args.epochs} epochs, last {args.max_len} items, "
        f"expected batch {args.batch_size}, clip {args.clip}, Adam lr {args.lr}, dropout {args.dropout}, "
        f"sampled softmax with {args.negatives} uniform negatives per step, no early stopping; delta = 1 / "
        "(training shoppers). epsilon inf = the same recipe without clipping or noise. Popularity: OpenDP Laplace "
        f"counts, {args.max_contributions} interactions per shopper. Bias over a seeded sample of "
        f"{args.bias_users} test users' top-10 lists. One seed per row; shared 2-core machine (load in the table).",
        "",
        "| source | epsilon | NDCG@10 | HR@10 | NDCG vs inf | head-100 share of top-10 slots | Gini item exposure "
        "| noise multiplier | epsilon spent (RDP) | steps | fit wall / CPU s | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = base.get(r["source"])
        ratio = f"{r['ndcg@10'] / b['ndcg@10']:.2f}" if b and b["ndcg@10"] > 0 else "-"
        dp = r.get("dp", {})
        lines.append(
            f"| {r['source']} | {_fmt(r['epsilon'])} | {r['ndcg@10']:.4f} | {r['hr@10']:.4f} | {ratio} | "
            f"{r['head100_share']:.3f} | {r['gini_item_exposure']:.3f} | "
            f"{dp.get('noise_multiplier', '-') if not dp else round(dp['noise_multiplier'], 3)} | "
            f"{'-' if not dp else _fmt(round(dp['epsilon'], 3))} | {dp.get('steps', '-')} | "
            + (
                f"{r['fit_wall_s']:.0f} / {r['fit_cpu_s']:.0f} | {r['load_avg_1m'][0]:.1f}, {r['load_avg_1m'][1]:.1f} |"
                if "fit_wall_s" in r
                else "- | - |"
            )
        )
    (OUT / f"{args.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
