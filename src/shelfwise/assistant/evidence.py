"""Evidence for product questions: the sentences of one item that answer a question, or none.

An item's evidence is its title (and the comma-separated facts in it), attributes (``key: value``),
description sentences and review sentences (from the assistant artifact, scrubbed of personal data). A
question is scored against every sentence of the item by the text encoder (cosine) and by BM25 over
stemmed words (bm25s), fused as ``cosine + lexical_weight * bm25 / (bm25 + 1)``; the best sentences by the
fused score are cited. When the best cosine is below the abstention threshold the question is *not
answerable* from the evidence. The threshold is chosen on the dev half of the labelled questions
(:func:`choose_threshold`, ``benchmarks/bench_assistant.py``), not set by hand.

"What do people complain about / like?" ranks review sentences by the review lexicon's polarity
(:func:`shelfwise.profiles.reviews.analyse_review`) among those that match the rest of the question.

Example:
    >>> from shelfwise.assistant.evidence import split_sentences
    >>> split_sentences("Great glue. Holds well! Not for kids?")
    ['Great glue.', 'Holds well!', 'Not for kids?']
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shelfwise.encoders.item_text import parse_attributes

__all__ = [
    "ABSTAIN_PRECISION",
    "DEFAULT_THRESHOLD",
    "Answer",
    "EvidenceIndex",
    "Sentence",
    "choose_threshold",
    "item_sentences",
    "review_sentences",
    "split_sentences",
]

#: Abstention threshold (best cosine) used when neither the settings nor the trained artifact give one: the
#: value ``benchmarks/bench_assistant.py --part evidence`` chose on the dev half of the labelled questions for
#: :data:`ABSTAIN_PRECISION` (``benchmarks/results/assistant_evidence.md``).
DEFAULT_THRESHOLD = 0.196
LEXICAL_WEIGHT = 0.3

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_COMPLAIN = re.compile(
    r"\b(complain\w*|downsides?|cons|problems?|issues?|dislike\w*|negatives?|bad things|what'?s bad|worst)\b", re.I
)
_PRAISE = re.compile(
    r"\b(what do (?:people|buyers|customers|reviewers) (?:like|love)|pros|praise\w*|best things?|good things)\b",
    re.I,
)
_QWORDS = re.compile(
    r"\b(is|are|does|do|did|can|could|will|would|how|what|which|why|it|its|this|that|the|a|an|people|"
    r"reviews?|say|says|about|they|them|one|first|second|third|last|product|item|buyers|customers)\b",
    re.I,
)


@dataclass(frozen=True)
class Sentence:
    """One piece of evidence: ``source`` is ``title``, ``attribute``, ``description`` or ``review``;
    ``ref`` locates it (``review:<n>`` for the n-th review of the item)."""

    text: str
    source: str
    ref: str


@dataclass(frozen=True)
class Answer:
    """The evidence found for a question about one item.

    Attributes:
        item_id: the item asked about.
        cited: the cited sentences with their scores, best first (empty when not answerable).
        score: the best sentence's score (what the threshold is compared with).
        answerable: the best score reached the threshold.
        mode: ``"match"``, ``"complaints"`` or ``"praise"``.
    """

    item_id: str
    cited: tuple[tuple[Sentence, float], ...]
    score: float
    answerable: bool
    mode: str = "match"


def split_sentences(text: str) -> list[str]:
    """Sentences of a text (a simple punctuation rule; empty pieces dropped)."""
    return [s.strip() for s in _SPLIT.split(text or "") if s and s.strip()]


def item_sentences(row: Mapping[str, Any], reviews: Sequence[str] = ()) -> list[Sentence]:
    """The evidence sentences of one catalogue row plus its review sentences."""
    out: list[Sentence] = []
    title = str(row.get("title") or "").strip()
    if title:
        out.append(Sentence(title, "title", "title"))
        parts = [p.strip() for p in title.split(",") if p.strip()]
        if len(parts) > 1:
            out.extend(Sentence(p, "title", f"title:{n}") for n, p in enumerate(parts[1:], 1))
    for key, value in parse_attributes(row.get("attributes")).items():
        out.append(Sentence(f"{key}: {value}", "attribute", f"attribute:{key}"))
    for n, s in enumerate(split_sentences(str(row.get("description") or ""))):
        out.append(Sentence(s, "description", f"description:{n}"))
    out.extend(Sentence(s, "review", ref) for s, ref in _with_refs(reviews))
    return out


def _with_refs(reviews: Sequence[str]) -> Iterable[tuple[str, str]]:
    for text in reviews:
        m = re.match(r"\[(review:\d+)\] (.*)", text, re.S)
        if m:
            yield m.group(2), m.group(1)
        else:
            yield text, "review"


def review_sentences(rows: Iterable[Mapping[str, Any]], scrub: Callable[[str], str]) -> dict[str, list[str]]:
    """``item_id -> ["[review:<n>] sentence", ...]`` from review records (``item_id`` or ``asin``;
    ``summary``, ``reviewText`` or ``text``), each sentence passed through ``scrub`` (PII)."""
    out: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for row in rows:
        item = str(row.get("item_id") or row.get("asin") or "")
        if not item:
            continue
        n = counts.get(item, 0)
        counts[item] = n + 1
        body = " ".join(str(row.get(k) or "") for k in ("summary",) if row.get(k))
        body = (body + ". " if body and not body.endswith((".", "!", "?")) else body + " ") + str(
            row.get("reviewText") or row.get("text") or ""
        )
        for s in split_sentences(scrub(body)):
            if 3 <= len(s) <= 400:
                out.setdefault(item, []).append(f"[review:{n}] {s}")
    return out


#: The "I don't know" precision the threshold is chosen for on dev data. The goal of issue #21 is 0.9; on the
#: labelled set a threshold that reaches 0.9 on dev abstains on under a tenth of the unanswerable test
#: questions, i.e. the assistant would mostly guess, so the default operating point is 0.8 (see
#: ``benchmarks/results/assistant_evidence.md`` for all three).
ABSTAIN_PRECISION = 0.8


def choose_threshold(
    scores: Sequence[float], answerable: Sequence[bool], min_precision: float = ABSTAIN_PRECISION
) -> float:
    """The abstention threshold for held-out labelled questions: among thresholds whose "I don't know"
    precision (share of abstentions that were truly not answerable) is at least ``min_precision``, the one
    with the best balanced accuracy of the answer / abstain decision (the best balanced accuracy overall when
    none reaches the precision).

    Example:
        >>> choose_threshold([0.9, 0.8, 0.3, 0.2], [True, True, False, False], 0.9)
        0.8
    """
    s = np.asarray(scores, np.float64)
    y = np.asarray(answerable, bool)
    if not len(s) or y.all() or not y.any():
        return DEFAULT_THRESHOLD
    best: tuple[bool, float, float] | None = None
    for t in np.unique(s):
        abstain = s < t
        precision = float((~y[abstain]).mean()) if abstain.any() else 1.0
        balanced = 0.5 * (float((~abstain[y]).mean()) + float(abstain[~y].mean()))
        key = (precision >= min_precision, balanced, -float(t))
        if best is None or key > best:
            best = key
    assert best is not None
    return float(-best[2])


class _ItemEvidence:
    """One item's sentences, their unit vectors and a BM25 model over them."""

    def __init__(self, sentences: list[Sentence], vectors: np.ndarray, bm25: Any) -> None:
        self.sentences = sentences
        self.vectors = vectors
        self.bm25 = bm25


class EvidenceIndex:
    """Answers questions about items from their evidence (see the module docstring).

    Args:
        rows: ``item_id -> catalogue row`` (title, description, attributes), looked up per question.
        reviews: ``item_id -> review sentences`` (:func:`review_sentences`).
        encoder: a shelfwise :class:`~shelfwise.encoders.base.Encoder` (the search encoder).
        threshold: abstain below this score.
        cache_items: items whose encoded evidence is kept (LRU).
    """

    def __init__(
        self,
        rows: Callable[[str], Mapping[str, Any] | None],
        reviews: Mapping[str, Sequence[str]],
        encoder: Any,
        threshold: float = DEFAULT_THRESHOLD,
        cache_items: int = 512,
    ) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.rows = rows
        self.reviews = reviews
        self.encoder = encoder
        self.threshold = threshold
        self.cache_items = cache_items
        self._cache: OrderedDict[str, _ItemEvidence] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        out = self._bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return [list(t) for t in out]

    def sentences(self, item_id: str) -> list[Sentence]:
        """Every evidence sentence of an item (empty for an unknown item without reviews)."""
        row = self.rows(item_id) or {}
        return item_sentences(row, self.reviews.get(item_id, ()))

    def _item(self, item_id: str) -> _ItemEvidence | None:
        with self._lock:
            hit = self._cache.get(item_id)
            if hit is not None:
                self._cache.move_to_end(item_id)
                return hit
        sentences = self.sentences(item_id)
        if not sentences:
            return None
        texts = [s.text for s in sentences]
        vectors = np.asarray(self.encoder.encode_documents(texts), dtype=np.float32)
        bm25 = self._bm25s.BM25()
        bm25.index(self._tokens(texts), show_progress=False)
        entry = _ItemEvidence(sentences, vectors, bm25)
        with self._lock:
            self._cache[item_id] = entry
            while len(self._cache) > self.cache_items:
                self._cache.popitem(last=False)
        return entry

    def parts(self, item_id: str, question: str) -> tuple[list[Sentence], np.ndarray, np.ndarray]:
        """Every sentence of the item with its cosine and its BM25 score for ``question``."""
        entry = self._item(item_id)
        if entry is None:
            return [], np.zeros(0), np.zeros(0)
        content = _QWORDS.sub(" ", question)
        qv = np.asarray(self.encoder.encode_queries([content if content.strip() else question]), np.float32)[0]
        dense = entry.vectors @ qv
        tokens = self._tokens([content])[0]
        lexical = np.asarray(entry.bm25.get_scores(tokens), np.float64) if tokens else np.zeros(len(dense))
        return entry.sentences, dense, lexical

    @staticmethod
    def _by_polarity(sentences: Sequence[Sentence], fused: np.ndarray, mode: str) -> np.ndarray:
        """Review sentences of the wanted polarity first (their polarity decides), others scored out."""
        from shelfwise.profiles.reviews import analyse_review

        out = np.full(len(sentences), -1.0)
        for n, s in enumerate(sentences):
            if s.source != "review":
                continue
            polarity = analyse_review(s.text).sentiment
            wanted = polarity < 0 if mode == "complaints" else polarity > 0
            if wanted:
                out[n] = 0.5 + 0.5 * abs(polarity) + 0.1 * float(fused[n])
        return out

    def answer(self, item_id: str, question: str, k: int = 3) -> Answer:
        """The top ``k`` sentences for ``question`` about ``item_id``, or not answerable.

        Sentences are ranked by the fused score; whether the question is answerable at all is decided on
        the best cosine alone (:attr:`Answer.score`), which separated answerable from unanswerable labelled
        questions better than the fused score (ROC AUC 0.87 vs 0.86 on all 769; the BM25 part mostly
        re-ranks sentences that share words with the question).
        """
        sentences, dense, lexical = self.parts(item_id, question)
        if not len(dense):
            return Answer(item_id, (), 0.0, False)
        mode = "complaints" if _COMPLAIN.search(question) else "praise" if _PRAISE.search(question) else "match"
        fused = dense + LEXICAL_WEIGHT * lexical / (lexical + 1.0)
        if mode != "match":
            fused = self._by_polarity(sentences, fused, mode)
            best = float(fused.max())
            answerable = best > 0.0
        else:
            best = float(dense.max())
            answerable = best >= self.threshold
        order = np.argsort(-fused, kind="stable")[:k]
        cited = tuple((sentences[int(n)], float(fused[n])) for n in order if fused[n] > -1.0)
        return Answer(item_id, cited if answerable else (), best, answerable, mode)
