"""PII scrubbing: precision / recall per type and overall on the labelled sample, and throughput.

The sample (``benchmarks/data/pii_labelled.jsonl``, built by ``scripts/make_pii_sample.py``) holds real review
texts with injected PII of known spans and injected hard negatives (order numbers, prices, ASINs, dates, model
numbers, SKUs, UPCs, tracking numbers, invalid-Luhn digit runs, invalid SSNs). A detected span is a true positive
when it overlaps a labelled span of the same type; each labelled span is found at most once. Everything else
detected is a false positive, including anything found in the review text itself (real reviews rarely hold PII)
and on the negatives (counted separately per kind). ``exact`` is the share of true positives whose boundaries
equal the label's.

Throughput is chars/s of :func:`~shelfwise.privacy.pii.scrub` over the sample and over the raw review texts (the
common ingest case: no digits, the fast path), median of ``--repeat`` runs, against the same run's baseline:
the same scrubber without the phone matcher (the costly detector), so the ratio says what phones cost.

Usage:
    python benchmarks/bench_pii.py [--repeat 3] [--results pii]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, write_results
from shelfwise.privacy.pii import PII_TYPES, PiiScrubber

SAMPLE = ROOT / "benchmarks" / "data" / "pii_labelled.jsonl"


def evaluate(records: list[dict], scrubber: PiiScrubber) -> dict:
    """Precision / recall per type, false positives on negatives, and the missed / spurious examples."""
    tp, fp, fn, exact = Counter(), Counter(), Counter(), Counter()
    decoy_hits: Counter[str] = Counter()
    decoy_total: Counter[str] = Counter()
    misses: list[dict] = []
    spurious: list[dict] = []
    for rec in records:
        text = rec["text"]
        found = scrubber.find(text)
        used = [False] * len(rec["pii"])
        for s in found:
            match = next(
                (
                    n
                    for n, g in enumerate(rec["pii"])
                    if not used[n] and g["type"] == s.type and s.start < g["end"] and g["start"] < s.end
                ),
                None,
            )
            if match is None:
                fp[s.type] += 1
                spurious.append({"id": rec["id"], "type": s.type, "span": text[s.start : s.end]})
                continue
            used[match] = True
            tp[s.type] += 1
            g = rec["pii"][match]
            exact[s.type] += int((s.start, s.end) == (g["start"], g["end"]))
        for g, hit in zip(rec["pii"], used, strict=True):
            if not hit:
                fn[g["type"]] += 1
                misses.append(
                    {
                        "id": rec["id"],
                        "type": g["type"],
                        "format": g["format"],
                        "span": text[g["start"] : g["end"]],
                    }
                )
        for d in rec["decoys"]:
            decoy_total[d["kind"]] += 1
            if any(s.start < d["end"] and d["start"] < s.end for s in found):
                decoy_hits[d["kind"]] += 1
    per_type = {}
    for t in PII_TYPES:
        n_pred, n_gold = tp[t] + fp[t], tp[t] + fn[t]
        per_type[t] = {
            "labelled": n_gold,
            "detected": n_pred,
            "precision": tp[t] / n_pred if n_pred else float("nan"),
            "recall": tp[t] / n_gold if n_gold else float("nan"),
            "exact_boundaries": exact[t] / tp[t] if tp[t] else float("nan"),
        }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    overall = {
        "labelled": all_tp + all_fn,
        "detected": all_tp + all_fp,
        "precision": all_tp / (all_tp + all_fp),
        "recall": all_tp / (all_tp + all_fn),
        "exact_boundaries": sum(exact.values()) / all_tp,
    }
    decoys = {k: {"n": decoy_total[k], "flagged": decoy_hits[k]} for k in sorted(decoy_total)}
    return {
        "per_type": per_type,
        "overall": overall,
        "decoys": decoys,
        "misses": misses,
        "spurious": spurious,
    }


def throughput(texts: list[str], scrubber: PiiScrubber, repeat: int) -> float:
    """Median chars/s of scrubbing ``texts``."""
    chars = sum(len(t) for t in texts)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            scrubber.scrub(t)
        times.append(time.perf_counter() - t0)
    return chars / statistics.median(times)


def main() -> None:
    """Run the benchmark and write ``benchmarks/results/<results>.{json,md}``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results", default="pii")
    args = ap.parse_args()
    records = [json.loads(line) for line in args.sample.read_text().splitlines() if line.strip()]
    full = PiiScrubber()
    result = evaluate(records, full)
    no_phone = PiiScrubber(types=[t for t in PII_TYPES if t != "PHONE"])
    texts = [r["text"] for r in records]
    raw = [r["text"] for r in records if not r["pii"] and not r["decoys"]]
    speed = {
        "sample_chars_per_s": throughput(texts, full, args.repeat),
        "sample_chars_per_s_baseline_no_phone": throughput(texts, no_phone, args.repeat),
        "plain_reviews_chars_per_s": throughput(raw, full, args.repeat) if raw else float("nan"),
        "texts": len(texts),
        "mean_chars": sum(map(len, texts)) / len(texts),
    }
    speed["ratio_full_vs_no_phone"] = (
        speed["sample_chars_per_s"] / speed["sample_chars_per_s_baseline_no_phone"]
    )
    table = [{"type": t, **v} for t, v in result["per_type"].items()] + [
        {"type": "overall", **result["overall"]}
    ]
    decoy_line = ", ".join(f"{k} {v['flagged']}/{v['n']}" for k, v in result["decoys"].items())
    notes = (
        f"{len(records)} texts. Hard negatives flagged as PII (kind flagged/n): {decoy_line}.\n\n"
        f"Throughput (median of {args.repeat}): {speed['sample_chars_per_s']:,.0f} chars/s on the sample; "
        f"baseline without the phone matcher {speed['sample_chars_per_s_baseline_no_phone']:,.0f} chars/s "
        f"(ratio {speed['ratio_full_vs_no_phone']:.2f}); review texts with nothing injected: "
        f"{speed['plain_reviews_chars_per_s']:,.0f} chars/s."
    )
    payload = {**result, "throughput": speed}
    path = write_results(args.results, payload, table, notes)
    print(path.read_text())
    for m in result["misses"][:15]:
        print("MISS", m)
    for s in result["spurious"][:15]:
        print("SPURIOUS", s)


if __name__ == "__main__":
    main()
