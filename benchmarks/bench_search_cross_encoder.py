"""The search cross-encoder alone: re-ranking NDCG@10 on held-out CrowdFlower queries, per training recipe.

Queries are shuffled with seed 0; the cross-encoder is fine-tuned on ``--train`` of them (8 sampled judged
pairs each, gain / 3 as the target) and re-ranks the judged products of 30 other queries (positions
200-229 of the shuffle; ``--test-count 61`` takes every query after the first 200), scored with dynamic
int8 as in serving, next to the bi-encoder's query-title cosine on the same queries. ``--train 0`` scores
the untrained cross-encoder (pretrained MiniLM, cosine head). Settings of
:class:`~shelfwise.search.config.CrossEncoderConfig` are given as ``key=value`` (JSON values).

Usage:
    python benchmarks/bench_search_cross_encoder.py --store /tmp/stores/crowdflower-search --train 150 layers=4 lora=true
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _ndcg(order: list[int], gains: list[float]) -> float:
    dcg = sum(gains[i] / np.log2(r + 2) for r, i in enumerate(order[:10]))
    ideal = sum(g / np.log2(r + 2) for r, g in enumerate(sorted(gains, reverse=True)[:10]))
    return dcg / ideal if ideal > 0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--train", type=int, default=150, help="training queries (0 = no fine-tuning)")
    ap.add_argument("--pairs-per-query", type=int, default=8)
    ap.add_argument("--test-count", type=int, default=30, help="held-out queries (from position 200 on)")
    ap.add_argument("settings", nargs="*", help="CrossEncoderConfig key=value")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    from shelfwise.search.config import CrossEncoderConfig
    from shelfwise.search.cross_encoder import CrossEncoder
    from shelfwise.storage import open_store

    with open_store(args.store, create=False, read_only=True) as st:
        titles = {r["item_id"]: r["title"] for r in st.read_items(["item_id", "title"]).to_pylist()}
        judged: dict[str, dict[str, float]] = {}
        for r in st.read_judgements().to_pylist():
            judged.setdefault(r["query"], {})[r["item_id"]] = r["relevance"] - 1.0
    queries = sorted(judged)
    rng = np.random.default_rng(0)
    rng.shuffle(queries)
    train, test = queries[: min(args.train, 200)], queries[200 : 200 + args.test_count]
    pairs = []
    for q in train:
        ids = list(judged[q])
        for i in rng.choice(len(ids), min(args.pairs_per_query, len(ids)), replace=False):
            pairs.append((q, titles[ids[i]], judged[q][ids[i]] / 3.0))
    cfg = CrossEncoderConfig(**{k: _value(v) for k, v in (a.split("=", 1) for a in args.settings)})
    ce = CrossEncoder.pretrained(cfg)
    if pairs:
        ce.fit(pairs, show_progress=False)
    ce.quantize()
    scores = []
    for q in test:
        ids = list(judged[q])
        s = ce.score(q, [titles[i] for i in ids])
        scores.append(_ndcg(list(np.argsort(-s)), [judged[q][i] for i in ids]))
    from shelfwise.config import Settings
    from shelfwise.encoders import build_encoder

    encoder = build_encoder(Settings().search.encoder)  # the bi-encoder, side by side on the same queries
    reference = []
    for q in test:
        ids = list(judged[q])
        cos = encoder.encode_documents([titles[i] for i in ids]) @ encoder.encode_queries([q])[0]
        reference.append(_ndcg(list(np.argsort(-cos)), [judged[q][i] for i in ids]))
    print(
        json.dumps(
            {
                "bi_encoder_title_ndcg_rerank@10": round(float(np.mean(reference)), 4),
                "settings": args.settings,
                "train_queries": len(train),
                "pairs": len(pairs),
                "train_seconds": round(ce.train_seconds, 1),
                "ndcg_rerank@10": round(float(np.mean(scores)), 4),
                "test_queries": len(test),
            }
        )
    )


if __name__ == "__main__":
    main()
