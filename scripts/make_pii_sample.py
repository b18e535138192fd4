"""Build the labelled PII sample: real review texts with injected PII of known character spans and hard negatives.

Reads the review texts of ``../shared/data/amazon-reviews-2018`` (All Beauty + Amazon Fashion, 5-core), takes
``--n`` of them (fixed seed) and inserts, at sentence boundaries, short sentences carrying PII of every type
(e-mails, international and US phones, cards of several networks with a valid Luhn digit, IBANs, US SSNs, UK
NINOs, German tax ids, French NIRs, US / UK / German street addresses) and hard negatives that only look like PII
(Amazon order numbers, prices, ASINs, dates, model numbers, SKUs, UPC codes, tracking numbers, 16-digit runs
failing Luhn, invalid SSNs). About a fifth of the texts get negatives only.

Generated numbers follow the real numbering rules, as real ones do: phone numbers are drawn from assigned ranges
of each country's plan (e.g. UK mobiles 077-079, Tokyo 03 + a non-zero subscriber digit), ids pass their check
digit. The detectors' own code is not used to label anything.

Output: one JSON object per line::

    {"id": 0, "source": "All_Beauty_5/B0000530HU", "text": "...",
     "pii": [{"start": 10, "end": 26, "type": "PHONE", "format": "+44 intl"}],
     "decoys": [{"start": 40, "end": 47, "kind": "price"}]}

Usage:
    python scripts/make_pii_sample.py --out benchmarks/data/pii_labelled.jsonl --n 1200 --seed 7
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import re
import string
from collections.abc import Callable
from pathlib import Path

from stdnum import luhn
from stdnum.iso7064 import mod_11_10

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "amazon-reviews-2018"
log = logging.getLogger("make_pii_sample")

FIRST = [
    "james",
    "maria",
    "wei",
    "anna",
    "mohamed",
    "sofia",
    "liam",
    "chloe",
    "raj",
    "yuki",
    "olga",
    "pierre",
]
LAST = [
    "smith",
    "garcia",
    "chen",
    "muller",
    "okafor",
    "rossi",
    "tanaka",
    "dubois",
    "kowalski",
    "patel",
    "brown",
]
DOMAINS = [
    "gmail.com",
    "yahoo.co.uk",
    "outlook.com",
    "example.org",
    "mail.example-shop.de",
    "web.de",
    "icloud.com",
]
STREETS = [
    "Maple",
    "Oak",
    "Pennsylvania",
    "Baker",
    "Elm",
    "Sunset",
    "Market",
    "Cedar Hill",
    "Washington",
    "High",
]
US_TYPES = [
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Drive",
    "Dr",
    "Court",
]
US_CITIES = [
    ("Springfield", "IL"),
    ("Austin", "TX"),
    ("Portland", "OR"),
    ("San Jose", "CA"),
    ("Denver", "CO"),
]
UK_PLACES = [("London", "NW1 6XE"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 5TR")]
DE_STREETS = ["Haupt", "Bahnhof", "Schiller", "Goethe", "Linden"]
DE_CITIES = [("10115", "Berlin"), ("80331", "Muenchen"), ("50667", "Koeln")]

PII_TEMPLATES = {
    "EMAIL": ["You can email me at {} if you have questions.", "Contact: {}", "my email is {} btw"],
    "PHONE": ["Call me on {} for details.", "Seller phone: {}", "text me at {} if you want one"],
    "CARD": ["I paid with card {} and it went through.", "(card {} was charged twice!)"],
    "IBAN": ["Refund to IBAN {} please.", "They asked for my IBAN {} for the refund."],
    "NATIONAL_ID": ["They even asked for my ID number {} which is weird.", "My id: {}."],
    "ADDRESS": ["Ship it to {} next time.", "It arrived at {} in two days.", "Return address: {}."],
}
DECOY_TEMPLATES = {
    "order": ["Order #{} arrived late.", "My order {} was missing a bottle."],
    "price": ["It cost {} which is fair.", "Paid {} for two."],
    "asin": ["Compared it to {} on the site.", "Same as ASIN {} but cheaper."],
    "date": ["Bought on {} and still using it.", "Delivered {}."],
    "model": ["The {} works better.", "Mine is the {} version."],
    "sku": ["Reference {} on the box.", "Item {} in the catalogue."],
    "upc": ["The barcode says {}.", "Scanned {} at the store."],
    "tracking": ["Tracking number {} never updated.", "Shipped as {}."],
    "bad_luhn": ["The code on the gift card was {} and it did not work.", "Serial {} on the back."],
    "bad_ssn": ["Lot number {} on the bottom.", "Batch {}."],
    "quantity": ["Got the {} size.", "I buy the {} bundle."],
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _email(rng: random.Random) -> tuple[str, str]:
    f, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [f"{f}.{last}", f"{f}{last[0]}{rng.randint(1, 99)}", f"{f}_{last}+shop", f"{f[0]}{last}"]
    )
    return f"{local}@{rng.choice(DOMAINS)}", "email"


def _phone(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["us", "us_intl", "uk", "de", "fr", "in", "au", "jp"])
    area = rng.choice(["212", "415", "312", "617", "206", "303"])
    if kind == "us":
        a, b = rng.randint(200, 999), _digits(rng, 4)
        return rng.choice([f"({area}) {a}-{b}", f"{area}-{a}-{b}", f"{area}.{a}.{b}"]), "US national"
    if kind == "us_intl":
        return f"+1 {area} {rng.randint(200, 999)} {_digits(rng, 4)}", "US intl"
    if kind == "uk":
        return rng.choice(
            [
                f"+44 20 7{_digits(rng, 3)} {_digits(rng, 4)}",
                f"+44 7{rng.randint(700, 999)} {_digits(rng, 6)}",
            ]
        ), "UK intl"
    if kind == "de":
        return rng.choice([f"+49 30 {_digits(rng, 8)}", f"+49 151 {_digits(rng, 8)}"]), "DE intl"
    if kind == "fr":
        lead = rng.choice(["1", "6", "9", "73"])
        n = lead + _digits(rng, 9 - len(lead))
        return f"+33 {n[0]} {' '.join(n[i : i + 2] for i in range(1, 9, 2))}", "FR intl"
    if kind == "in":
        return f"+91 9{_digits(rng, 4)} {_digits(rng, 5)}", "IN intl"
    if kind == "au":
        return f"+61 2 9{_digits(rng, 3)} {_digits(rng, 4)}", "AU intl"
    return f"+81 3-{rng.randint(1000, 9999)}-{_digits(rng, 4)}", "JP intl"


_NETWORKS: list[tuple[str, Callable[[random.Random], str], int]] = [
    ("visa", lambda r: "4", 16),
    ("mastercard", lambda r: str(r.randint(51, 55)), 16),
    ("mastercard2", lambda r: str(r.randint(2221, 2720)), 16),
    ("amex", lambda r: r.choice(["34", "37"]), 15),
    ("discover", lambda r: r.choice(["6011", "65"]), 16),
    ("jcb", lambda r: str(r.randint(3528, 3589)), 16),
    ("diners", lambda r: r.choice(["36", "38"]), 14),
]


def _card_number(rng: random.Random, valid: bool = True) -> tuple[str, str]:
    name, prefix, length = rng.choice(_NETWORKS)
    body = prefix(rng)
    body += _digits(rng, length - 1 - len(body))
    check = luhn.calc_check_digit(body)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    return body + check, name


def _card(rng: random.Random) -> tuple[str, str]:
    d, name = _card_number(rng)
    style = rng.choice(["space", "dash", "plain"])
    if style == "plain":
        return d, f"{name} plain"
    sep = " " if style == "space" else "-"
    if len(d) == 15 or len(d) == 14:
        groups = [d[:4], d[4:10], d[10:]]
    else:
        groups = [d[i : i + 4] for i in range(0, len(d), 4)]
    return sep.join(groups), f"{name} {style}"


def _iban(rng: random.Random) -> tuple[str, str]:
    country = rng.choice(["GB", "DE", "NL"])
    if country == "GB":
        bban = rng.choice(["WEST", "BARC", "NWBK", "LOYD"]) + _digits(rng, 14)
    elif country == "DE":
        bban = _digits(rng, 18)
    else:
        bban = rng.choice(["ABNA", "INGB", "RABO"]) + _digits(rng, 10)
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = f"{98 - int(numeric) % 97:02d}"
    raw = country + check + bban
    if rng.random() < 0.5:
        return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4)), f"{country} grouped"
    return raw, f"{country} plain"


def _ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _nino(rng: random.Random) -> str:
    first = rng.choice([c for c in string.ascii_uppercase if c not in "DFIQUV"])
    second = rng.choice([c for c in string.ascii_uppercase if c not in "DFIOQUV"])
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        first, second = "A", "B"
    d = _digits(rng, 6)
    return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def _de_idnr(rng: random.Random) -> str:
    while True:  # first 10 digits: one digit twice (or thrice), one digit missing, no leading zero
        digits = rng.sample(string.digits, 9)
        if digits[0] == "0":
            continue
        digits.append(rng.choice(digits[1:]))
        rng.shuffle(digits[1:])
        body = "".join(digits)
        if body[0] != "0":
            return body + mod_11_10.calc_check_digit(body)


def _fr_nir(rng: random.Random) -> str:
    body = f"{rng.randint(1, 2)}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
    body += f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"


def _national_id(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["ssn", "nino", "de_idnr", "fr_nir"])
    return {"ssn": _ssn, "nino": _nino, "de_idnr": _de_idnr, "fr_nir": _fr_nir}[kind](rng), kind


def _address(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["us", "us_full", "uk", "de"])
    if kind.startswith("us"):
        s = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(US_TYPES)}"
        if rng.random() < 0.3:
            s += f", Apt {rng.randint(1, 40)}"
        if kind == "us_full":
            city, state = rng.choice(US_CITIES)
            s += f", {city}, {state} {_digits(rng, 5)}"
        return s, kind
    if kind == "uk":
        city, code = rng.choice(UK_PLACES)
        return (
            f"{rng.randint(1, 300)} {rng.choice(STREETS)} {rng.choice(['Road', 'Street', 'Lane'])}, {city} {code}",
            kind,
        )
    zipc, city = rng.choice(DE_CITIES)
    return f"{rng.choice(DE_STREETS)}strasse {rng.randint(1, 120)}, {zipc} {city}", kind


GENERATORS = {
    "EMAIL": _email,
    "PHONE": _phone,
    "CARD": _card,
    "IBAN": _iban,
    "NATIONAL_ID": _national_id,
    "ADDRESS": _address,
}


def _decoy(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(
        [
            "order",
            "price",
            "asin",
            "date",
            "model",
            "sku",
            "upc",
            "tracking",
            "bad_luhn",
            "bad_ssn",
            "quantity",
        ]
    )
    if kind == "order":
        return f"{rng.randint(100, 114)}-{_digits(rng, 7)}-{_digits(rng, 7)}", kind
    if kind == "price":
        return rng.choice(
            [
                f"${rng.randint(3, 99)}.{_digits(rng, 2)}",
                f"£{rng.randint(1, 40)}.99",
                f"$1,{_digits(rng, 3)}.00",
            ]
        ), kind
    if kind == "asin":
        return "B0" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8)), kind
    if kind == "date":
        return rng.choice(
            [
                f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/2019",
                f"2018-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            ]
        ), kind
    if kind == "model":
        return rng.choice(
            [
                f"HD-{rng.randint(1000, 9999)}",
                f"XPS {rng.randint(1000, 9999)}",
                f"Model {rng.randint(100, 999)}A",
            ]
        ), kind
    if kind == "sku":
        return f"SKU {rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(10, 99)}", kind
    if kind == "upc":
        return f"UPC {_digits(rng, 12)}", kind
    if kind == "tracking":
        return f"1Z{''.join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))}", kind
    if kind == "bad_luhn":
        d, _ = _card_number(rng, valid=False)
        return (" ".join(d[i : i + 4] for i in range(0, len(d), 4)) if rng.random() < 0.5 else d), kind
    if kind == "bad_ssn":
        return (
            f"{rng.choice(['000', '666', '9' + _digits(rng, 2)])}-{_digits(rng, 2)}-{_digits(rng, 4)}",
            kind,
        )
    return f"{rng.randint(2, 12)} Pack, {rng.randint(2, 16)} oz", kind


def _reviews() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    with gzip.open(DATA / "All_Beauty_5.json.gz", "rt") as fh:
        out += [("All_Beauty_5/" + r["asin"], r.get("reviewText", "")) for r in map(json.loads, fh)]
    with (DATA / "AMAZON_FASHION_5.jsonl").open() as fh:
        out += [("AMAZON_FASHION_5/" + r["asin"], r.get("reviewText", "")) for r in map(json.loads, fh)]
    seen: set[str] = set()
    unique = []
    for src, text in out:
        t = " ".join((text or "").split())
        if len(t) >= 40 and t not in seen:
            seen.add(t)
            unique.append((src, t[:600]))
    return unique


def make_record(rng: random.Random, idx: int, source: str, text: str) -> dict:
    """Insert PII and decoy sentences at sentence boundaries of ``text``; record their spans."""
    inserts: list[tuple[str, str, str, str]] = []  # (sentence template, value, label kind, meta)
    if rng.random() >= 0.2:
        for t in rng.sample(list(GENERATORS), rng.choice([1, 1, 2, 2, 3])):
            value, fmt = GENERATORS[t](rng)
            inserts.append((rng.choice(PII_TEMPLATES[t]), value, "pii:" + t, fmt))
    for _ in range(rng.choice([0, 1, 1, 2])):
        value, kind = _decoy(rng)
        inserts.append((rng.choice(DECOY_TEMPLATES[kind]), value, "decoy", kind))
    rng.shuffle(inserts)
    bounds = [0] + [m.end() for m in re.finditer(r"[.!?] ", text)] + [len(text)]
    points = sorted(rng.choice(bounds) for _ in inserts)
    out, pii, decoys = "", [], []
    last = 0
    for (template, value, label, meta), at in zip(inserts, points, strict=True):
        out += text[last:at]
        last = at
        if out and not out.endswith(" "):
            out += " "
        pre, post = template.split("{}")
        start = len(out) + len(pre)
        out += pre + value + post + " "
        span = {"start": start, "end": start + len(value)}
        if label == "decoy":
            decoys.append({**span, "kind": meta})
        else:
            pii.append({**span, "type": label[4:], "format": meta})
    out += text[last:]
    out = out.rstrip()
    for s in pii:
        assert out[s["start"] : s["end"]]  # spans point into the final text
    return {"id": idx, "source": source, "text": out, "pii": pii, "decoys": decoys}


def main() -> None:
    """Write the labelled sample."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "pii_labelled.jsonl")
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = random.Random(args.seed)
    reviews = _reviews()
    picked = rng.sample(reviews, min(args.n, len(reviews)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as fh:
        for idx, (src, text) in enumerate(picked):
            fh.write(json.dumps(make_record(rng, idx, src, text), ensure_ascii=False) + "\n")
    log.info("wrote %d texts to %s", len(picked), args.out)


if __name__ == "__main__":
    main()
