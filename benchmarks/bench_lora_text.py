"""What LoRA fine-tuning adds to the frozen text encoder: ``lora_text`` vs ``frozen_text`` (and friends).

Both are the two-tower text source of :mod:`shelfwise.models.finetune` (history text -> item text
cosine, all-MiniLM-L6-v2 in torch, mean pooling); ``lora_text`` trains LoRA adapters on the shop's
sequences first. Each model is fitted exactly as ``shelfwise evaluate`` fits it (``SourceModel.fit`` on
train + valid of the store's split) and ranks every item for a seeded sample of the test users
(``--users``; the full test set when 0): encoding a history text with MiniLM on this CPU costs ~0.1 s,
so all 22k Beauty users would take ~40 min per model. Full ranking, random ties (seed 0), history
rankable (the default protocol) and excluded (labelled). The ratio of NDCG@10 against ``frozen_text``
comes with a 95% paired bootstrap interval over the sampled users.

Run (tens of minutes on the loaded 2-core machine; run in the background with ``nice``)::

    .venv/bin/python benchmarks/bench_lora_text.py --store /tmp/stores/amazon-beauty --users 3000
    .venv/bin/python benchmarks/bench_lora_text.py --store /tmp/stores/amazon-scientific --split given

``--set key=value`` overrides :class:`~shelfwise.models.finetune.config.FinetuneConfig` of ``lora_text``
(e.g. ``--set max_steps=60``). Results: ``benchmarks/results/lora_text.json`` / ``.md``, one section per
store, rows merged by model name.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.config import load_settings
from shelfwise.encoded.data import load_recommend_data
from shelfwise.evaluation.source_models import SourceModel
from shelfwise.metrics import get_metric, rank_targets
from shelfwise.models.finetune.config import FinetuneConfig
from shelfwise.models.finetune.source import TwoTowerTextSource
from shelfwise.retrieval.sources_registry import build_source
from shelfwise.storage import open_store

log = logging.getLogger("bench_lora_text")

OUT = Path(__file__).resolve().parent / "results"
NAME = "lora_text"
METRICS = ("ndcg@10", "hr@10", "ndcg@20", "hr@20")


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs (values parsed as JSON when they parse) into a dict."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def paired_ratio_ci(ours: np.ndarray, base: np.ndarray, n: int = 1000, seed: int = 0) -> list[float]:
    """95% bootstrap interval (users resampled, paired) of mean(ours) / mean(base)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, ours.size, (n, ours.size))
    ratios = ours[idx].mean(axis=1) / np.maximum(base[idx].mean(axis=1), 1e-12)
    return [float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))]


def build(name: str, settings: Any, lora: FinetuneConfig) -> SourceModel:
    """The registered source ``name`` (``lora_text`` with the given config) behind the harness adapter."""
    if name.startswith("lora_text"):  # lora_text, or a labelled variant such as lora_text[lr=1e-4]
        return SourceModel(TwoTowerTextSource(lora, name), name)
    return SourceModel(build_source(name, settings), name)


def evaluate_model(model: SourceModel, data: Any, users: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    """Fit one source as the harness does and rank the sampled users' targets."""
    name = model.name
    load0, wall0, cpu0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
    model.fit(data, "train_valid")
    fit_wall, fit_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    t0 = time.perf_counter()
    scores = model.score(users)
    score_s = time.perf_counter() - t0
    history = data.ranking.train_valid[users]
    row: dict[str, Any] = {
        "model": name,
        "params": model.params(),
        "fit_wall_s": fit_wall,
        "fit_cpu_s": fit_cpu,
        "score_wall_s": score_s,
        "load_avg_1m": [load0, os.getloadavg()[0]],
    }
    per_user: dict[str, np.ndarray] = {}
    for protocol in ("rankable", "excluded"):
        res = rank_targets(
            scores.copy(), users, targets, history=history, exclude_history=protocol == "excluded"
        )
        row[protocol] = {m: float(get_metric(m).compute(res.ranks)) for m in METRICS}
        per_user[protocol] = get_metric("ndcg@10").per_user(res.ranks)  # type: ignore[attr-defined]
    top1 = scores.argmax(axis=1)
    row["own_history_top1"] = float(np.mean([history[r, int(t)] > 0 for r, t in enumerate(top1)]))
    log.info("%s: %s (fit %.0f s, score %.0f s)", name, row["rankable"], fit_wall, score_s)
    return {"row": row, "per_user": per_user}


def markdown(report: dict[str, Any]) -> str:
    """The results as markdown tables, one per store."""
    out = [f"# {NAME}", ""]
    for key, sec in report["sections"].items():
        out += [
            f"## {key}",
            "",
            f"`{sec['command']}`",
            "",
            f"{sec['users_scored']} of {sec['test_users']} test users (seeded sample, seed 0), full ranking over "
            f"{sec['items']} items, random ties (seed 0); fitted on train + valid as `shelfwise evaluate` fits. "
            "Ratio = NDCG@10 / frozen_text's, 95% paired bootstrap interval. Times: wall / CPU seconds on the "
            "shared 2-core machine (load average at start, end).",
            "",
            "| model | NDCG@10 / HR@10 rankable | ratio | NDCG@10 / HR@10 excluded | ratio | top-1 own history "
            "| fit wall / CPU s | score s | load |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sec["rows"]:
            cells = []
            for p in ("rankable", "excluded"):
                ci = r.get(f"ratio_ci_{p}")
                ratio = f"{r[p]['ndcg@10'] / max(sec['frozen'][p], 1e-12):.2f}" if sec.get("frozen") else "-"
                cells += [
                    f"{r[p]['ndcg@10']:.4f} / {r[p]['hr@10']:.4f}",
                    f"{ratio} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ratio,
                ]
            load = r["load_avg_1m"]
            out.append(
                f"| {r['model']} | {' | '.join(cells)} | {r['own_history_top1']:.3f} | {r['fit_wall_s']:.0f} / "
                f"{r['fit_cpu_s']:.0f} | {r['score_wall_s']:.0f} | {load[0]:.1f}, {load[1]:.1f} |"
            )
        out += ["", *[f"- {note}" for note in sec.get("notes", [])]] if sec.get("notes") else []
        training = [r for r in sec["rows"] if r["params"].get("training")]
        for r in training:
            out += ["", f"{r['model']} training: `{json.dumps(r['params']['training'])}`"]
        out += [""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--split", default="leave-one-out")
    parser.add_argument(
        "--models", nargs="+", default=["frozen_text", "lora_text", "profile_text", "popular"]
    )
    parser.add_argument("--users", type=int, default=3000, help="seeded sample of test users (0 = all)")
    parser.add_argument(
        "--set", dest="sets", nargs="*", default=[], help="FinetuneConfig overrides of lora_text"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(1)
    settings = load_settings(environ={})
    lora = FinetuneConfig(**parse_sets(args.sets))
    with open_store(args.store, create=False, read_only=True) as store:
        data = load_recommend_data(store, args.split)
    users_all, targets_all = data.ranking.test_users, data.ranking.test_targets
    pick = np.arange(users_all.size)
    if args.users and args.users < users_all.size:
        pick = np.sort(np.random.default_rng(0).choice(users_all.size, args.users, replace=False))
    users, targets = users_all[pick], targets_all[pick]
    path = args.out / f"{NAME}.json"
    key = f"{args.store.name} ({args.split})"
    store_dir = Path.home() / ".cache" / "shelfwise" / f"bench-{NAME}" / key.replace(" ", "_")
    store_dir.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        result = evaluate_model(build(name, settings, lora), data, users, targets)
        for p, arr in result["per_user"].items():
            np.save(store_dir / f"{name}-{p}.npy", arr, allow_pickle=False)
        report = json.loads(path.read_text()) if path.exists() else {"benchmark": NAME, "sections": {}}
        sec = report["sections"].get(key, {"rows": []})
        rows = {r["model"]: r for r in sec["rows"]}
        rows[name] = {**result["row"], "command": shlex.join([".venv/bin/python", *sys.argv])}
        for row in rows.values():
            for p in ("rankable", "excluded"):
                a, b = store_dir / f"{row['model']}-{p}.npy", store_dir / f"frozen_text-{p}.npy"
                if a.exists() and b.exists() and np.load(a).shape == np.load(b).shape:
                    row[f"ratio_ci_{p}"] = paired_ratio_ci(np.load(a), np.load(b))
        frozen = rows.get("frozen_text")
        sec.update(
            {
                "rows": list(rows.values()),
                "command": shlex.join([".venv/bin/python", *sys.argv]),
                "test_users": int(users_all.size),
                "users_scored": int(users.size),
                "items": int(data.n_items),
                "frozen": {p: frozen[p]["ndcg@10"] for p in ("rankable", "excluded")} if frozen else None,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        report["sections"][key] = sec
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=float))
        path.with_suffix(".md").write_text(markdown(report) + "\n")
    print(path.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
