"""Mine brands and product types from titles, for catalogues that lack a brand column or a taxonomy.

**Brands** (:func:`mine_brands`): product titles usually start with the brand ("Hamilton Beach 2-Slice
Toaster"). A title-start phrase of 1-4 words is a brand when it starts enough titles
(``mine_min_count``), when most of its occurrences are at a title start (``mine_min_start_share``; or
``mine_frequent_share`` for phrases starting ``mine_frequent_count``+ titles, so "Samsung" counts even though
"Case for Samsung ..." is common), when it is not a colour / modifier / generic word, and, for a frequent
phrase with a low start share, when descriptions (prose) write it capitalised. A phrase extends to its next
word when ``mine_extend_share`` of its title starts continue with that word ("Hamilton" -> "Hamilton
Beach"); a phrase whose first word is generic is judged on its own ("Red Tape", "Green Bay Packers").

**Product types** (:func:`mine_product_types`): the head noun of a title (the last word before the first
comma, bracket, dash or "with"/"for") is the kind of product ("... Bike Lock, Black" -> "lock"). Words that
are the head of enough titles, and of a large enough share of their own occurrences, are product types.

Example:
    >>> titles = ["Hamilton Beach Toaster", "Hamilton Beach Kettle", "Red Tape Shoe", "Red Tape Boot",
    ...           "Red Mug"]
    >>> [b.name for b in mine_brands(titles)]
    ['Hamilton Beach', 'Red Tape']
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shelfwise.search.query.config import VocabularyConfig
from shelfwise.search.query.lexicon import COLOURS, FILLERS, MODIFIERS, PRICE_BANDS, word_set
from shelfwise.search.query.normalize import fold, phrase_key

_SURFACE = re.compile(r"[^\W_]+(?:['&][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
_HEAD_SPLIT = re.compile(r"\s[-–|/]\s|[,(\[|:]|\b(?:with|for|by|in|w/)\b", re.IGNORECASE)

#: Words that begin titles without being brands (besides colours, modifiers and fillers).
GENERIC_WORDS: frozenset[str] = word_set(
    """new classic vintage genuine original official authentic premium deluxe luxury modern personalized
    personalised handmade natural soft mini micro large small medium big little super ultra professional
    heavy portable electric digital wireless set lot pack brand universal replacement high low long short
    stainless sterling metal plastic wooden wood leather cotton silk steel glass ceramic solid real home
    custom unique cute funny retro fashion elegant lightweight adjustable waterproof organic fresh hot cold
    double single twin queen king full extra value bulk assorted pair case cover kit women womens mens men
    pro plus max one two three four five six seven eight nine ten"""
)

_GENERIC_ALL = GENERIC_WORDS | MODIFIERS | FILLERS | frozenset(COLOURS) | frozenset(PRICE_BANDS)


@dataclass(frozen=True)
class MinedBrand:
    """A brand found at the start of titles.

    Attributes:
        name: the most common spelling at title starts ("Hamilton Beach").
        key: its matching key ("hamilton beach").
        count: titles it starts.
        start_share: share of its title occurrences that are at the start.
        aliases: keys of shorter accepted forms it was extended from ("hamilton").
    """

    name: str
    key: str
    count: int
    start_share: float
    aliases: tuple[str, ...] = ()


_Word = tuple[str, int, int, bool]


def _words(title: str) -> list[_Word]:
    """(key word, start, end, capitalised) of each word (NFKC; apostrophes and inner '&' dropped)."""
    text = unicodedata.normalize("NFKC", title)
    return [
        (m.group(0).lower().replace("'", "").replace("&", ""), m.start(), m.end(), m.group(0)[0].isupper())
        for m in _SURFACE.finditer(text)
    ]


def _generic(word: str) -> bool:
    return word in _GENERIC_ALL or word.isdigit() or len(word) < 2


def _skip_modifiers(words: list[_Word]) -> list[_Word]:
    """Drop up to two leading shopper modifiers ("Women's", "New") so the brand after them is a start."""
    k = 0
    while k < min(2, len(words) - 1) and words[k][0] in MODIFIERS:
        k += 1
    return words[k:]


def _phrase_capitalisation(
    texts: Iterable[str | None], by_first: dict[str, list[tuple[str, ...]]]
) -> dict[tuple[str, ...], tuple[int, int]]:
    """Per candidate phrase, (capitalised, total) counts of its mid-sentence occurrences in prose."""
    stats: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for text in texts:
        if not text:
            continue
        words = _words(text)
        keys = [w for w, _, _, _ in words]
        for i, (w, start, _, _) in enumerate(words):
            grams = by_first.get(w)
            if not grams or i == 0 or _SENTENCE_END.search(text[max(0, start - 3) : start]):
                continue
            for g in grams:
                if tuple(keys[i : i + len(g)]) == g:
                    entry = stats[g]
                    entry[0] += all(cap for _, _, _, cap in words[i : i + len(g)])
                    entry[1] += 1
    return {g: (c, t) for g, (c, t) in stats.items()}


def _first_ok(word: str) -> bool:
    if word in FILLERS or word in MODIFIERS:
        return False
    return not word[0].isdigit() or bool(re.fullmatch(r"\d[a-z]", word))


def mine_brands(
    titles: Sequence[str | None],
    config: VocabularyConfig | None = None,
    descriptions: Sequence[str | None] = (),
    product_types: Iterable[str] = (),
) -> list[MinedBrand]:
    """Brands found at the start of ``titles`` (see the module docstring for the rules).

    Args:
        titles: product titles.
        config: thresholds (``mine_*`` fields).
        descriptions: product descriptions, used only for their capitalisation evidence: a phrase written
            mostly in lower case mid-sentence ("memory foam", "yoga") is not a brand.
        product_types: strong head nouns (folded, e.g. heading 10+ titles and half their occurrences); a
            multi-word phrase ending in one is a product ("Yoga Pants"), not a brand.

    Returns:
        Mined brands, most frequent first.
    """
    cfg = config or VocabularyConfig()
    types = set(product_types)
    raw_titles = [unicodedata.normalize("NFKC", t) for t in titles if t]
    tokenised = [_words(t) for t in raw_titles]
    starts: Counter[tuple[str, ...]] = Counter()
    surfaces: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for words, raw in zip(tokenised, raw_titles, strict=True):
        words = _skip_modifiers(words)
        for n in range(1, min(4, len(words)) + 1):
            gram = tuple(w for w, _, _, _ in words[:n])
            starts[gram] += 1
            surfaces[gram][raw[words[0][1] : words[n - 1][2]]] += 1
    candidates = {g for g, c in starts.items() if c >= cfg.mine_min_count and _first_ok(g[0])}
    by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for g in candidates:
        by_first[g[0]].append(g)
    occurrences: Counter[tuple[str, ...]] = Counter()
    for words in tokenised:
        keys = [w for w, _, _, _ in words]
        seen: set[tuple[str, ...]] = set()
        for i, w in enumerate(keys):
            for g in by_first.get(w, ()):
                if tuple(keys[i : i + len(g)]) == g:
                    seen.add(g)
        occurrences.update(seen)
    caps = _phrase_capitalisation(descriptions, by_first) if descriptions else {}

    def passes(g: tuple[str, ...]) -> bool:
        if _generic(g[-1]) or (len(g) == 1 and _generic(g[0])):
            return False
        if len(g) > 1 and fold(g[-1]) in types:
            return False
        upper, total = caps.get(g, (0, 0))
        if total >= 3 and upper / total < 0.5:
            return False
        share = starts[g] / max(occurrences[g], 1)
        if share >= cfg.mine_min_start_share:
            return True
        frequent = starts[g] >= cfg.mine_frequent_count and not any(c.isdigit() for c in g[0])
        return frequent and share >= cfg.mine_frequent_share

    accepted: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for g in sorted(candidates, key=lambda x: (len(x), x)):
        if not passes(g):
            continue
        parent = g[:-1]
        if parent in accepted:
            if starts[g] / starts[parent] >= cfg.mine_extend_share:
                accepted[g] = [*accepted.pop(parent), parent]
            continue
        if len(g) > 1 and any(g[:k] in accepted for k in range(1, len(g) - 1)):
            continue  # an ancestor brand was kept and this word did not extend it
        accepted[g] = []
    merged: dict[str, MinedBrand] = {}
    for g, shorter in accepted.items():
        name = surfaces[g].most_common(1)[0][0]
        key = phrase_key(name)
        share = round(starts[g] / max(occurrences[g], 1), 4)
        aliases = tuple(k for k in (phrase_key(" ".join(p)) for p in shorter) if k != key)
        old = merged.get(key)
        if old is None:
            merged[key] = MinedBrand(name, key, starts[g], share, aliases)
        elif old.count < starts[g]:
            merged[key] = MinedBrand(name, key, old.count + starts[g], share, aliases + old.aliases)
        else:
            merged[key] = MinedBrand(
                old.name, key, old.count + starts[g], old.start_share, old.aliases + aliases
            )
    return sorted(merged.values(), key=lambda b: (-b.count, b.key))


def title_head(title: str) -> str | None:
    """The head noun of a title: last word (folded, 3+ letters) before the first comma / dash / "with"."""
    segment = _HEAD_SPLIT.split(unicodedata.normalize("NFKC", title))[0].lower()
    words = [fold(w) for w in re.findall(r"[a-z]+", segment) if len(w) > 2]
    return words[-1] if words else None


def mine_product_types(
    titles: Sequence[str | None],
    config: VocabularyConfig | None = None,
    exclude: Iterable[str] = (),
    min_count: int | None = None,
    min_share: float | None = None,
) -> dict[str, int]:
    """Product-type words (folded) -> number of titles they head.

    Args:
        titles: product titles.
        config: ``type_min_count`` / ``type_min_share`` thresholds.
        exclude: words never to count as types (e.g. brand words).
        min_count: overrides ``type_min_count``.
        min_share: overrides ``type_min_share``.
    """
    cfg = config or VocabularyConfig()
    need_count = cfg.type_min_count if min_count is None else min_count
    need_share = cfg.type_min_share if min_share is None else min_share
    heads: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for title in titles:
        if not title:
            continue
        head = title_head(title)
        if head:
            heads[head] += 1
        totals.update({fold(w) for w in re.findall(r"[a-z]+", unicodedata.normalize("NFKC", title).lower())})
    banned = set(exclude) | MODIFIERS | FILLERS | frozenset(PRICE_BANDS)
    return {
        w: c
        for w, c in heads.most_common()
        if c >= need_count and c / max(totals[w], 1) >= need_share and w not in banned
    }
