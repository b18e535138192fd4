"""Build the scripted multi-turn sessions (``sessions.jsonl``) by rule from the sample shop's catalogue.

Each session is a list of shopper messages and the constraints its final list must satisfy. They are made
from ``src/shelfwise/sample/items.csv`` only (titles, brands, prices), not by the assistant:

* a *need* is one of a fixed list of product words that at least 6 titles contain;
* a price cap is the 60th percentile of the prices of the items whose title names the need, rounded up to
  a whole dollar (so some, not all, items qualify); the excluded brand is the most frequent brand among the
  items under the cap; a colour is one that a qualifying item's title names;
* five scripts mix needs, refinements ("under $P", "not B", "in black", "by B" then "any brand"), "more like
  the first one", "compare the first two" and a product question in between.

A session is kept only when at least one catalogue item satisfies its final constraints and names the need,
so every session is satisfiable. ``expect`` holds ``price_max``, ``brand_exclude``, ``colour`` (title word)
and ``brand`` as the checker in ``benchmarks/bench_assistant.py`` reads them.

Run: ``python benchmarks/data/assistant/make_sessions.py``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "src" / "shelfwise" / "sample" / "items.csv"
NEEDS = ["tape", "glue", "gloves", "filament", "screws", "nails", "labels", "glasses", "batteries", "brush",
         "wire", "tubing", "bolts", "magnets", "adhesive", "vacuum", "filter", "bags", "sealant", "clamp",
         "tubes", "paper", "respirator", "markers", "cable"]
COLOURS = ["black", "white", "red", "blue", "green", "yellow", "silver", "clear", "orange"]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def ok(item: dict, expect: dict) -> bool:
    price = float(item["price"]) if item["price"] else None
    if "price_max" in expect and (price is None or price > expect["price_max"]):
        return False
    ex = expect.get("brand_exclude")
    if ex and (item["brand"].lower() == ex.lower() or words(ex) <= words(item["title"])):
        return False
    if "colour" in expect and expect["colour"] not in words(item["title"]):
        return False
    return not ("brand" in expect and item["brand"].lower() != expect["brand"].lower())


def main() -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        items = [r for r in csv.DictReader(f) if r["available"] == "true"]
    sessions: list[dict] = []
    for need in NEEDS:
        matching = [i for i in items if need in words(i["title"])]
        if len(matching) < 6:
            continue
        prices = sorted(float(i["price"]) for i in matching if i["price"])
        cap = float(math.ceil(prices[int(0.6 * (len(prices) - 1))]))
        under = [i for i in matching if float(i["price"] or "inf") <= cap]
        brand = Counter(i["brand"] for i in under).most_common(1)[0][0]
        colours = [c for c in COLOURS if any(c in words(i["title"]) and i["brand"] != brand for i in under)]
        other = Counter(i["brand"] for i in matching if i["brand"] != brand).most_common(1)[0][0]
        scripts = [
            ([f"I need {need}", f"under ${cap:g}", f"not {brand}"], {"price_max": cap, "brand_exclude": brand}),
            ([f"show me some {need}", f"not {brand}", f"under ${cap:g}"]
             + ([f"in {colours[0]}"] if colours else []),
             {"price_max": cap, "brand_exclude": brand, **({"colour": colours[0]} if colours else {})}),
            ([f"I'm looking for {need} under ${cap:g}", "more like the first one", f"not {brand}"],
             {"price_max": cap, "brand_exclude": brand}),
            ([f"{need}", f"by {other}", "any brand", f"under ${cap:g}"], {"price_max": cap}),
            ([f"I want {need}", f"under ${cap:g}", "compare the first two", "is the first one waterproof?",
              f"not {brand}"], {"price_max": cap, "brand_exclude": brand}),
        ]
        for n, (turns, expect) in enumerate(scripts):
            if any(ok(i, expect) for i in matching):
                sessions.append({"id": f"{need}-{n}", "need": need, "turns": turns, "expect": expect,
                                 "source": "rule over src/shelfwise/sample/items.csv"})
    with (HERE / "sessions.jsonl").open("w", encoding="utf-8") as f:
        for s in sessions:
            f.write(json.dumps(s) + "\n")
    print(f"{len(sessions)} sessions, {sum(len(s['turns']) for s in sessions)} turns")


if __name__ == "__main__":
    main()
