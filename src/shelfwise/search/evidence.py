"""What a query asks for, read as *evidence* about each candidate instead of as filters.

The parser's brand / category / colour / size readings become :class:`Constraint` s with a confidence;
they boost the items that meet them and never remove the ones that do not (only the shopper makes a
filter: an explicit price limit such as "under $10", or a chip / facet click in the request's
``filters``). Every content word or phrase of the query is a :class:`Concept`; an item *covers* a concept
when the concept's words are among the stems of its title, the last level of its category, its brand or
its attribute values. The share of concepts covered is the main input of the calibrated relevance
(:mod:`~shelfwise.search.relevance`).

Example:
    >>> from shelfwise.search.catalog import SearchCatalog
    >>> from shelfwise.search.query import CatalogueVocabulary, QueryParser
    >>> rows = [{"item_id": "a", "title": "Red Devil caulk", "brand": "Red Devil", "category": "Caulk"},
    ...         {"item_id": "b", "title": "Red tape", "brand": "Scotch", "category": "Tape"}]
    >>> ev = read_query(QueryParser(CatalogueVocabulary.build(rows)).parse("red devil"))
    >>> [(c.field, c.value, c.use) for c in ev.constraints]
    [('brand', 'Red Devil', 'boost')]
    >>> cat = SearchCatalog.from_items(rows)
    >>> ev.coverage(cat.items["a"])[0], ev.coverage(cat.items["b"])[0]
    (1.0, 0.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from shelfwise.search.catalog import CatalogItem, stem
from shelfwise.search.query import ParsedQuery
from shelfwise.search.query.lexicon import COLOURS, ZH_CATEGORY_TERMS

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")

#: Confidence of a reading by field, before the adjustment for how it matched.
_FIELD_CONFIDENCE = {"brand": 0.85, "colour": 0.8, "size": 0.8, "category": 0.7, "colour_exclude": 0.8}
#: Multiplier by how the phrase matched (see :class:`~shelfwise.search.query.Extraction`).
_SOURCE_FACTOR = {"exact": 1.0, "joined": 0.95, "synonym": 0.9, "zh": 0.85, "head": 0.8, "fuzzy": 0.75}
#: Soft constraint fields, in the order the response lists them.
SOFT_FIELDS = ("brand", "category", "colour", "size")


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _WORD.findall(text.lower()))


@dataclass(frozen=True)
class Constraint:
    """One thing the query asks for, with how sure the reading is and how it is used.

    Attributes:
        field: ``brand``, ``category``, ``colour``, ``size`` or ``price``.
        value: the canonical value (brand name, category path, colour, size, "min-max").
        text: the words of the query it was read from.
        confidence: 0-1, from the field, how the phrase matched and (brands) its position.
        use: ``"filter"`` (the shopper made it one: an explicit price) or ``"boost"`` (ranking evidence).
        source: how the parser matched it (``exact``, ``fuzzy``, ``zh``, ``grammar``, ...).
    """

    field: str
    value: str
    text: str
    confidence: float
    use: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Concept:
    """One content word or phrase of the query; an item covers it when one option's stems are all its own.

    Attributes:
        text: the word or phrase as in the corrected query.
        options: alternative stem sets (the word, a synonym, the English of a Chinese word, ...).
        brand: for a brand phrase, the brand name (an item of that brand covers it).
        names: how each option reads to a shopper (aligned with ``options``).
    """

    text: str
    options: tuple[frozenset[str], ...]
    brand: str | None = None
    names: tuple[str, ...] = ()

    def name_in(self, stems: frozenset[str] | set[str]) -> str | None:
        """The shopper-facing name of the first option inside ``stems`` ("tape (胶带)"), or ``None``."""
        for n, opt in enumerate(self.options):
            if opt and opt <= stems:
                name = self.names[n] if n < len(self.names) else self.text
                return name if name == self.text else f"{name} ({self.text})"
        return None

    def covered_by(self, item: CatalogItem) -> bool:
        """Whether ``item`` has this concept's words (or is of its brand)."""
        if self.brand is not None and item.brand and item.brand.lower() == self.brand.lower():
            return True
        return any(opt and opt <= item.stems for opt in self.options)


@dataclass
class QueryEvidence:
    """A query as evidence: its concepts, its soft constraints and the words retrieval should add."""

    concepts: list[Concept] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    _seen: dict[str, tuple[float, list[str]]] = field(default_factory=dict, repr=False)

    @property
    def soft(self) -> list[Constraint]:
        """The constraints used as ranking evidence."""
        return [c for c in self.constraints if c.use == "boost"]

    def coverage(self, item: CatalogItem) -> tuple[float, list[str]]:
        """Share of the concepts ``item`` covers (1.0 when the query has none) and their texts."""
        if not self.concepts:
            return 1.0, []
        known = self._seen.get(item.item_id)  # one request: relaxation and judging ask twice
        if known is None:
            hit = [c.text for c in self.concepts if c.covered_by(item)]
            known = self._seen[item.item_id] = (len(hit) / len(self.concepts), hit)
        return known

    def matched_stems(self, item: CatalogItem) -> frozenset[str]:
        """The item stems that some covered concept used (what to highlight)."""
        out: set[str] = set()
        for c in self.concepts:
            for opt in c.options:
                if opt and opt <= item.stems:
                    out |= opt
        return frozenset(out)


def constraint_confidence(e_field: str, source: str, start: int, value: str) -> float:
    """How sure a reading is: by field and match kind; a brand that opens the query (brand position) is
    surer, a brand whose first word is also a colour and that does not open the query is less sure."""
    conf = _FIELD_CONFIDENCE.get(e_field, 0.7) * _SOURCE_FACTOR.get(source, 0.9)
    if e_field == "brand":
        first = value.lower().split()[0] if value.split() else ""
        if start == 0:
            conf = min(0.98, conf + 0.1)
        elif first in COLOURS:
            conf -= 0.2
    return round(conf, 2)


def _concept(text: str, alternatives: list[str], brand: str | None = None) -> Concept:
    """A concept from its text and alternative phrasings (duplicates and empty ones dropped)."""
    seen: dict[frozenset[str], str] = {}
    for name in [text, *alternatives]:
        stems = _stems(name)
        if stems and stems not in seen:
            seen[stems] = name
    return Concept(text, tuple(seen), brand, tuple(seen.values()))


def read_query(
    parsed: ParsedQuery,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    *,
    hard_price: bool = True,
) -> QueryEvidence:
    """The evidence of a parsed query.

    Args:
        parsed: the parsed query.
        synonyms: shop-managed synonyms, ``word -> [alternatives]`` (an alternative may be a phrase).
        hard_price: an explicit price limit in the text is a filter (``use="filter"``).
    """
    synonyms = synonyms or {}
    ev = QueryEvidence()
    spans: dict[tuple[int, int], list[Any]] = {}
    for e in parsed.extractions:
        if e.field == "price":
            ev.constraints.append(
                Constraint("price", e.value, e.text, 0.95, "filter" if hard_price else "boost", e.source)
            )
            continue
        if e.field not in SOFT_FIELDS:
            continue
        conf = constraint_confidence(e.field, e.source, e.start, e.value)
        ev.constraints.append(Constraint(e.field, e.value, e.text, conf, "boost", e.source))
        spans.setdefault((e.start, e.end), []).append(e)
    taken: set[str] = set()
    for (_, _), group in sorted(spans.items()):
        e = group[0]
        english = list(ZH_CATEGORY_TERMS.get(e.text, ())) if _HAN.search(e.text) else []
        ev.expansions += [en for en in english if " " not in en]
        alternatives = [*english, *synonyms.get(e.text, ())]
        ev.concepts.append(_concept(e.text, alternatives, e.value if e.field == "brand" else None))
        taken |= set(_WORD.findall(e.text.lower()))
    for word in _WORD.findall(parsed.search_text.lower()):
        if word in taken or (len(word) < 2 and not _HAN.search(word)):
            continue
        taken.add(word)
        english = list(ZH_CATEGORY_TERMS.get(word, ())) if _HAN.search(word) else []
        extra = list(synonyms.get(word, ()))
        ev.expansions += [en for en in english if " " not in en] + extra
        ev.concepts.append(_concept(word, [*english, *extra]))
    ev.expansions = list(dict.fromkeys(ev.expansions))
    return ev
