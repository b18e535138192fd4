"""Review-derived preferences: a small lexicon sentiment and aspect mentions, honest about being small.

No sentiment model ships offline with shelfwise, so this is a transparent lexicon method (in the spirit of
Hu & Liu 2004 opinion lexicons, shrunk to ~250 words common in product reviews) with negation handling
("not good" flips within the next three words) and sentence-level aspect attribution: each aspect
mentioned in a sentence receives that sentence's polarity. Its agreement with star ratings is measured
in ``benchmarks/bench_profiles.py`` (AUC of the sentiment for 4-5 vs 1-2 stars on amazon-reviews-2018).

Only derived numbers leave this module: a profile never holds review text.

Example:
    >>> sig = analyse_review("Smells amazing but the bottle leaked. Not worth the price.")
    >>> round(sig.sentiment, 2), sorted(sig.aspects)
    (-0.33, ['packaging', 'price', 'scent'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["ASPECTS", "ReviewSignal", "ReviewStats", "analyse_review"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_POSITIVE: Final[frozenset[str]] = _words(
    """
    affordable amazing awesome bargain beautiful best better brilliant classy clean comfortable
    comfy cute durable easy effective elegant enjoy enjoyed excellent fabulous fantastic fast
    favorite favourite fine fit fits flattering flawless fresh gentle glad glowing good gorgeous
    great happy healthy helpful hydrated hydrating impressed improved improvement incredible light
    lightweight love loved lovely loves luxurious moisturising moisturizing must-have nice
    outstanding perfect perfectly pleasant pleased pretty quality quick radiant recommend
    recommended refreshing reliable satisfied silky smooth soft solid stunning sturdy superb
    terrific value vibrant wonderful worked works worth
    """
)
_NEGATIVE: Final[frozenset[str]] = _words(
    """
    allergic annoying apart awful bad break breakout breakouts broke broken burn burned burning
    cheap cheaply damaged defective difficult disappointed disappointing disappointment dry drying
    expensive fade faded fake fall falls fell flimsy greasy gross hard harsh hate hated horrible
    irritated irritation issue issues itch itchy leak leaked leaking leaks loose mediocre meh
    missing nasty oily overpriced peeled peeling poor problem problems rash refund return returned
    ripped rough scratchy sick small smears smelly smudge smudges sticky stiff stink stinks streaky
    terrible thin tight tiny torn ugly uncomfortable unfortunately unhappy useless waste weird worse
    worst wrong
    """
)
_NEGATORS: Final[frozenset[str]] = _words(
    """
    aren't can't cannot didn't doesn't don't hardly isn't never no nor not nothing wasn't without
    won't
    """
)

#: Aspect -> words that signal it (beauty and fashion reviews, the two review datasets at hand).
ASPECTS: Final[dict[str, frozenset[str]]] = {
    "scent": _words("aroma fragrance odor odour perfume scent smell smelled smells"),
    "texture": _words("absorb absorbs consistency creamy greasy lather sticky texture thick thin"),
    "skin": _words("acne breakout breakouts complexion face pores sensitive skin wrinkles"),
    "hair": _words("conditioner curls frizz hair scalp shampoo"),
    "price": _words("affordable bargain cheap cost expensive money overpriced price priced value worth"),
    "packaging": _words("bottle box cap container jar leak leaked lid package packaging pump tube"),
    "size": _words("big fit fits fitting large larger length loose size sizes small smaller tight"),
    "quality": _words("cheaply durable fabric flimsy made material quality seams stitching sturdy"),
    "colour": _words("color colors colour colours faded pigment shade shades tone"),
    "longevity": _words("day-long last lasted lasting lasts long-lasting wear wears"),
    "comfort": _words("comfortable comfy itchy scratchy soft uncomfortable"),
    "delivery": _words("arrived delivery packaged seller shipped shipping"),
}
_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)?")
_SENTENCE = re.compile(r"[.!?;\n]+|\bbut\b")
_NEGATION_SPAN = 3


@dataclass(frozen=True)
class ReviewSignal:
    """What one review says, as numbers: overall polarity in ``[-1, 1]`` and per-aspect polarity."""

    sentiment: float
    aspects: dict[str, float] = field(default_factory=dict)


def _sentence_polarity(tokens: list[str]) -> tuple[int, int]:
    """(positive hits, negative hits) of a sentence, a negator flipping the next few words."""
    pos = neg = 0
    flip_until = -1
    for k, tok in enumerate(tokens):
        if tok in _NEGATORS or tok.endswith("n't"):
            flip_until = k + _NEGATION_SPAN
            continue
        sign = 1 if tok in _POSITIVE else -1 if tok in _NEGATIVE else 0
        if sign and k <= flip_until:
            sign = -sign
        pos += sign > 0
        neg += sign < 0
    return pos, neg


def analyse_review(text: str | None) -> ReviewSignal:
    """Polarity and aspect polarities of one review (headline and body may be joined by ". ").

    Args:
        text: the review text; ``None`` or empty gives a neutral signal with no aspects.
    """
    if not text:
        return ReviewSignal(0.0)
    total_pos = total_neg = 0
    aspect_sum: dict[str, float] = {}
    for sentence in _SENTENCE.split(text.lower()):
        tokens = _TOKEN.findall(sentence)
        if not tokens:
            continue
        pos, neg = _sentence_polarity(tokens)
        total_pos, total_neg = total_pos + pos, total_neg + neg
        polarity = (pos - neg) / (pos + neg) if pos + neg else 0.0
        words = set(tokens)
        for aspect, cues in ASPECTS.items():
            if words & cues:
                aspect_sum[aspect] = aspect_sum.get(aspect, 0.0) + polarity
    hits = total_pos + total_neg
    sentiment = (total_pos - total_neg) / hits if hits else 0.0
    aspects = {a: max(-1.0, min(1.0, s)) for a, s in aspect_sum.items()}
    return ReviewSignal(float(sentiment), aspects)


@dataclass
class ReviewStats:
    """Running totals of a user's review signals (no text): counts and polarity sums per aspect."""

    n: int = 0
    sentiment_sum: float = 0.0
    aspects: dict[str, list[float]] = field(default_factory=dict)  # aspect -> [mentions, polarity sum]

    def add(self, signal: ReviewSignal) -> None:
        """Fold one review in."""
        self.n += 1
        self.sentiment_sum += signal.sentiment
        for aspect, polarity in signal.aspects.items():
            acc = self.aspects.setdefault(aspect, [0.0, 0.0])
            acc[0] += 1.0
            acc[1] += polarity

    def summary(self, top_k: int = 5) -> dict[str, Any]:
        """JSON-ready: mean sentiment, and the most mentioned aspects with their mean polarity."""
        ranked = sorted(self.aspects.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top_k]
        return {
            "reviews": self.n,
            "mean_sentiment": round(self.sentiment_sum / self.n, 3) if self.n else None,
            "aspects": [
                {"aspect": a, "mentions": int(m), "mean_polarity": round(s / m, 3)} for a, (m, s) in ranked
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"n": self.n, "sentiment_sum": self.sentiment_sum, "aspects": self.aspects}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewStats:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(data["n"]), float(data["sentiment_sum"]), {k: list(v) for k, v in data["aspects"].items()}
        )
