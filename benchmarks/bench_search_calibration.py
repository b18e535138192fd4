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
import logging
import sys
from pathlib import Path

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


def pairs(store: str, negatives: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coverage, cosine, relevant, query index) over the judged pairs plus random negatives."""
    rng = np.random.default_rng(seed)
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
    cov, cos, rel, qix = [], [], [], []
    for q_n, (query, items) in enumerate(sorted(by_query.items())):
        parsed = pipe.parse(query)
        ev = read_query(parsed)
        text = pipe.retrieval_text(query, parsed)
        extra = [i for i in rng.choice(all_ids, negatives, replace=False) if i not in items]
        ids = [*items, *extra]
        cands = candidates_for(pipe, text, ids)
        for pos, item_id in enumerate(cands.ids):
            item = pipe.catalog.items[item_id]
            cov.append(ev.coverage(item)[0])
            cos.append(float(cands.dense[pos]))
            judged_values = items.get(item_id)
            rel.append(bool(judged_values) and float(np.median(judged_values or [0.0])) >= 3.0)
            qix.append(q_n)
    return np.array(cov), np.array(cos), np.array(rel), np.array(qix)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--negatives", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    cov, cos, rel, qix = pairs(args.store, args.negatives, args.seed)
    folds = qix % 5
    held: list[float] = []
    preds = np.zeros(len(rel))
    for f in range(5):
        train, test = folds != f, folds == f
        cal = fit_calibration(cov[train], cos[train], rel[train])
        preds[test] = cal.probability(cov[test], cos[test])
        held.append(float(((preds[test] >= 0.5) == rel[test]).mean()))
    conf = preds >= 0.5
    final = fit_calibration(cov, cos, rel)
    row = {
        "pairs": len(rel),
        "relevant share": round(float(rel.mean()), 4),
        "held-out accuracy": round(float(np.mean(held)), 4),
        "held-out Brier": round(float(((preds - rel) ** 2).mean()), 4),
        "confident precision": round(float(rel[conf].mean()), 4) if conf.any() else 0.0,
        "confident recall": round(float(conf[rel].mean()), 4) if rel.any() else 0.0,
        "intercept": round(final.intercept, 3),
        "coverage coef": round(final.coverage, 3),
        "cosine coef": round(final.cosine, 3),
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
        f"{args.negatives} random unjudged products per query (not relevant). 5-fold by query: "
        "held-out figures above; the coefficients are the fit on all queries (search.pipeline.calibration).\n\n"
        "Reliability of the held-out probabilities:\n\n| p bin | pairs | mean p | relevant share |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {r['p bin']} | {r['pairs']} | {r['mean p']} | {r['relevant share']} |" for r in reliability
        )
    )
    write_results("search_calibration", {"reliability": reliability}, [row], notes)
    print(row)


if __name__ == "__main__":
    main()
