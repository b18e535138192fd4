"""Lexical index: tantivy vs bm25s on CrowdFlower retrieval (BENCHMARKS.md section 3), with the plain
bm25s baseline measured in the same run.

Protocol: catalogue = every distinct (title, description) of the file (9,913 products), all 261 queries
retrieve from all of it, unjudged products gain 0, gain = mean relevance - 1. Latency: one query per call,
one thread, median and p95 over all queries (after one warm-up pass).

Run::

    .venv/bin/python benchmarks/bench_lexical.py
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np

from _common import CrowdFlower, load_crowdflower, median_ms, retrieval_metrics, write_results
from shelfwise.index import LexicalIndexConfig, TokenizerConfig, build_lexical_index

logger = logging.getLogger("bench_lexical")


def plain_bm25s(cf: CrowdFlower) -> tuple[dict[str, list[int]], float, list[float]]:
    """The BENCHMARKS.md baseline: bm25s defaults, English stop words + Snowball stemmer, title + description
    as one text (this reproduces the published 0.775 / 0.823 within 0.002)."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")

    start = time.perf_counter()
    corpus = [f"{t} {d}" for t, d in zip(cf.titles, cf.descriptions, strict=True)]
    model = bm25s.BM25()
    model.index(
        bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
    )
    build = time.perf_counter() - start
    ranked, times = {}, []
    for q in cf.queries:
        t0 = time.perf_counter()
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, _ = model.retrieve(tokens, k=50, show_progress=False, n_threads=1)
        times.append(time.perf_counter() - t0)
        ranked[q] = [int(x) for x in docs[0]]
    return ranked, build, times


def shelfwise_index(
    cf: CrowdFlower, config: LexicalIndexConfig
) -> tuple[dict[str, list[int]], float, list[float]]:
    """Build one shelfwise lexical index over the catalogue and run every query once (after a warm-up)."""
    start = time.perf_counter()
    index = build_lexical_index(config)
    index.add(cf.items())
    index.search(["warm up"], k=1)  # bm25s builds lazily: count it in the build time
    build = time.perf_counter() - start
    index.search(cf.queries, k=50)
    ranked, times = {}, []
    for q in cf.queries:
        t0 = time.perf_counter()
        res = index.search([q], k=50)
        times.append(time.perf_counter() - t0)
        ranked[q] = [int(x) for x in res.item_ids[0]]
    return ranked, build, times


def scale_and_updates(cf: CrowdFlower, kind: str, copies: int) -> dict[str, float]:
    """Build over ``copies`` x the catalogue (ids made unique), then time queries and a 100-item update."""
    items = [{**it, "item_id": f"{c}-{it['item_id']}"} for c in range(copies) for it in cf.items()]
    fields = {"title": 2.0, "description": 1.0}
    index = build_lexical_index(LexicalIndexConfig(type=kind, field_weights=fields))
    start = time.perf_counter()
    index.add(items)
    index.search(["warm up"], k=1)
    build = time.perf_counter() - start
    times = []
    for q in cf.queries:
        t0 = time.perf_counter()
        index.search([q], k=10)
        times.append(time.perf_counter() - t0)
    fresh = [{**it, "item_id": f"new-{it['item_id']}"} for it in cf.items()[:100]]
    t0 = time.perf_counter()
    index.add(fresh)
    index.delete([f"0-{i}" for i in range(100)])
    res = index.search([cf.queries[0]], k=10)  # the update is visible to the next query
    update = time.perf_counter() - t0
    assert all(not x.startswith("0-") or int(x[2:]) >= 100 for x in res.item_ids[0])
    return {
        "build s": build,
        "query ms (median)": median_ms(times),
        "add 100 + delete 100 + 1 query, s": update,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="lexical", help="result name under benchmarks/results/")
    parser.add_argument(
        "--copies", type=int, default=10, help="catalogue copies for the scale run (0 = skip)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    cf = load_crowdflower()
    fields = {"title": 2.0, "description": 1.0}
    systems = {
        "plain bm25s (baseline)": lambda: plain_bm25s(cf),
        "shelfwise bm25s": lambda: shelfwise_index(
            cf, LexicalIndexConfig(type="bm25s", field_weights=fields)
        ),
        "shelfwise tantivy": lambda: shelfwise_index(
            cf, LexicalIndexConfig(type="tantivy", field_weights=fields)
        ),
        "shelfwise bm25s, equal field weights": lambda: shelfwise_index(
            cf, LexicalIndexConfig(type="bm25s", field_weights={"title": 1.0, "description": 1.0})
        ),
        "shelfwise bm25s, no stemming": lambda: shelfwise_index(
            cf, LexicalIndexConfig(type="bm25s", field_weights=fields, tokenizer=TokenizerConfig(stem=None))
        ),
    }
    table = []
    for name, run in systems.items():
        ranked, build, times = run()
        metrics = retrieval_metrics(cf, ranked)
        row = {
            "system": name,
            "NDCG@10": metrics["ndcg@10"],
            "Recall@50": metrics["recall@50"],
            "build s": build,
            "query ms (median)": median_ms(times),
            "query ms (p95)": 1000 * float(np.percentile(times, 95)),
        }
        table.append(row)
        print(row, flush=True)
    scale = []
    if args.copies:
        for kind in ("bm25s", "tantivy"):
            row = {
                "system": f"shelfwise {kind}",
                "items": args.copies * len(cf.titles),
                **scale_and_updates(cf, kind, args.copies),
            }
            scale.append(row)
            print(row, flush=True)
    notes = (
        f"CrowdFlower retrieval, {len(cf.titles)} products, {len(cf.queries)} queries, one query per call; "
        f"threads: 1 (OMP/MKL {os.environ.get('OMP_NUM_THREADS', 'unset')}). "
        "BENCHMARKS.md baseline: plain bm25s NDCG@10 0.775, Recall@50 0.823. "
        "Field weights title 2 / description 1 were set before measuring; the other rows are ablations."
    )
    if scale:
        cols = list(scale[0])
        notes += (
            "\n\nScale and updates (catalogue copied, one query per call):\n\n| "
            + " | ".join(cols)
            + " |\n|"
            + "---|" * len(cols)
        )
        for row in scale:
            notes += (
                "\n| "
                + " | ".join(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in cols)
                + " |"
            )
    path = write_results(args.out, {"protocol": "crowdflower retrieval", "scale": scale}, table, notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
