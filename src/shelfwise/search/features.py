"""Features of (query, candidate) pairs for the learned search ranker: one code path offline and online.

Groups (names in :data:`FEATURES`):

- **retrieval evidence** from :class:`~shelfwise.search.retrieve.Candidates`: the index BM25 score and
  rank, the dense cosine and rank, RRF, and each relative to the query's best candidate; the cosine of
  the query and the item's *title* vector (a title says what the product is; descriptions dilute it);
- **text match** computed here for any item (so judged items outside the candidate lists get the same
  features): BM25 of the query over the title and over the description with this catalogue's statistics,
  the share of query terms found in the title / description, all terms in the title, the query as a phrase
  in the title, numbers of the query found in the title, query and title lengths;
- **constraints**: the item meets the brand / colour / category the parser extracted;
- **popularity** (log of event weight);
- **personal affinity** (vector cosine, brand share, category share; 0 for anonymous shoppers);
- **cross-encoder** score (0 when none is used);
- **pseudo-relevance feedback**: the cosine of each candidate's description and title vectors to the
  centroid of the query's best :data:`PRF_TOP` candidates by fused retrieval score (the shop's own idea of
  what the query means: a product type many good candidates share scores high even when the query's words
  do not say it).

Example:
    >>> m = TextMatcher.build([{"item_id": "a", "title": "Red running shoe", "description": "light"},
    ...                        {"item_id": "b", "title": "Blue sandal", "description": "red straps"}])
    >>> f = m.match("red shoes", ["a", "b"])
    >>> f["title_coverage"].tolist(), f["desc_coverage"].tolist()
    ([1.0, 0.0], [0.0, 0.5])
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shelfwise.encoders.item_text import clean_text
from shelfwise.index.tokenize import Tokenizer, TokenizerConfig

#: Feature columns, in order.
FEATURES: tuple[str, ...] = (
    "lexical",
    "lexical_rel",
    "lexical_rank_log",
    "dense",
    "dense_rel",
    "dense_rank_log",
    "rrf",
    "dense_title",
    "dense_title_rel",
    "bm25_title",
    "bm25_title_rel",
    "bm25_desc",
    "title_coverage",
    "desc_coverage",
    "title_all_terms",
    "title_phrase",
    "number_match",
    "query_terms",
    "title_terms",
    "brand_match",
    "colour_match",
    "category_match",
    "popularity_log",
    "personal_vector",
    "personal_brand",
    "personal_category",
    "cross_encoder",
    "cross_encoder_rel",
    "prf_dense",
    "prf_dense_rel",
    "prf_title",
    "prf_title_rel",
)

#: Candidates (in fused order) whose mean vector is the pseudo-relevance-feedback centroid.
PRF_TOP = 5

#: The columns :meth:`TextMatcher.match` returns.
TEXT_FEATURES = tuple(f for f in FEATURES[9:19] if f != "bm25_title_rel")

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_K1, _B = 1.2, 0.75


class _FieldStats:
    """Term frequencies, lengths, document frequencies and mean length of one text field."""

    def __init__(self) -> None:
        self.tf: dict[str, dict[str, int]] = {}
        self.length: dict[str, int] = {}
        self.df: Counter[str] = Counter()
        self.total_len = 0

    def put(self, item_id: str, tokens: list[str]) -> None:
        self.drop(item_id)
        tf = Counter(tokens)
        self.tf[item_id] = dict(tf)
        self.length[item_id] = len(tokens)
        self.df.update(tf.keys())
        self.total_len += len(tokens)

    def drop(self, item_id: str) -> None:
        old = self.tf.pop(item_id, None)
        if old is not None:
            self.df.subtract(old.keys())
            self.total_len -= self.length.pop(item_id, 0)

    def idf(self, terms: Sequence[str]) -> list[float]:
        """BM25 idf of each term over this field."""
        n = max(len(self.tf), 1)
        return [math.log(1.0 + (n - self.df.get(t, 0) + 0.5) / (self.df.get(t, 0) + 0.5)) for t in terms]

    def bm25(self, terms: Sequence[str], idf: Sequence[float], item_id: str) -> float:
        tf = self.tf.get(item_id)
        if not tf or not terms:
            return 0.0
        avg = max(self.total_len / max(len(self.tf), 1), 1e-9)
        norm = _K1 * (1 - _B + _B * self.length[item_id] / avg)
        score = 0.0
        for t, w in zip(terms, idf, strict=True):
            f = tf.get(t, 0)
            if f:
                score += w * f * (_K1 + 1) / (f + norm)
        return score


class TextMatcher:
    """Per-item title / description tokens and statistics, for text-match features of any item.

    Args:
        tokenizer: the lexical tokeniser settings (stemming, jieba).
        description_chars: descriptions are cut here.
    """

    def __init__(self, tokenizer: TokenizerConfig | None = None, description_chars: int = 1000) -> None:
        self.tokenizer = Tokenizer(tokenizer or TokenizerConfig())
        self.description_chars = description_chars
        self.title = _FieldStats()
        self.desc = _FieldStats()
        self.title_text: dict[str, str] = {}

    @classmethod
    def build(
        cls, items: Sequence[Mapping[str, Any]], tokenizer: TokenizerConfig | None = None
    ) -> TextMatcher:
        """Statistics of a catalogue."""
        out = cls(tokenizer)
        out.upsert(items)
        return out

    def upsert(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Add or replace items."""
        for it in items:
            item_id = str(it["item_id"])
            title = clean_text(it.get("title"))
            self.title_text[item_id] = " " + " ".join(title.lower().split()) + " "
            self.title.put(item_id, self.tokenizer(title))
            self.desc.put(
                item_id, self.tokenizer(clean_text(it.get("description"))[: self.description_chars])
            )

    def delete(self, item_ids: Sequence[str]) -> None:
        """Forget items."""
        for i in item_ids:
            self.title.drop(str(i))
            self.desc.drop(str(i))
            self.title_text.pop(str(i), None)

    def match(self, query: str, item_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Text-match features of ``query`` against each item (see the module docstring)."""
        terms = list(dict.fromkeys(self.tokenizer(query)))
        phrase = " " + " ".join(query.lower().split()) + " "
        numbers = set(_NUMBER.findall(query))
        n = len(item_ids)
        out = {k: np.zeros(n, np.float32) for k in TEXT_FEATURES}
        idf_title, idf_desc = self.title.idf(terms), self.desc.idf(terms)
        for j, item_id in enumerate(item_ids):
            tt = self.title.tf.get(item_id, {})
            dt = self.desc.tf.get(item_id, {})
            out["bm25_title"][j] = self.title.bm25(terms, idf_title, item_id)
            out["bm25_desc"][j] = self.desc.bm25(terms, idf_desc, item_id)
            if terms:
                hit_t = sum(t in tt for t in terms)
                out["title_coverage"][j] = hit_t / len(terms)
                out["desc_coverage"][j] = sum(t in dt for t in terms) / len(terms)
                out["title_all_terms"][j] = float(hit_t == len(terms))
            text = self.title_text.get(item_id, "")
            out["title_phrase"][j] = float(len(phrase) > 2 and phrase in text)
            if numbers:
                out["number_match"][j] = len(numbers & set(_NUMBER.findall(text))) / len(numbers)
            out["title_terms"][j] = self.title.length.get(item_id, 0)
            out["query_terms"][j] = len(terms)
        return out


def _rel(x: np.ndarray) -> np.ndarray:
    return (x - x.max()).astype(np.float32) if len(x) else x.astype(np.float32)


def prf_cosine(vectors: np.ndarray, order: np.ndarray, top: int = PRF_TOP) -> np.ndarray:
    """Cosine of each row of ``vectors`` to the normalised mean of the rows ``order[:top]``.

    Example:
        >>> v = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], np.float32)
        >>> [round(float(x), 3) for x in prf_cosine(v, np.array([0, 1]), top=2)]
        [0.949, 0.949, 0.316]
    """
    if not len(vectors):
        return np.zeros(0, np.float32)
    centroid = vectors[np.asarray(order)[:top]].mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm == 0.0:
        return np.zeros(len(vectors), np.float32)
    return (vectors @ (centroid / norm)).astype(np.float32)


def feature_matrix(
    cands: Any,
    title_cosine: np.ndarray,
    text: Mapping[str, np.ndarray],
    constraints: np.ndarray,
    popularity: np.ndarray,
    affinity: np.ndarray,
    cross_encoder: np.ndarray | None,
    prf: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """``(n, len(FEATURES))`` float32 for the candidates of one query.

    Args:
        cands: :class:`~shelfwise.search.retrieve.Candidates`.
        title_cosine: cosine of the query and each item's title vector.
        text: :meth:`TextMatcher.match` output for the same items.
        constraints: ``(n, 3)`` brand / colour / category match (1, 0, or 0.5 when the query has none).
        popularity: event weight per item.
        affinity: ``(n, 3)`` personal parts.
        cross_encoder: cross-encoder scores or ``None``.
        prf: ``{"dense": ..., "title": ...}`` pseudo-relevance-feedback cosines (:func:`prf_cosine`);
            missing parts are 0.
    """
    n = len(cands)
    ce = np.zeros(n, np.float32) if cross_encoder is None else np.asarray(cross_encoder, np.float32)
    lex_top = float(cands.lexical.max()) if n and cands.lexical.max() > 0 else 1.0
    cols = {
        "lexical": cands.lexical,
        "lexical_rel": cands.lexical / lex_top,
        "lexical_rank_log": np.log1p(cands.lexical_rank),
        "dense": cands.dense,
        "dense_rel": _rel(cands.dense),
        "dense_rank_log": np.log1p(cands.dense_rank),
        "rrf": cands.rrf * 60.0,
        "dense_title": title_cosine,
        "dense_title_rel": _rel(np.asarray(title_cosine, np.float32)),
        **{k: text[k] for k in TEXT_FEATURES},
        "bm25_title_rel": _rel(text["bm25_title"]),
        "brand_match": constraints[:, 0],
        "colour_match": constraints[:, 1],
        "category_match": constraints[:, 2],
        "popularity_log": np.log1p(np.maximum(popularity, 0.0)),
        "personal_vector": affinity[:, 0],
        "personal_brand": affinity[:, 1],
        "personal_category": affinity[:, 2],
        "cross_encoder": ce,
        "cross_encoder_rel": _rel(ce),
    }
    for part in ("dense", "title"):
        v = np.asarray((prf or {}).get(part, np.zeros(n, np.float32)), np.float32)
        cols[f"prf_{part}"] = v
        cols[f"prf_{part}_rel"] = _rel(v)
    return (
        np.column_stack([np.asarray(cols[f], np.float32) for f in FEATURES])
        if n
        else np.zeros((0, len(FEATURES)), np.float32)
    )
