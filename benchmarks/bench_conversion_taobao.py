"""Purchase prediction on Taobao UserBehavior with a time split: the LightGBM ranker's features vs baselines.

Protocol (``shelfwise.ranking.conversion``): ``TemporalSplit(cut_time=2017-12-01, valid_cut_time=2017-11-28)``.
One row per (user, item) pair the user touched before a cut; label = the user bought the item in the next
3 days. Training windows at 2017-11-26/27/28 (every daily cut with a full day of history before it and a
label window ending by the test cut), test window at 2017-12-01 (labels 12-01 .. 12-03, the end of the data). Features come from the feature state of the events before each
cut (the ranker's own feature code); baselines from the same state: item popularity, the item's smoothed
conversion rate, and a funnel heuristic (the user's own events on the item weighted view 1, favourite 2,
cart 3, purchase 5). AUC, GAUC (by user) and log loss are the harness metrics; the AUC interval is a 95%
bootstrap over test users. Baseline probabilities for log loss: one-feature logistic regression on the
training windows.

The LightGBM settings were chosen on the validation users (the early-stopping fold of the training
windows, never the test window) among three regularisation levels; see ``--configs``.

Run (3-20 minutes, depending on the load of the shared machine)::

    .venv/bin/python benchmarks/bench_conversion_taobao.py

Writes ``benchmarks/results/conversion_taobao.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from shelfwise.ranking import ConversionConfig, LGBMConfig
from shelfwise.ranking.conversion import build_windows, run_conversion
from shelfwise.storage import open_store

log = logging.getLogger("bench_conversion_taobao")

OUT = Path(__file__).resolve().parent / "results"
TRAIN_CUTS = ["2017-11-26", "2017-11-27", "2017-11-28"]

#: Regularisation levels compared on the validation users only.
CONFIGS = {
    "leaves15": LGBMConfig(
        objective="binary", num_leaves=15, min_child_samples=40, learning_rate=0.03, n_estimators=600
    ),
    "leaves7": LGBMConfig(
        objective="binary",
        num_leaves=7,
        min_child_samples=100,
        learning_rate=0.02,
        n_estimators=1000,
        feature_fraction=0.7,
        lambda_l2=10.0,
    ),
    "leaves4": LGBMConfig(
        objective="binary",
        num_leaves=4,
        min_child_samples=200,
        learning_rate=0.05,
        n_estimators=600,
        feature_fraction=0.7,
        lambda_l2=10.0,
    ),
}
LABELS = {
    "lightgbm": "LightGBM binary (ranker features)",
    "expected_value": "p(click) x p(purchase given click) (two LightGBM models)",
    "popularity": "popularity (item events)",
    "item_conversion_rate": "item conversion rate (smoothed)",
    "funnel_heuristic": "funnel heuristic (user's weighted events on the item)",
}


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    with open_store(args.store, create=False, read_only=True) as store:
        events = store.read_events(["event_id", "user_id", "item_id", "type", "value", "timestamp", "seq"])
        items = store.read_items(["item_id", "category", "brand", "price"])
    events = events.filter(pc.is_valid(events.column("item_id")))
    base = ConversionConfig(train_cuts=TRAIN_CUTS)
    windows = build_windows(events, items, base)
    selection = {}
    for name, lgbm in CONFIGS.items():
        cfg = base.model_copy(update={"lgbm": lgbm})
        res = run_conversion(events, items, cfg, n_bootstrap=1, windows=windows)
        selection[name] = res.data["validation"]["lightgbm"]
        log.info("validation %s: %s", name, selection[name])
    chosen = max(selection, key=lambda n: selection[n]["auc"])
    cfg = base.model_copy(update={"lgbm": CONFIGS[chosen]})
    result = run_conversion(events, items, cfg, n_bootstrap=args.bootstrap, windows=windows)
    return {
        "benchmark": "taobao-userbehavior purchase prediction, time split",
        "store": args.store,
        "protocol": "TemporalSplit(cut_time=2017-12-01, valid_cut_time=2017-11-28); rows = (user, item) pairs "
        "touched before the cut; label = purchase within 3 days after the cut; training windows at "
        + ", ".join(TRAIN_CUTS)
        + "; test window at 2017-12-01",
        "selection": {
            "criterion": "AUC on the validation users (early-stopping fold)",
            "chosen": chosen,
            "validation_auc": selection,
        },
        "config": cfg.model_dump(),
        "metrics": result.metrics,
        "data": result.data,
        "importance_top15": dict(list(result.importance.items())[:15]),
        "feature_docs": result.feature_docs,
        "seconds": round(time.perf_counter() - t0, 1),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m": os.getloadavg()[0],
        },
    }


def write(payload: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "conversion_taobao.json").write_text(json.dumps(payload, indent=2, default=float))
    test = next(w for w in payload["data"]["windows"] if w["role"] == "test")
    lines = [
        "# Purchase prediction — Taobao UserBehavior, time split",
        "",
        f"`{payload['command']}` ({payload['seconds']:.0f} s)",
        "",
        f"Protocol: {payload['protocol']}.",
        f"Test window: {test['pairs']:,} pairs of {test['users']} users, {test['purchased']} purchased "
        f"(base rate {payload['data']['base_rate_test']:.4f}).",
        "",
        "| model | AUC (95% CI, bootstrap over users) | GAUC | log loss | validation AUC |",
        "|---|---|---|---|---|",
    ]
    valid = payload["data"]["validation"]
    for name, m in payload["metrics"].items():
        v = valid.get(name, {}).get("auc")
        lines.append(
            f"| {LABELS.get(name, name)} | {m['auc']:.4f} ({m['auc_ci_low']:.3f}-{m['auc_ci_high']:.3f}) | "
            f"{m['gauc']:.4f} | {m['logloss']:.5f} | {'' if v is None else f'{v:.4f}'} |"
        )
    lines += [
        "",
        f"LightGBM settings chosen on validation users: `{payload['selection']['chosen']}` "
        f"(validation AUC per setting: "
        + ", ".join(f"{k} {v['auc']:.4f}" for k, v in payload["selection"]["validation_auc"].items())
        + ").",
        "",
        "Top features by gain: " + ", ".join(list(payload["importance_top15"])[:10]) + ".",
        "",
        "Windows: "
        + "; ".join(
            f"{w['cut'][:10]} ({w['role']}): {w['pairs']:,} pairs, {w['purchased']} bought"
            for w in payload["data"]["windows"]
        )
        + ".",
    ]
    (out / "conversion_taobao.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="/tmp/stores/taobao-userbehavior")
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    payload = run(args)
    write(payload, args.out)
    print((args.out / "conversion_taobao.md").read_text())


if __name__ == "__main__":
    main()
