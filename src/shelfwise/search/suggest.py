"""Autocomplete: complete what the shopper has typed from past queries and the catalogue's vocabulary.

Two sources, past queries first (they are what people actually search):

1. **past queries** seen by :meth:`Suggester.observe`, matched on their normalised prefix and ranked by
   how often they were searched (queries that returned nothing are not remembered);
2. **catalogue phrases**: brand names, category names and product types, then title words, ranked by how
   many items carry them. For a multi-word prefix the last word is completed and the words before it
   are kept ("red run" -> "red running").

Example:
    >>> s = Suggester(phrases={"running shoes": 40, "rucksack": 12, "red": 30}, words={"running": 50})
    >>> s.observe(["running shoes for men", "running shoes for men", "runners"])
    >>> s.suggest("run", k=3)
    ['running shoes for men', 'runners', 'running shoes']
    >>> s.suggest("red ru", k=2)
    ['red running', 'red running shoes']
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from shelfwise.search.query.normalize import normalize_text


def _norm(text: str) -> str:
    return " ".join(normalize_text(text).split())


class _PrefixTable:
    """Sorted keys with weights; prefix lookup by binary search."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.weights: dict[str, float] = dict(weights)
        self.keys = sorted(self.weights)

    def add(self, key: str, weight: float) -> None:
        if key not in self.weights:
            bisect.insort(self.keys, key)
            self.weights[key] = 0.0
        self.weights[key] += weight

    def with_prefix(self, prefix: str, limit: int = 2000) -> list[str]:
        start = bisect.bisect_left(self.keys, prefix)
        out = []
        for key in self.keys[start : start + limit]:
            if not key.startswith(prefix):
                break
            out.append(key)
        return out


class Suggester:
    """Prefix completion over past queries and catalogue phrases.

    Args:
        phrases: catalogue phrases (brands, categories, product types) -> item count.
        words: single title words -> count (completes the last word of a longer prefix).
        min_word_length: shorter words are never suggested on their own.
    """

    def __init__(
        self,
        phrases: Mapping[str, float] | None = None,
        words: Mapping[str, float] | None = None,
        min_word_length: int = 3,
    ) -> None:
        norm_phrases: defaultdict[str, float] = defaultdict(float)
        for p, c in (phrases or {}).items():
            if key := _norm(p):
                norm_phrases[key] += c
        self.phrases = _PrefixTable(norm_phrases)
        self.words = _PrefixTable(
            {w: c for w, c in (words or {}).items() if len(w) >= min_word_length and w.isalpha()}
        )
        self.queries = _PrefixTable({})

    @classmethod
    def from_vocabulary(cls, vocab: object) -> Suggester:
        """Phrases from a :class:`~shelfwise.search.query.CatalogueVocabulary` (brands, categories, types)."""
        phrases: Counter[str] = Counter()
        for brand in getattr(vocab, "brands", ()):
            phrases[brand.name] += brand.count
        for path, count in getattr(vocab, "categories", {}).items():
            phrases[path.rsplit(">", 1)[-1].strip()] += count
        for word, count in getattr(vocab, "product_types", {}).items():
            phrases[word] += count
        return cls(phrases, getattr(vocab, "words", {}))

    def observe(self, queries: Iterable[str], weight: float = 1.0) -> None:
        """Remember searched queries (call only with queries that found something)."""
        for q in queries:
            if key := _norm(q):
                self.queries.add(key, weight)

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Up to ``k`` completions of ``prefix``, past queries first, each ranked by frequency."""
        p = _norm(prefix)
        if not p or k <= 0:
            return []
        out: list[str] = []

        def take(keys: Iterable[str]) -> None:
            for key in keys:
                if key not in out and key != p:
                    out.append(key)

        take(sorted(self.queries.with_prefix(p), key=lambda q: (-self.queries.weights[q], q)))
        take(sorted(self.phrases.with_prefix(p), key=lambda q: (-self.phrases.weights[q], q)))
        head, _, last = p.rpartition(" ")
        if head and last:
            done = self.queries.with_prefix(head + " ") + self.phrases.with_prefix(head + " ")
            tails: dict[str, float] = {}
            for table in (self.phrases, self.words):
                for key in table.with_prefix(last):
                    tails[key] = max(tails.get(key, 0.0), table.weights[key])
            ranked = sorted(tails.items(), key=lambda kv: -kv[1])  # stable: ties keep insertion order
            take(f"{head} {t}" for t, _ in ranked if f"{head} {t}" not in done)
        elif len(out) < k:
            take(sorted(self.words.with_prefix(p), key=lambda w: (-self.words.weights[w], w)))
        return out[:k]
