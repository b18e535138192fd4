"""Fit the search relevance floor's logistic calibration on human judgements (CrowdFlower).

For every judged (query, product) pair of a built CrowdFlower store: the share of the query's concepts
the product covers (:mod:`shelfwise.search.evidence`) and the query/product cosine; label = a person
judged it relevant (median relevance 3 or 4 of 4, gain >= 2). Plus, per query, ``--negatives`` random
catalogue products (unjudged, labelled not relevant: what an unrelated padding item looks like). The
logistic fit (:func:`shelfwise.search.relevance.fit_calibration`) is checked by 5-fold cross-validation by
query (held-out accuracy, Brier score, precision / recall of "confident" = P >= 0.5) and then fitted on
all queries; the coefficients printed go to ``search.pipeline.calibration``.

Run (store S = ``shelfwise ingest --dataset crowdflower-search`` + ``shelfwise build``)::

    python benchmarks/bench_search_calibration.py --store S
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import write_results
from shelfwise.config import load_settings
from shelfwise.search import SearchPipeline
from shelfwise.search.evidence import read_query
from shelfwise.search.relevance import fit_calibration
from shelfwise.search.training import candidates_for
from shelfwise.storage import open_store

log = logging.getLogger("bench_search_calibration")


def _features(pipe: SearchPipeline, query: str, ids: list[str]) -> tuple[list[str], np.ndarray, ...]:
    """(ids kept, coverage, cosine, coverage x relative cosine) of ``ids`` for ``query``, as served."""
    parsed = pipe.parse(query)
    ev = read_query(parsed)
    text = pipe.retrieval_text(query, parsed)
    if ev.expansions:
        text = " ".join(dict.fromkeys([*text.split(), *ev.expansions]))
    cands = candidates_for(pipe, text, ids)
    top = pipe.retriever.candidates(text)  # the query's best cosine at serving time
    best = float(top.dense.max()) if len(top) else 0.0
    cov = np.array([ev.coverage(pipe.catalog.items[i])[0] for i in cands.ids])
    cos = cands.dense.astype(float)
    share = np.clip(cos / best, 0.0, 1.0) if best > 0 else np.zeros(len(cos))
    return cands.ids, cov, cos, cov * share


def crowdflower_pairs(store: str, negatives: int, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """Per judged CrowdFlower query: (ids, coverage, cosine, relative, relevant) over its judged products
    (relevant = median relevance >= 3 of 4) plus ``negatives`` random unjudged products (not relevant)."""
    with open_store(store, create=False) as st:
        toml = Path(store) / "shelfwise.toml"
        pipe = SearchPipeline.load(st, load_settings(toml if toml.exists() else None))
        judged = st.read_judgements().to_pylist()
    by_query: dict[str, dict[str, list[float]]] = {}
    for row in judged:
        by_query.setdefault(row["query"], {}).setdefault(str(row["item_id"]), []).append(
            float(row["relevance"])
        )
    all_ids = list(pipe.catalog.items)
    out = []
    for query, items in sorted(by_query.items()):
        extra = [i for i in rng.choice(all_ids, negatives, replace=False) if i not in items]
        ids, cov, cos, relc = _features(pipe, query, [*items, *extra])
        rel = np.array([bool(items.get(i)) and float(np.median(items.get(i) or [0.0])) >= 3.0 for i in ids])
        out.append((ids, cov, cos, relc, rel))
    return out


def demo_pairs(negatives: int, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """Per *even-numbered* labelled demo-shop query (benchmarks/data/search_queries.jsonl; the odd ones
    are held out for the quality figures): its top 30 candidates plus random products, relevant = the item
    satisfies the query's label (title words, brand, price limit)."""
    import tempfile

    from bench_search_quality import QUERIES, _rows, satisfies
    from shelfwise.build import build_item_artifacts
    from shelfwise.demo import run_demo

    queries = [json.loads(x) for x in QUERIES.read_text().splitlines() if x.strip()][::2]
    rows = {r["item_id"]: r for r in _rows()}
    cache = Path.home() / ".cache" / "shelfwise"
    settings = load_settings(environ={}, overrides=[f"search.encoder.cache_dir={cache}"])
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp) / "shop")
        with open_store(Path(tmp) / "shop", create=False) as st:
            build_item_artifacts(st, settings)
            pipe = SearchPipeline.load(st, settings)
        all_ids = list(pipe.catalog.items)
        for q in queries:
            parsed = pipe.parse(q["query"])
            top = pipe.retriever.candidates(pipe.retrieval_text(q["query"], parsed))
            ids = [top.ids[i] for i in top.order()[:30]]
            ids += [i for i in rng.choice(all_ids, negatives, replace=False) if i not in ids]
            ids, cov, cos, relc = _features(pipe, q["query"], ids)
            out.append((ids, cov, cos, relc, np.array([satisfies(rows[i], q) for i in ids])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--negatives", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--demo", action="store_true", help="also fit on the even-numbered labelled demo-shop queries"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    rng = np.random.default_rng(args.seed)
    groups = crowdflower_pairs(args.store, args.negatives, rng)
    n_cf = len(groups)
    if args.demo:
        groups += demo_pairs(args.negatives, rng)
    cov, cos, tit, rel = (np.concatenate([g[k] for g in groups]) for k in (1, 2, 3, 4))
    qix = np.concatenate([np.full(len(g[0]), n) for n, g in enumerate(groups)])
    source = np.where(qix < n_cf, "crowdflower", "demo")
    folds = qix % 5
    held: list[float] = []
    preds = np.zeros(len(rel))
    for f in range(5):
        train, test = folds != f, folds == f
        cal = fit_calibration(cov[train], cos[train], rel[train], tit[train])
        preds[test] = cal.probability(cov[test], cos[test], tit[test])
        held.append(float(((preds[test] >= 0.5) == rel[test]).mean()))
    final = fit_calibration(cov, cos, rel, tit)
    table = []
    for name, part in (("all", np.ones(len(rel), bool)), *((n, source == n) for n in sorted(set(source)))):
        table.append({"pairs from": str(name), **_held_out(preds[part], rel[part])})
    row = {
        "pairs": len(rel),
        "relevant share": round(float(rel.mean()), 4),
        "held-out accuracy (mean of folds)": round(float(np.mean(held)), 4),
        "intercept": round(final.intercept, 3),
        "coverage coef": round(final.coverage, 3),
        "cosine coef": round(final.cosine, 3),
        "relative cosine coef": round(final.relative, 3),
    }
    # how the held-out probabilities match the observed rate, by decile of probability
    bins = np.clip((preds * 10).astype(int), 0, 9)
    reliability = [
        {
            "p bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
            "pairs": int((bins == b).sum()),
            "mean p": round(float(preds[bins == b].mean()), 3),
            "relevant share": round(float(rel[bins == b].mean()), 3),
        }
        for b in range(10)
        if (bins == b).any()
    ]
    notes = (
        "CrowdFlower judged pairs (relevant = median relevance >= 3 of 4) plus "
        f"{args.negatives} random unjudged products per query (not relevant)"
        + (
            "; with --demo also the even-numbered labelled demo-shop queries (top 30 candidates + random "
            "products, relevant = satisfies the query's label; the odd ones stay held out for "
            "bench_search_quality.py)"
            if args.demo
            else ""
        )
        + ". 5-fold by query: held-out figures per source below; the coefficients are the fit on all "
        "queries (search.pipeline.calibration).\n\n"
        + "| pairs from | pairs | relevant share | accuracy | Brier | confident precision | confident recall |\n"
        + "|---|---|---|---|---|---|---|\n"
        + "".join("| " + " | ".join(str(v) for v in r.values()) + " |\n" for r in table)
        + "\n"
        "Reliability of the held-out probabilities:\n\n| p bin | pairs | mean p | relevant share |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {r['p bin']} | {r['pairs']} | {r['mean p']} | {r['relevant share']} |" for r in reliability
        )
    )
    write_results("search_calibration", {"reliability": reliability, "held_out": table}, [row], notes)
    print(row)
    for r in table:
        print(r)


def _held_out(preds: np.ndarray, rel: np.ndarray) -> dict[str, Any]:
    conf = preds >= 0.5
    return {
        "pairs": len(rel),
        "relevant share": round(float(rel.mean()), 4),
        "accuracy": round(float((conf == rel).mean()), 4),
        "Brier": round(float(((preds - rel) ** 2).mean()), 4),
        "confident precision": round(float(rel[conf].mean()), 4) if conf.any() else 0.0,
        "confident recall": round(float(conf[rel].mean()), 4) if rel.any() else 0.0,
    }


if __name__ == "__main__":
    main()
