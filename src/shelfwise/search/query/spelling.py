"""Typo tolerance against the catalogue's own words: a symmetric-delete (SymSpell-style) index.

Each dictionary word is indexed under every string obtained by deleting up to one character (two for
words of 7+ characters); a query word looks up its own deletes, and each candidate is verified with the
optimal-string-alignment distance (Levenshtein plus adjacent transposition). The best candidate has the
fewest edits, then the highest catalogue count. Which words are corrected, and with how many edits, is
the parser's decision (:meth:`~shelfwise.search.query.config.QueryParserConfig.max_edits_for`).

Example:
    >>> sp = SpellCorrector({"refrigerator": 50, "fragrance": 22, "nike": 90})
    >>> sp.correct("refrigirator", 2), sp.correct("fragance", 1), sp.correct("nkie", 1)
    (('refrigerator', 1), ('fragrance', 1), ('nike', 1))
    >>> sp.correct("iphone", 1) is None
    True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

_LONG = 7


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1 :])
        out |= nxt
        frontier = nxt
    return out


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal string alignment distance between ``a`` and ``b``, capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            row_min = min(row_min, cur[j])
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


class SpellCorrector:
    """Finds the catalogue word nearest to a misspelt query word.

    Args:
        words: dictionary word -> count (only alphabetic words of 3+ characters are indexed).
    """

    def __init__(self, words: Mapping[str, int]) -> None:
        self.words = {w: c for w, c in words.items() if len(w) >= 3 and w.isalpha()}
        self._index: dict[str, list[str]] = defaultdict(list)
        for word in self.words:
            for d in _deletes(word, 2 if len(word) >= _LONG else 1):
                self._index[d].append(word)

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def candidates(self, word: str, max_edits: int) -> list[tuple[str, int]]:
        """Dictionary words within ``max_edits`` of ``word``, best first: (word, distance)."""
        if max_edits <= 0:
            return []
        found: dict[str, int] = {}
        for d in _deletes(word, max_edits):
            for cand in self._index.get(d, ()):
                if cand != word and cand not in found:
                    dist = osa_distance(word, cand, max_edits)
                    if dist <= max_edits:
                        found[cand] = dist
        return sorted(found.items(), key=lambda kv: (kv[1], -self.words[kv[0]], kv[0]))

    def correct(self, word: str, max_edits: int) -> tuple[str, int] | None:
        """The best correction of ``word`` and its distance, or ``None`` if none is within ``max_edits``."""
        best = self.candidates(word, max_edits)
        return best[0] if best else None

    def split(self, word: str, min_count: int = 2, min_part: int = 3) -> tuple[str, str] | None:
        """Split a run-together word into two dictionary words ("hardisk" has none; "bikelock" does)."""
        best: tuple[int, str, str] | None = None
        for i in range(min_part, len(word) - min_part + 1):
            left, right = word[:i], word[i:]
            score = min(self.words.get(left, 0), self.words.get(right, 0))
            if score >= min_count and (best is None or score > best[0]):
                best = (score, left, right)
        return (best[1], best[2]) if best else None
