"""Brands of a catalogue: their matching keys (aliases) and whether a brand name is also an ordinary word.

Example:
    >>> brand_aliases("General Tools Mfg Co Inc"), brand_aliases("Black & Decker")
    (('general tools mfg co inc', 'general tools mfg co', 'general tools mfg', 'general tools'), ('black and decker', 'black decker'))
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from shelfwise.data.schema import CATEGORY_SEPARATOR
from shelfwise.search.query.lexicon import COLOURS, FILLERS, MODIFIERS, word_set
from shelfwise.search.query.normalize import fold_key, phrase_key

_BRAND_SUFFIXES = word_set(
    "inc in co corp corporation llc ltd mfg company brand brands products industries manufacturing"
)


@dataclass(frozen=True)
class Brand:
    """A brand of the catalogue.

    Attributes:
        name: display spelling (the most common one).
        keys: matching keys (:func:`~shelfwise.search.query.normalize.phrase_key`), first = the name's.
        count: items (or, when mined, titles) of the brand.
        source: ``"column"`` (the item brand field) or ``"mined"`` (title starts).
        ambiguous: the key is also an ordinary word of other items' titles (a category name, or mostly in
            other brands' titles), so the parser prefers the other reading.
    """

    name: str
    keys: tuple[str, ...]
    count: int
    source: str = "column"
    ambiguous: bool = False


def brand_aliases(name: str) -> tuple[str, ...]:
    """Keys of a brand name: its own, without company suffixes, without "and" ("Black & Decker")."""
    key = phrase_key(name)
    out = [key]
    words = key.split()
    while len(words) > 1 and words[-1] in _BRAND_SUFFIXES:
        words = words[:-1]
        out.append(" ".join(words))
    if "and" in key.split():
        out.append(" ".join(w for w in key.split() if w != "and"))
    return tuple(dict.fromkeys(k for k in out if k))


def usable_aliases(name: str, count: int, title_words: Mapping[str, int]) -> tuple[str, ...]:
    """:func:`brand_aliases` without one-word aliases that are ordinary words ("Outdoor Products" -> "outdoor")."""
    key = phrase_key(name)
    return tuple(
        k
        for k in brand_aliases(name)
        if k == key
        or " " in k
        or (k not in MODIFIERS and k not in FILLERS and title_words.get(k, 0) <= 3 * count)
    )


def column_brands(
    names: Mapping[str, Counter[str]], titles: list[str], categories: Mapping[str, int]
) -> list[Brand]:
    """Brands from the brand column; a key that mostly appears in other brands' titles is ambiguous.

    A brand whose name has no letter or digit the query parser keeps (``-``, ``__``, a control character) has
    an empty key: no query can name it, so it is left out rather than breaking the whole vocabulary.
    """
    names = {k: v for k, v in names.items() if k.strip()}
    if not names:
        return []
    title_keys = [f" {phrase_key(t)} " for t in titles]
    by_word: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(title_keys):
        for w in set(t.split()):
            by_word[w].append(i)
    category_words = {fold_key(phrase_key(p.rsplit(CATEGORY_SEPARATOR, 1)[-1])) for p in categories}
    out = []
    for key, spellings in names.items():
        hits = sum(1 for i in by_word.get(key.split()[0], ()) if f" {key} " in title_keys[i])
        share = spellings.total() / hits if hits else 1.0
        ambiguous = (hits >= 3 and share < 0.5) or fold_key(key) in category_words or key in COLOURS
        counts = {w: len(by_word.get(w, ())) for w in key.split()}
        keys = usable_aliases(key, spellings.total(), counts) or (key,)
        out.append(Brand(spellings.most_common(1)[0][0], keys, spellings.total(), "column", ambiguous))
    return sorted(out, key=lambda b: (-b.count, b.keys[0]))
