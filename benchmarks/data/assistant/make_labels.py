"""Build the assistant's labelled product questions (``product_questions.jsonl``) by rule from the data.

How the labels are made (and why they do not share code with the assistant):

* Items: every item of ``../shared/data/amazon-reviews-2018`` (All_Beauty_5: 85 items, AMAZON_FASHION_5: 31
  items; evidence = their review text), and a seeded sample of 150 items of the sample shop
  (``src/shelfwise/sample/items.csv``; evidence = the title, the only text those items have).
* Answerable questions: for each aspect below (a keyword family and a few fixed question phrasings), an item
  gets the question when at least one of its evidence sentences (this script's own sentence split) contains
  one of the aspect's keywords; those sentences are the answer-bearing ones. A cited sentence counts as
  answer-bearing when it contains one of the keywords (so the check does not depend on how the assistant
  splits sentences).
* Not-answerable questions: aspects none of whose keywords occur anywhere in the item's evidence ("Is it
  waterproof?" for a shampoo whose reviews never mention water).
* Per item at most 3 answerable and 2 not-answerable questions (review items) or 1 + 1 (sample shop items),
  picked with a fixed seed; the phrasing is picked by a hash of item and aspect.
* ``split``: ``dev`` / ``test`` by a hash of the item id; the abstention threshold is chosen on ``dev`` and every
  figure is reported on ``test``.

Limits, said plainly: keyword families are a proxy for "answers the question". A sentence that mentions "smell"
may not say how it smells, and a keyword-free sentence may still answer; the lexical half of the assistant's
scoring (BM25) rewards the same words, so Recall@3 here is an optimistic estimate of real answer quality. No
human read these labels.

Run: ``python benchmarks/data/assistant/make_labels.py`` (writes next to this file).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DATA = ROOT.parent / "shared" / "data" / "amazon-reviews-2018"
SAMPLE = ROOT / "src" / "shelfwise" / "sample" / "items.csv"

ANSWERABLE = {
    "scent": (["smell", "smells", "scent", "scented", "fragrance", "odor", "perfume"],
              ["How does it smell?", "Is the fragrance strong?", "What is the scent like?"]),
    "price": (["price", "priced", "expensive", "cheap", "value", "worth", "money"],
              ["Is it worth the money?", "Is it good value for the price?"]),
    "fit": (["size", "fit", "fits", "small", "large", "tight", "loose"],
            ["How does the size run?", "Does it fit true to size?"]),
    "skin": (["skin", "dry", "oily", "sensitive", "acne"],
             ["How does it work on skin?", "Is it good for dry skin?"]),
    "hair": (["hair", "frizz", "curls", "curly", "scalp"],
             ["What does it do for hair?", "How does it work on my hair?"]),
    "packaging": (["bottle", "package", "packaging", "leak", "leaked", "pump", "container", "jar"],
                  ["How is the packaging?", "Does the bottle leak?"]),
    "lasting": (["last", "lasts", "lasting", "durable", "wear"],
                ["How long does it last?", "Is it durable?"]),
    "comfort": (["comfortable", "comfort", "comfy", "soft", "itchy"],
                ["Is it comfortable?", "Does it feel soft?"]),
    "material": (["material", "fabric", "cotton", "quality", "stitching"],
                 ["How is the quality of the material?", "Is the fabric good quality?"]),
    "colour": (["color", "colour", "colors", "shade", "faded"],
               ["Is the colour like the picture?", "What about the color?"]),
    "wash": (["wash", "washed", "washing", "shrink", "shrank", "dryer"],
             ["Does it shrink in the wash?", "How does it hold up after washing?"]),
}
SHOP_ANSWERABLE = {
    "waterproof": (["waterproof"], ["Is it waterproof?"]),
    "pack": (["pack", "pk", "pcs", "pieces", "count"], ["How many come in a pack?", "How many pieces do I get?"]),
    "colour": (["black", "white", "red", "blue", "green", "yellow", "silver", "clear", "brown", "orange"],
               ["What colour is it?", "Which color is it?"]),
    "material": (["steel", "stainless", "aluminum", "plastic", "nylon", "rubber", "glass", "silicone", "brass",
                  "copper", "nitrile", "latex", "polypropylene", "polyethylene"],
                 ["What is it made of?", "What material is it?"]),
    "length": (["inch", "feet", "foot", "yd", "yards", "mm", "cm"], ["How long is it?", "What size is it?"]),
}
NOT_ANSWERABLE = {
    "waterproof": (["waterproof", "water", "rain", "swim", "swimming"], "Is it waterproof?"),
    "laptop": (["laptop", "macbook", "notebook", "computer"], "Does it fit a 15 inch laptop?"),
    "battery": (["battery", "batteries", "charge", "charging", "rechargeable"], "Does it need batteries?"),
    "dishwasher": (["dishwasher", "dish"], "Is it dishwasher safe?"),
    "pets": (["dog", "dogs", "cat", "cats", "pet", "pets"], "Is it safe for pets?"),
    "assembly": (["assembly", "assemble", "assembled"], "Does it need assembly?"),
    "voltage": (["volt", "volts", "voltage", "220v", "110v"], "Does it work on 220 volts?"),
    "microwave": (["microwave"], "Can it go in the microwave?"),
    "gluten": (["gluten"], "Is it gluten free?"),
    "warranty_years": (["warranty", "guarantee"], "Does it have a two year warranty?"),
}

_SPLIT = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text or "") if len(s.strip()) >= 3]


def mentions(sentence: str, keywords: list[str]) -> bool:
    low = sentence.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(k)}(?![a-z])", low) for k in keywords)


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16)


def review_items() -> dict[str, tuple[str, list[str]]]:
    """``item_id -> (source, evidence sentences)`` of the review datasets."""
    out: dict[str, tuple[str, list[str]]] = {}
    rows: list[tuple[str, dict]] = []
    with gzip.open(DATA / "All_Beauty_5.json.gz", "rt", encoding="utf-8") as f:
        rows += [("amazon-reviews-2018/All_Beauty_5", json.loads(line)) for line in f if line.strip()]
    with (DATA / "AMAZON_FASHION_5.jsonl").open(encoding="utf-8") as f:
        rows += [("amazon-reviews-2018/AMAZON_FASHION_5", json.loads(line)) for line in f if line.strip()]
    for source, r in rows:
        text = " ".join(str(r.get(k) or "") for k in ("summary", "reviewText"))
        out.setdefault(r["asin"], (source, []))[1].extend(sentences(text))
    return out


def questions_for(item: str, source: str, evidence: list[str], answerable: dict, n_yes: int, n_no: int,
                  rng: random.Random) -> list[dict]:
    yes = []
    for aspect, (keywords, phrasings) in answerable.items():
        gold = [s for s in evidence if mentions(s, keywords)]
        if gold:
            q = phrasings[_hash(item, aspect) % len(phrasings)]
            yes.append({"item_id": item, "source": source, "question": q, "aspect": aspect, "answerable": True,
                        "keywords": keywords, "gold": gold[:20], "gold_count": len(gold)})
    no = []
    for aspect, (keywords, q) in NOT_ANSWERABLE.items():
        if not any(mentions(s, keywords) for s in evidence):
            no.append({"item_id": item, "source": source, "question": q, "aspect": aspect, "answerable": False,
                       "keywords": keywords, "gold": [], "gold_count": 0})
    rng.shuffle(yes)
    rng.shuffle(no)
    return yes[:n_yes] + no[:n_no]


def main() -> None:
    rng = random.Random(21)
    out: list[dict] = []
    for item, (source, evidence) in sorted(review_items().items()):
        out += questions_for(item, source, evidence, ANSWERABLE, 3, 2, rng)
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        shop = list(csv.DictReader(f))
    for row in rng.sample(shop, 150):
        title = row["title"]
        evidence = [title] + [p.strip() for p in title.split(",")[1:] if p.strip()]
        out += questions_for(row["item_id"], "sample-shop", evidence, SHOP_ANSWERABLE, 1, 1, rng)
    for q in out:
        q["split"] = "dev" if _hash(q["item_id"]) % 2 == 0 else "test"
    with (HERE / "product_questions.jsonl").open("w", encoding="utf-8") as f:
        for q in out:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    yes = sum(q["answerable"] for q in out)
    print(f"{len(out)} questions ({yes} answerable, {len(out) - yes} not), "
          f"{sum(q['split'] == 'test' for q in out)} in test")


if __name__ == "__main__":
    main()
