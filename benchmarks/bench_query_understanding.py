"""Query understanding: per-field precision / recall / F1 on the labelled query set, and parse latency.

Protocol: each labelled query (``tests/search/labelled_queries.jsonl``) is parsed by a
:class:`~shelfwise.search.query.QueryParser` whose vocabulary is built from the catalogue the query refers
to: ``crowdflower-search`` (9,913 products, no brand column and no taxonomy, so brands are mined from
titles), ``fashion-images`` (150 products, category paths and colours, no brand column) and ``sample`` (the
shipped demo shop: 1,200 products with brand, category path and synthetic price). Fields are scored as
micro-averaged sets (see :mod:`shelfwise.search.query.evaluation`). Latency: one query per call, one
thread, every labelled query parsed 5 times after a warm-up pass; median and p99 over all calls.

Run::

    .venv/bin/python benchmarks/bench_query_understanding.py
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pyarrow.csv as pcsv

from _common import ROOT, write_results
from shelfwise.data.datasets import load_dataset
from shelfwise.data.sample import sample_paths
from shelfwise.search.query import CatalogueVocabulary, LabelledQuery, QueryParser, evaluate, load_labelled

logger = logging.getLogger("bench_query_understanding")

LABELLED = ROOT / "tests" / "search" / "labelled_queries.jsonl"
DATA = ROOT.parent / "shared" / "data"
FIELDS = (
    "brand",
    "category",
    "category_lenient",
    "colour",
    "colour_exclude",
    "size",
    "price_min",
    "price_max",
    "price_band",
)


def build_parsers(data_dir: Path) -> tuple[dict[str, QueryParser], dict[str, float]]:
    """One parser per catalogue of the labelled set, and the vocabulary build time of each (seconds)."""
    tables = {"sample": lambda: pcsv.read_csv(sample_paths()["items"])}
    for name in ("crowdflower-search", "fashion-images"):
        if (data_dir / name).is_dir():
            tables[name] = lambda name=name: load_dataset(name, data_dir).items
        else:
            logger.warning("%s not found under %s: its queries are skipped", name, data_dir)
    parsers, build = {}, {}
    for name, load in tables.items():
        items = load()
        start = time.perf_counter()
        vocab = CatalogueVocabulary.build(items)
        build[name] = time.perf_counter() - start
        parsers[name] = QueryParser(vocab)
        logger.info(
            "%s: %d items, %d brands, %d categories, built in %.2fs",
            name,
            vocab.n_items,
            len(vocab.brands),
            len(vocab.categories),
            build[name],
        )
    return parsers, build


def latency(
    parsers: dict[str, QueryParser], labelled: list[LabelledQuery], repeat: int = 5
) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU seconds per parse call over ``repeat`` passes (after one warm-up pass).

    The CPU time leaves out time the thread spent waiting for a core (the machine is shared), so its tail
    shows what the code costs and the wall tail shows what a caller waits.
    """
    todo = [(parsers[q.catalogue], q.query) for q in labelled if q.catalogue in parsers]
    for parser, text in todo:
        parser.parse(text)
    wall, cpu = [], []
    for _ in range(repeat):
        for parser, text in todo:
            start, start_cpu = time.perf_counter(), time.thread_time()
            parser.parse(text)
            cpu.append(time.thread_time() - start_cpu)
            wall.append(time.perf_counter() - start)
    return wall, cpu


def _quantiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(1000 * statistics.median(ordered), 4),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 4),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 4),
        "max_ms": round(1000 * ordered[-1], 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DATA)
    ap.add_argument("--labelled", type=Path, default=LABELLED)
    ap.add_argument("--out", default="query_understanding")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    labelled = load_labelled(args.labelled)
    parsers, build = build_parsers(args.data_dir)
    report = evaluate(parsers, labelled)
    subsets = {
        "all": labelled,
        **{f"catalogue={c}": [q for q in labelled if q.catalogue == c] for c in sorted(parsers)},
        "lang=en": [q for q in labelled if q.lang == "en"],
        "lang=zh+mixed": [q for q in labelled if q.lang != "en"],
        "origin=crowdflower": [q for q in labelled if q.origin == "crowdflower"],
        "origin=composed": [q for q in labelled if q.origin == "composed"],
        "origin=hard": [q for q in labelled if q.origin == "hard"],
    }
    by_subset = {}
    for name, queries in subsets.items():
        rep = evaluate(parsers, queries)
        by_subset[name] = {
            "n": rep.n_queries,
            "intent_accuracy": round(rep.intent_accuracy, 4),
            **{f: round(rep.fields[f].f1, 4) for f in ("brand", "category", "colour", "price_max")},
        }
    wall, cpu = latency(parsers, labelled)
    lat = {"calls": len(wall), "wall": _quantiles(wall), "thread_cpu": _quantiles(cpu)}
    table = report.rows()
    failures = {
        f: [
            {"id": o.id, "query": o.query, "expected": o.errors[f][0], "predicted": o.errors[f][1]}
            for o in report.failures(f)
        ]
        for f in (*FIELDS, "intent")
    }
    notes = "\n".join(
        [
            f"{report.n_queries} labelled queries; intent accuracy {report.intent_accuracy:.4f}.",
            f"Parse latency, one query per call, one thread, {lat['calls']} calls (wall / thread CPU, ms): "
            + ", ".join(f"{k[:-3]} {lat['wall'][k]} / {lat['thread_cpu'][k]}" for k in lat["wall"])
            + ".",
            "Vocabulary build seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in build.items()) + ".",
            "",
            "F1 by subset (brand / category / colour / price_max, intent accuracy):",
            "",
            "| subset | n | brand | category | colour | price_max | intent acc |",
            "|---|---|---|---|---|---|---|",
            *[
                f"| {k} | {v['n']} | {v['brand']} | {v['category']} | {v['colour']} | {v['price_max']} | "
                f"{v['intent_accuracy']} |"
                for k, v in by_subset.items()
            ],
            "",
            "A field with no expected and no predicted value in a subset scores 1.0 there.",
        ]
    )
    path = write_results(
        args.out,
        {
            "labelled": str(args.labelled.relative_to(ROOT))
            if args.labelled.is_relative_to(ROOT)
            else str(args.labelled),
            "n_queries": report.n_queries,
            "intent_accuracy": report.intent_accuracy,
            "intent_confusion": report.intent_confusion,
            "latency": lat,
            "build_seconds": build,
            "subsets": by_subset,
            "failures": failures,
        },
        table,
        notes,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
