"""The shopping assistant against its labelled sets (``benchmarks/data/assistant/``), one part per run.

Parts (``--part``), each writing ``benchmarks/results/assistant_<part>.{json,md}``:

* ``evidence``: the >= 300 product questions of ``product_questions.jsonl`` (review items of
  amazon-reviews-2018 and sample-shop items; labels made by rule, see ``make_labels.py``). The abstention
  threshold is chosen on the ``dev`` half (:func:`shelfwise.assistant.evidence.choose_threshold`); figures are
  on ``test``: Recall@3 and MRR@10 of the cited evidence on answerable questions, precision and recall of "I
  don't know". Side by side in the same run: the dense-only and BM25-only rankings of the same sentences.
* ``sessions``: the scripted multi-turn sessions of ``sessions.jsonl`` through the assistant on the sample shop
  (``--store``, a built sample shop): share of sessions whose final list is non-empty and satisfies every
  expected constraint (checked on the catalogue file, not with the assistant's code), the share whose
  constraints were read exactly, the median number of turns.
* ``faq``: shop questions: top-1 accuracy on the held-out paraphrases of ``faq_heldout.csv``, the frozen MiniLM
  tower vs the same tower with LoRA adapters tuned on ``faq_past_questions.csv`` (also the search encoder
  the assistant uses without tuning).
* ``latency``: assistant turns on the Beauty store (``--store``, e.g. a copy of /tmp/h2b-beauty), scripted
  needs, refinements and product questions, one at a time after a warm-up; p50 / p99 per turn, and the search
  pipeline alone on the same requests in the same run (the turn's floor).

Usage (background; the machine is shared)::

    python benchmarks/bench_assistant.py --part evidence
    python benchmarks/bench_assistant.py --part sessions --store /tmp/hg/shop
    python benchmarks/bench_assistant.py --part faq
    python benchmarks/bench_assistant.py --part latency --store /tmp/hg/beauty
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_results

DATA = ROOT / "benchmarks" / "data" / "assistant"
REVIEWS = ROOT.parent / "shared" / "data" / "amazon-reviews-2018"
CACHE = Path.home() / ".cache" / "shelfwise"

log = logging.getLogger("bench_assistant")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _encoder() -> Any:
    from shelfwise.encoders.base import EncoderConfig
    from shelfwise.encoders.registry import build_encoder

    return build_encoder(EncoderConfig(cache_dir=CACHE, show_progress=False))


# -- evidence -------------------------------------------------------------------------------------------
def _mentions(text: str, keywords: list[str]) -> bool:
    low = text.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(k)}(?![a-z])", low) for k in keywords)


def _rank_metrics(order: np.ndarray, texts: list[str], keywords: list[str]) -> tuple[float, float]:
    hits = [_mentions(texts[int(n)], keywords) for n in order[:10]]
    recall3 = float(any(hits[:3]))
    rr = next((1.0 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    return recall3, rr


def part_evidence(args: argparse.Namespace) -> None:
    from shelfwise.assistant.evidence import (
        ABSTAIN_PRECISION,
        LEXICAL_WEIGHT,
        EvidenceIndex,
        choose_threshold,
        review_sentences,
    )
    from shelfwise.privacy.pii import scrub

    questions = _jsonl(DATA / "product_questions.jsonl")
    records: list[dict[str, Any]] = []
    with gzip.open(REVIEWS / "All_Beauty_5.json.gz", "rt", encoding="utf-8") as f:
        records += [json.loads(line) for line in f if line.strip()]
    records += _jsonl(REVIEWS / "AMAZON_FASHION_5.jsonl")
    reviews = review_sentences(records, lambda t: scrub(t).text)
    rows = {r["item_id"]: r for r in _csv(ROOT / "src" / "shelfwise" / "sample" / "items.csv")}
    index = EvidenceIndex(rows.get, reviews, _encoder(), cache_items=100_000)
    t0 = time.perf_counter()
    scored = []
    for q in questions:
        sentences, dense, lexical = index.parts(q["item_id"], q["question"])
        fused = dense + LEXICAL_WEIGHT * lexical / (lexical + 1.0)
        texts = [s.text for s in sentences]
        out = {"q": q, "best": float(dense.max()) if len(dense) else 0.0}
        for name, values in (("fused", fused), ("dense", dense), ("bm25", lexical)):
            order = np.argsort(-values, kind="stable") if len(values) else np.zeros(0, int)
            out[name] = _rank_metrics(order, texts, q["keywords"])
        out["cited"] = [texts[int(n)] for n in np.argsort(-fused, kind="stable")[:3]] if len(fused) else []
        scored.append(out)
    seconds = time.perf_counter() - t0
    dev = [s for s in scored if s["q"]["split"] == "dev"]
    test = [s for s in scored if s["q"]["split"] == "test"]
    targets = sorted({0.9, 0.85, ABSTAIN_PRECISION}, reverse=True)
    thresholds = {
        t: choose_threshold([s["best"] for s in dev], [s["q"]["answerable"] for s in dev], t) for t in targets
    }

    def summary(group: list[dict[str, Any]], name: str, threshold: float | None) -> dict[str, Any]:
        yes = [s for s in group if s["q"]["answerable"]]
        row: dict[str, Any] = {
            "questions": len(group),
            "answerable": len(yes),
            "recall@3": statistics.mean(s[name][0] for s in yes),
            "mrr@10": statistics.mean(s[name][1] for s in yes),
        }
        if threshold is None:
            return row
        abstained = [s for s in group if s["best"] < threshold]
        no = [s for s in group if not s["q"]["answerable"]]
        row.update({
            "threshold": threshold,
            "abstention_precision": (sum(not s["q"]["answerable"] for s in abstained) / len(abstained))
            if abstained else None,
            "abstention_recall": sum(s["best"] < threshold for s in no) / len(no) if no else None,
            "answered_share_of_answerable": sum(s["best"] >= threshold for s in yes) / len(yes),
        })
        return row

    table = []
    for target in targets:
        table.append({"set": "test/all", "ranking": "fused", "dev_precision_target": target,
                      **summary(test, "fused", thresholds[target])})
    for source in ("amazon-reviews-2018", "sample-shop"):
        group = [s for s in test if s["q"]["source"].startswith(source)]
        table.append({"set": f"test/{source}", "ranking": "fused", "dev_precision_target": ABSTAIN_PRECISION,
                      **summary(group, "fused", thresholds[ABSTAIN_PRECISION])})
    for name in ("dense", "bm25"):
        table.append({"set": "test/all", "ranking": name, **summary(test, name, None)})
    examples = [
        {"question": s["q"]["question"], "item_id": s["q"]["item_id"], "answerable": s["q"]["answerable"],
         "score": round(s["best"], 4), "cited": s["cited"]}
        for s in test[:12]
    ]
    notes = (
        "Abstention: the best cosine of a question to the item's sentences below a threshold chosen on the dev "
        f"half ({len(dev)} questions; the best balanced accuracy among thresholds whose dev 'I don't know' "
        f"precision reaches the target); figures on the test half ({len(test)}). Thresholds: "
        f"{json.dumps({str(k): round(v, 4) for k, v in thresholds.items()})}; the assistant's default is the "
        f"{ABSTAIN_PRECISION} target. Labels made by rule (keyword families, "
        "`benchmarks/data/assistant/make_labels.py`): a cited sentence is answer-bearing when it contains a "
        "keyword of the question's aspect; BM25 rewards the same words, so Recall@3 is optimistic. "
        "dense / bm25 rows: the same sentences ranked by one signal, same run. "
        f"Scoring {len(scored)} questions took {seconds:.0f} s (encoding every item's sentences included) on a "
        "shared 2-core machine under load."
    )
    write_results("assistant_evidence", {"thresholds": thresholds, "examples": examples}, table, notes)
    print(json.dumps(table, indent=1))


# -- sessions -------------------------------------------------------------------------------------------
def _load_assistant(store_path: str, recommender: bool = False) -> tuple[Any, Any, Any]:
    from shelfwise.assistant.build import load_assistant
    from shelfwise.assistant.session import OnlineSessions
    from shelfwise.config import load_settings
    from shelfwise.online import open_online_state
    from shelfwise.search import SearchPipeline
    from shelfwise.storage import open_store

    toml = Path(store_path) / "shelfwise.toml"
    settings = load_settings(toml if toml.exists() else None, environ={})
    store = open_store(store_path, read_only=True)
    pipeline = SearchPipeline.load(store, settings)
    similar = None
    if recommender:  # "more like #n" as the service does it: the recommender's similar items first
        from shelfwise.recommend import Recommender, RecommendRequest

        rec = Recommender.load(store, settings)

        def similar(item_id: str, k: int, exclude: list[str]) -> tuple[list[str], str | None]:
            try:
                resp = rec.recommend(RecommendRequest(slot="similar", item_id=item_id, k=k, exclude=exclude))
            except (LookupError, ValueError):
                return [], None
            return [i.item_id for i in resp.items], None

    sessions = OnlineSessions(open_online_state(), 3600)
    assistant = load_assistant(store, settings.assistant, pipeline, sessions, similar=similar)
    return store, pipeline, assistant


def _satisfies(item: dict[str, str], expect: dict[str, Any]) -> bool:
    words = set(re.findall(r"[a-z0-9]+", item["title"].lower()))
    price = float(item["price"]) if item["price"] else None
    if "price_max" in expect and (price is None or price > expect["price_max"]):
        return False
    ex = expect.get("brand_exclude")
    if ex and (item["brand"].lower() == ex.lower() or set(re.findall(r"[a-z0-9]+", ex.lower())) <= words):
        return False
    if "colour" in expect and expect["colour"] not in words:
        return False
    return not ("brand" in expect and item["brand"].lower() != expect["brand"].lower())


def _read_exactly(constraints: dict[str, Any], expect: dict[str, Any]) -> bool:
    got = {
        "price_max": constraints.get("price_max"),
        "brand_exclude": [b.lower() for b in constraints.get("brand_exclude", [])],
        "colour": [c.lower() for c in constraints.get("colour", [])],
        "brand": [b.lower() for b in constraints.get("brand", [])],
    }
    want = {
        "price_max": expect.get("price_max"),
        "brand_exclude": [expect["brand_exclude"].lower()] if "brand_exclude" in expect else [],
        "colour": [expect["colour"]] if "colour" in expect else [],
        "brand": [expect["brand"].lower()] if "brand" in expect else [],
    }
    return got == want


def part_sessions(args: argparse.Namespace) -> None:
    sessions = _jsonl(DATA / "sessions.jsonl")
    catalogue = {r["item_id"]: r for r in _csv(ROOT / "src" / "shelfwise" / "sample" / "items.csv")}
    store, _, assistant = _load_assistant(args.store, recommender=True)
    results = []
    for s in sessions:
        last_items: list[str] = []
        reply = None
        for turn in s["turns"]:
            reply = assistant.turn(f"bench-{s['id']}", turn)
            if reply.act in ("search", "more_like"):
                last_items = [i["item_id"] for i in reply.items]
        assert reply is not None
        ok = bool(last_items) and all(_satisfies(catalogue[i], s["expect"]) for i in last_items)
        on_need = [s["need"] in catalogue[i]["title"].lower() for i in last_items]
        results.append({
            "id": s["id"], "turns": len(s["turns"]), "satisfied": ok, "items": len(last_items),
            "read_exactly": _read_exactly(reply.constraints, s["expect"]),
            "need_in_title": sum(on_need) / len(on_need) if on_need else 0.0,
            "constraints": reply.constraints, "expect": s["expect"],
        })
    store.close()
    table = [{
        "sessions": len(results),
        "satisfied_share": sum(r["satisfied"] for r in results) / len(results),
        "constraints_read_exactly": sum(r["read_exactly"] for r in results) / len(results),
        "median_turns": statistics.median(r["turns"] for r in results),
        "mean_items_final_list": statistics.mean(r["items"] for r in results),
        "final_items_naming_the_need": statistics.mean(r["need_in_title"] for r in results),
    }]
    failed = [r for r in results if not r["satisfied"] or not r["read_exactly"]]
    notes = (
        "Sessions made by rule from the sample shop's catalogue (`benchmarks/data/assistant/make_sessions.py`); "
        "satisfied = the final list is non-empty and every item meets every expected constraint, checked on "
        "`src/shelfwise/sample/items.csv` by this script (not by the assistant's own `satisfies`). "
        "final_items_naming_the_need is informative only (relevance, not a constraint). "
        f"Failures: {json.dumps([{k: r[k] for k in ('id', 'satisfied', 'read_exactly', 'constraints')} for r in failed][:10])}"
    )
    write_results("assistant_sessions", {"sessions": results}, table, notes)
    print(json.dumps(table, indent=1))


# -- faq ------------------------------------------------------------------------------------------------
def part_faq(args: argparse.Namespace) -> None:
    import torch

    from shelfwise.assistant.faq import read_faq_rows
    from shelfwise.assistant.tune import TowerQuestions, top1_accuracy, train_faq_tower
    from shelfwise.models.finetune import FinetuneConfig, TextTower

    torch.set_num_threads(2)
    entries = read_faq_rows(_csv(DATA / "faq.csv"))
    past = [(r["question"], r["faq_id"]) for r in _csv(DATA / "faq_past_questions.csv")]
    held = [(r["question"], r["faq_id"]) for r in _csv(DATA / "faq_heldout.csv")]
    frozen = top1_accuracy(TowerQuestions(TextTower(FinetuneConfig(train=False))), entries, held)
    search_encoder = top1_accuracy(_encoder(), entries, held)
    tower, report = train_faq_tower(entries, past, epochs=args.epochs, lr=args.lr, max_seconds=args.max_seconds)
    tuned = top1_accuracy(TowerQuestions(tower), entries, held)
    table = [
        {"encoder": "search encoder (ONNX int8 MiniLM, what serves without tuning)", "top1_heldout": search_encoder},
        {"encoder": "frozen MiniLM tower (torch)", "top1_heldout": frozen},
        {"encoder": "LoRA-tuned MiniLM tower", "top1_heldout": tuned},
    ]
    notes = (
        f"{len(entries)} Q&A entries, {len(past)} past questions for training (a seeded fifth held out for "
        f"early stopping), {len(held)} held-out paraphrases for the figures. All three files were written by "
        "hand for this benchmark by the engineer who wrote the assistant (no shop's real questions were "
        f"available); treat the figures as a smoke test of the tuning path. Training: {report.steps} steps, "
        f"{report.seconds:.0f} s, validation top-1 per epoch {json.dumps(report.valid)}, kept epoch "
        f"{report.best_epoch}."
    )
    write_results("assistant_faq", {"report": report.as_dict()}, table, notes)
    print(json.dumps(table, indent=1))


# -- latency --------------------------------------------------------------------------------------------
BEAUTY_NEEDS = ["lipstick", "shampoo", "nail polish", "moisturizer", "eyeliner", "perfume", "face mask",
                "hair dryer", "sunscreen", "mascara", "conditioner", "body lotion", "makeup brush", "lip gloss",
                "foundation", "hair oil", "soap", "razor", "eye cream", "blush"]
REFINEMENTS = ["under $20", "not Maybelline", "in red", "something cheaper", "under $10", "any brand"]
QUESTIONS = ["is the first one waterproof?", "how does the second one smell?", "what is it made of?",
             "compare the first two", "more like the second one"]


def part_latency(args: argparse.Namespace) -> None:
    from shelfwise.search import SearchRequest

    store, pipeline, assistant = _load_assistant(args.store)
    rng = np.random.default_rng(0)
    scripts = []
    for n in range(args.sessions):
        need = BEAUTY_NEEDS[n % len(BEAUTY_NEEDS)]
        turns = [f"I need {need}", *rng.choice(REFINEMENTS, 2, replace=False), *rng.choice(QUESTIONS, 2, replace=False)]
        scripts.append(turns)
    for turns in scripts[:3]:  # warm-up
        for t in turns:
            assistant.turn("warm", t)
    per_act: dict[str, list[tuple[float, float]]] = {}
    turns_ms: list[tuple[float, float]] = []
    search_ms: list[tuple[float, float]] = []
    load_start = os.getloadavg()[0]

    def timed(fn: Any) -> tuple[Any, tuple[float, float]]:
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return out, ((time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3)

    for n, turns in enumerate(scripts):
        for t in turns:
            reply, ms = timed(lambda t=t, n=n: assistant.turn(f"lat-{n}", t))
            turns_ms.append(ms)
            per_act.setdefault(reply.act, []).append(ms)
        need = BEAUTY_NEEDS[n % len(BEAUTY_NEEDS)]
        req = SearchRequest(query=need, k=assistant.settings.search_depth, filters={"price_max": 20.0},
                            use_query_filters=False)
        search_ms.append(timed(lambda req=req: pipeline.search(req))[1])
    store.close()

    def stats(values: list[tuple[float, float]]) -> dict[str, float]:
        wall = [w for w, _ in values]
        cpu = [c for _, c in values]
        return {"n": len(values), "wall_p50_ms": float(np.percentile(wall, 50)),
                "wall_p99_ms": float(np.percentile(wall, 99)), "cpu_p50_ms": float(np.percentile(cpu, 50)),
                "cpu_p99_ms": float(np.percentile(cpu, 99)), "cpu_max_ms": float(max(cpu))}

    table = [{"what": "assistant turn (all)", **stats(turns_ms)}]
    table += [{"what": f"assistant turn: {act}", **stats(v)} for act, v in sorted(per_act.items())]
    table.append({"what": "search pipeline alone (same machine, same run)", **stats(search_ms)})
    notes = (
        f"{len(scripts)} scripted sessions of 5 turns on the Beauty store (12k items), no generative model, one "
        "turn at a time after a warm-up of 3 sessions. wall = elapsed time; cpu = CPU time this process used "
        "during the turn, all its threads (ONNX Runtime encodes on its own threads): on this shared 2-core "
        "machine, loaded by seven other engineers' work (1-minute load average "
        f"{load_start:.0f} at the start, {os.getloadavg()[0]:.0f} at the end), the wall time mostly measures "
        "waiting for a core, so the goal (p99 <= 150 ms) is judged on cpu as the closest measurable stand-in "
        "for an idle machine; wall is reported as measured. A product question encodes the item's evidence "
        "sentences the first time the item is asked about (cached after)."
    )
    write_results("assistant_latency", {}, table, notes)
    print(json.dumps(table, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["evidence", "sessions", "faq", "latency"], required=True)
    parser.add_argument("--store", help="store folder (sessions: a built sample shop; latency: Beauty)")
    parser.add_argument("--sessions", type=int, default=30, help="latency: scripted sessions")
    parser.add_argument("--epochs", type=int, default=8, help="faq: LoRA epochs")
    parser.add_argument("--lr", type=float, default=5e-4, help="faq: LoRA learning rate")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="faq: training wall-time cap")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    {"evidence": part_evidence, "sessions": part_sessions, "faq": part_faq, "latency": part_latency}[args.part](args)


if __name__ == "__main__":
    main()
