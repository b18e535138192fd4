"""Score a :class:`~shelfwise.search.query.parser.QueryParser` against a labelled set of queries.

The labelled set is JSON Lines, one query per line::

    {"id": "fa-001", "query": "puma backpack under 50", "catalogue": "fashion-images", "lang": "en",
     "origin": "composed", "brand": ["Puma"], "category": ["Accessories > Bags > Backpacks"],
     "colour": [], "colour_exclude": [], "size": [], "price_min": null, "price_max": 50.0,
     "price_band": null, "intent": "specific_product", "tags": ["price"]}

``brand`` entries may list accepted spellings separated by ``|`` ("DC Shoes|DC"); a predicted brand
matches when any spelling's key is one of the predicted brand's keys. List fields are scored as sets
(micro-averaged true / false positives and false negatives over all queries); ``price_min``,
``price_max`` and ``price_band`` as single values (a wrong value is a false positive and a false negative);
``category_lenient`` also accepts an ancestor or descendant of an expected path; ``intent`` is
scored per class and as accuracy.

Example:
    >>> s = FieldScore("brand", tp=8, fp=2, fn=0)
    >>> round(s.precision, 2), s.recall, round(s.f1, 3)
    (0.8, 1.0, 0.889)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shelfwise.data.schema import CATEGORY_SEPARATOR
from shelfwise.search.query.normalize import phrase_key
from shelfwise.search.query.parser import QueryParser
from shelfwise.search.query.result import Intent, ParsedQuery

SET_FIELDS = ("brand", "category", "category_lenient", "colour", "colour_exclude", "size")
VALUE_FIELDS = ("price_min", "price_max", "price_band")


@dataclass(frozen=True)
class LabelledQuery:
    """One query of the labelled set with its expected extraction."""

    id: str
    query: str
    catalogue: str
    intent: str
    lang: str = "en"
    origin: str = ""
    brand: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    colour: tuple[str, ...] = ()
    colour_exclude: tuple[str, ...] = ()
    size: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    price_band: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> LabelledQuery:
        """Build from one parsed JSON line (list fields become tuples; unknown keys are errors)."""
        data: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
        return cls(**data)


def load_labelled(path: str | Path) -> list[LabelledQuery]:
    """Read a labelled set (JSON Lines; blank lines skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [LabelledQuery.from_dict(json.loads(line)) for line in lines if line.strip()]


@dataclass(frozen=True)
class FieldScore:
    """Micro-averaged counts and scores of one field."""

    field: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        """Expected values (tp + fn)."""
        return self.tp + self.fn

    def as_row(self) -> dict[str, Any]:
        """A table row: field, support, tp, fp, fn, precision, recall, f1."""
        return {
            "field": self.field,
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class QueryOutcome:
    """What went wrong on one query: field -> (expected, predicted), only fields with a mistake."""

    id: str
    query: str
    errors: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class EvaluationReport:
    """Scores of a parser over a labelled set."""

    fields: dict[str, FieldScore]
    intent_accuracy: float
    intent_confusion: dict[str, dict[str, int]]
    n_queries: int
    outcomes: tuple[QueryOutcome, ...] = field(default=())

    def rows(self) -> list[dict[str, Any]]:
        """One table row per field (set fields, value fields, then intent classes)."""
        return [s.as_row() for s in self.fields.values()]

    def failures(self, field_name: str) -> list[QueryOutcome]:
        """Queries with a mistake on ``field_name``."""
        return [o for o in self.outcomes if field_name in o.errors]


def _brand_keys(parser: QueryParser, name: str) -> set[str]:
    keys = {phrase_key(name)}
    for brand in parser.vocab.brands:
        if brand.name == name:
            keys |= set(brand.keys)
    return keys


def _match_brands(
    parser: QueryParser, expected: Iterable[str], predicted: Iterable[str]
) -> tuple[int, int, int]:
    pred = [_brand_keys(parser, p) for p in predicted]
    used: set[int] = set()
    tp = 0
    exp = list(expected)
    for e in exp:
        alts = {phrase_key(a) for a in e.split("|")}
        hit = next((i for i, keys in enumerate(pred) if i not in used and alts & keys), None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return tp, len(pred) - tp, len(exp) - tp


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + CATEGORY_SEPARATOR) or b.startswith(a + CATEGORY_SEPARATOR)


def _lenient(expected: Iterable[str], predicted: Iterable[str]) -> tuple[int, int, int]:
    exp, pred = list(expected), list(predicted)
    tp = sum(1 for e in exp if any(_related(e, p) for p in pred))
    fp = sum(1 for p in pred if not any(_related(e, p) for e in exp))
    return tp, fp, len(exp) - tp


def _sets(expected: Iterable[str], predicted: Iterable[str]) -> tuple[int, int, int]:
    exp, pred = set(expected), set(predicted)
    return len(exp & pred), len(pred - exp), len(exp - pred)


def _value(expected: Any, predicted: Any) -> tuple[int, int, int]:
    if isinstance(expected, float) and isinstance(predicted, float):
        same = abs(expected - predicted) < 0.01
    else:
        same = expected == predicted
    if expected is None and predicted is None:
        return 0, 0, 0
    if same:
        return 1, 0, 0
    return 0, int(predicted is not None), int(expected is not None)


def score_query(
    parser: QueryParser, label: LabelledQuery, parsed: ParsedQuery
) -> dict[str, tuple[int, int, int]]:
    """(tp, fp, fn) per field for one query."""
    return {
        "brand": _match_brands(parser, label.brand, parsed.brands),
        "category": _sets(label.category, parsed.categories),
        "category_lenient": _lenient(label.category, parsed.categories),
        "colour": _sets(label.colour, parsed.colours),
        "colour_exclude": _sets(label.colour_exclude, parsed.colours_excluded),
        "size": _sets(label.size, parsed.sizes),
        "price_min": _value(label.price_min, parsed.price_min),
        "price_max": _value(label.price_max, parsed.price_max),
        "price_band": _value(label.price_band, parsed.price_band),
    }


def evaluate(parsers: Mapping[str, QueryParser], labelled: Iterable[LabelledQuery]) -> EvaluationReport:
    """Parse every labelled query with the parser of its catalogue and score the extractions.

    Args:
        parsers: catalogue name (as in the labelled set) -> parser built on that catalogue's vocabulary;
            queries of other catalogues are skipped.
        labelled: the labelled queries.
    """
    totals: dict[str, Counter[str]] = {f: Counter() for f in (*SET_FIELDS, *VALUE_FIELDS)}
    confusion: dict[str, Counter[str]] = {i.value: Counter() for i in Intent}
    outcomes: list[QueryOutcome] = []
    n = 0
    correct = 0
    for label in labelled:
        parser = parsers.get(label.catalogue)
        if parser is None:
            continue
        parsed = parser.parse(label.query)
        n += 1
        errors: dict[str, tuple[Any, Any]] = {}
        for name, (tp, fp, fn) in score_query(parser, label, parsed).items():
            totals[name].update(tp=tp, fp=fp, fn=fn)
            if fp or fn:
                errors[name] = (
                    getattr(label, "category" if name == "category_lenient" else name),
                    _predicted(parsed, name),
                )
        confusion[label.intent][str(parsed.intent)] += 1
        if str(parsed.intent) == label.intent:
            correct += 1
        else:
            errors["intent"] = (label.intent, str(parsed.intent))
        if errors:
            outcomes.append(QueryOutcome(label.id, label.query, errors))
    fields = {name: FieldScore(name, c["tp"], c["fp"], c["fn"]) for name, c in totals.items()}
    for intent in Intent:
        tp = confusion[intent.value][intent.value]
        fp = sum(confusion[other][intent.value] for other in confusion if other != intent.value)
        fn = sum(confusion[intent.value].values()) - tp
        fields[f"intent:{intent.value}"] = FieldScore(f"intent:{intent.value}", tp, fp, fn)
    return EvaluationReport(
        fields=fields,
        intent_accuracy=correct / n if n else 0.0,
        intent_confusion={k: dict(v) for k, v in confusion.items()},
        n_queries=n,
        outcomes=tuple(outcomes),
    )


def _predicted(parsed: ParsedQuery, name: str) -> Any:
    return {
        "brand": parsed.brands,
        "category": parsed.categories,
        "category_lenient": parsed.categories,
        "colour": parsed.colours,
        "colour_exclude": parsed.colours_excluded,
        "size": parsed.sizes,
        "price_min": parsed.price_min,
        "price_max": parsed.price_max,
        "price_band": parsed.price_band,
    }[name]
