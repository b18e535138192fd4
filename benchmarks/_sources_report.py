"""Report helpers of ``bench_sources.py``: order diagnostics, the tuning summary, the Markdown page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.history import EventLog

OUT = Path(__file__).resolve().parent / "results"
COLD_ITEMS = 3

NOTES = """Notes.
- Same run, same data object: baselines and sources differ only in the model. `als_source` wraps the same
  implicit ALS with the same settings and seed as `als`, so its row must equal `als` (a check of the adapter);
  `popular` weighs events by type, and Beauty has only purchases, so it must equal `popularity`.
- `als_foldin` scores every user from factors solved from their history against the fixed item factors (the path
  a user unknown to the model takes); `content` on Beauty has no queries and no sessions (order-key timestamps),
  so there it is the history text profile with its own recency; its cold-start use is the last table.
- Candidate recall counts a source's own proposals only: sparse sources (item2item, item2item_text) propose
  neighbours of the history and may return fewer than N items (mean list length).
- The machine is a shared 2-core box; timings are wall-clock under the load of the moment (load_1m in the JSON).
  Latency is one `candidates(context, k=100)` call computed with one BLAS thread (as a serving worker would);
  the harness's batched scoring keeps the BLAS threads."""


def order_diagnostics(data: RecommendData) -> dict[str, Any]:
    """How much of the next item is predictable from the last one, and in which order pairs appear.

    Counts adjacent pairs (a, b) in the train + valid sequences; for the test users, whether (last item,
    target) was seen adjacent elsewhere, and (when items carry an ``asin``) how often the later item of a
    pair has the larger ASIN (50% if the order of same-day reviews were random).
    """
    events = EventLog.from_data(data)
    same_user = events.users[1:] == events.users[:-1]
    a, b = events.items[:-1][same_user].astype(np.int64), events.items[1:][same_user].astype(np.int64)
    n = data.n_items
    forward = np.unique(a * n + b, return_counts=True)
    counts = dict(zip(forward[0].tolist(), forward[1].tolist(), strict=True))
    users, targets = data.ranking.test_users, data.ranking.test_targets.astype(np.int64)
    last = events.items[events.bounds[users + 1] - 1].astype(np.int64)
    seen_fwd = np.array([counts.get(int(x * n + y), 0) > 0 for x, y in zip(last, targets, strict=True)])
    seen_bwd = np.array([counts.get(int(y * n + x), 0) > 0 for x, y in zip(last, targets, strict=True)])
    out: dict[str, Any] = {
        "test_last_to_target_seen_adjacent_forward": round(float(seen_fwd.mean()), 4),
        "test_last_to_target_seen_adjacent_backward_only": round(float((seen_bwd & ~seen_fwd).mean()), 4),
    }
    frequent = [(k // n, k % n) for k, c in counts.items() if c + counts.get((k % n) * n + k // n, 0) >= 3]
    dominant = [(x, y) for x, y in frequent if counts[x * n + y] > counts.get(y * n + x, 0)]
    out["frequent_adjacent_pairs"] = len(dominant)
    if "attributes" in data.items.column_names:
        asin = [
            json.loads(s).get("asin", "") if s else "" for s in data.items.column("attributes").to_pylist()
        ]
        if any(asin):
            out["dominant_direction_to_larger_asin"] = round(
                float(np.mean([asin[y] > asin[x] for x, y in dominant])), 4
            )
            out["test_target_asin_larger_than_last_item"] = round(
                float(np.mean([asin[y] > asin[x] for x, y in zip(last, targets, strict=True)])), 4
            )
    return out


def tuning_summary() -> dict[str, Any]:
    """Best validation result per source from the ``--tune-only`` runs on disk (later files win)."""
    out: dict[str, Any] = {}
    for path in sorted(OUT.glob("sources_tuning*.json"), key=lambda p: p.stat().st_mtime):
        for name, t in json.loads(path.read_text()).get("tuning", {}).items():
            out[name] = {
                "best": t["best"],
                "best_config": t["best_config"],
                "trials": len(t["trials"]),
                "file": path.name,
            }
    return out


def markdown(payload: dict[str, Any]) -> str:
    lines = ["# Candidate sources on Amazon Beauty (issue #5)", "", f"`{payload['command']}`", ""]
    for label, section in payload["protocol"].items():
        lines += [
            f"## Published protocol, history {label} (test; fit on train + valid; NDCG / HR)",
            "",
            "| model | NDCG@10 | HR@10 | NDCG@20 | HR@20 | coverage@10 | fit s | score s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for model, m in section["models"].items():
            lines.append(
                f"| {model} | {m['ndcg@10']:.4f} | {m['hr@10']:.4f} | {m['ndcg@20']:.4f} | {m['hr@20']:.4f} "
                f"| {m.get('coverage@10', float('nan')):.3f} | {m['train_seconds']:.1f} | {m['inference_seconds']:.1f} |"
            )
        lines.append("")
    cand = payload["candidates"]
    lines += [
        "## Candidate recall of the test target (fit on train + valid)",
        "",
        "| source | R@50 | R@100 | R@200 | R@100 hist. excl. | R@200 hist. excl. | mean list length | latency ms (median / p95) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in cand["per_source"].items():
        a, b, lat = row["rankable"], row["excluded"], cand["latency_ms"][name]
        lines.append(
            f"| {name} | {a['recall@50']:.4f} | {a['recall@100']:.4f} | {a['recall@200']:.4f} | {b['recall@100']:.4f} "
            f"| {b['recall@200']:.4f} | {a['mean_list_length']} | {lat['median']} / {lat['p95']} |"
        )
    lines += [
        "",
        "## Unions (history rankable / excluded)",
        "",
        "| sources | union of top-100s: recall | mean size | round-robin @200 | best member @200 |",
        "|---|---|---|---|---|",
    ]
    for label, parts in cand["unions"].items():
        a, b = parts["rankable"], parts["excluded"]
        lines.append(
            f"| {label} | {a['union_top100_recall']:.4f} / {b['union_top100_recall']:.4f} | {a['union_top100_mean_size']} "
            f"| {a['round_robin_recall@200']:.4f} / {b['round_robin_recall@200']:.4f} "
            f"| {a['best_member_recall@200']:.4f} / {b['best_member_recall@200']:.4f} |"
        )
    lines += [
        "",
        f"## Cold start: each test user as a stranger with only their last {COLD_ITEMS} items as a session",
        "",
        "| source | R@10 | R@50 | R@100 | R@200 |",
        "|---|---|---|---|---|",
    ]
    for name, row in cand["cold_start"].items():
        lines.append(
            f"| {name} | {row['recall@10']:.4f} | {row['recall@50']:.4f} | {row['recall@100']:.4f} | {row['recall@200']:.4f} |"
        )
    if payload.get("diagnostics"):
        lines += ["", "## Order diagnostics (why a directed co-occurrence is strong here)", ""]
        lines += [f"- {k}: {v}" for k, v in payload["diagnostics"].items()]
    if payload.get("tuning"):
        lines += ["", "## Validation tuning (coordinate search, NDCG@10 on valid)", ""]
        for name, t in payload["tuning"].items():
            cfg = {k: v for k, v in t["best_config"].items() if k not in ("text", "seed")}
            lines.append(
                f"- **{name}** ({t.get('file', 'this run')}): valid {t['best']} with `{json.dumps(cfg)}`"
            )
    lines += ["", NOTES]
    if payload.get("notes"):
        lines += ["", payload["notes"]]
    return "\n".join(lines) + "\n"
