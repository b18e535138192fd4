"""Calibrated relevance: which candidates are confident matches, and the order the shopper sees.

A logistic model maps three facts of a (query, item) pair to the probability that a person would judge
the item relevant: the share of the query's concepts the item covers (title, last category level, brand;
see :mod:`~shelfwise.search.evidence`), the cosine of the query and item vectors, and, for the words it
covers, that cosine relative to the best one among the query's candidates (coverage x relative cosine: a
one-word query has low cosines with every title, so what counts is how close an item that has the word
comes to the best; an item with none of the words gets nothing from being the best of a poor lot). Its coefficients are *fitted* on judged pairs
(:func:`fit_calibration`; ``benchmarks/bench_search_calibration.py`` fits them on CrowdFlower's human
judgements and writes the figures), not set by hand; a candidate is a confident match when the probability
reaches ``floor`` (0.5: more likely relevant than not). Weaker candidates are returned under their own
heading (``more_results``), never mixed into the confident page.

The order within the confident set: relevance first, then the soft constraints the item meets (weighted
by their confidence), then the pipeline's own ranking (fusion or the learned ranker).

Example:
    >>> cal = Calibration(intercept=-4.0, coverage=6.0, cosine=3.0)
    >>> round(float(cal.probability(1.0, 0.3)), 3), round(float(cal.probability(0.0, 0.3)), 3)
    (0.948, 0.043)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shelfwise.search.catalog import SearchCatalog
from shelfwise.search.evidence import QueryEvidence
from shelfwise.search.retrieve import Candidates


@dataclass(frozen=True)
class Calibration:
    """``P(relevant) = sigmoid(intercept + coverage * a + cosine * b + relative * c)``."""

    intercept: float
    coverage: float
    cosine: float
    relative: float = 0.0

    def probability(
        self,
        coverage: float | np.ndarray,
        cosine: float | np.ndarray,
        relative: float | np.ndarray = 0.0,
    ) -> np.ndarray:
        """The calibrated probability of relevance."""
        z = (
            self.intercept
            + self.coverage * np.asarray(coverage)
            + self.cosine * np.asarray(cosine)
            + self.relative * np.asarray(relative)
        )
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def fit_calibration(
    coverage: Sequence[float],
    cosine: Sequence[float],
    relevant: Sequence[bool],
    relative: Sequence[float] | None = None,
) -> Calibration:
    """Fit the logistic mapping on judged pairs (scikit-learn, mild L2)."""
    from sklearn.linear_model import LogisticRegression

    cols = [np.asarray(coverage, float), np.asarray(cosine, float)]
    if relative is not None:
        cols.append(np.asarray(relative, float))
    model = LogisticRegression(C=10.0).fit(np.column_stack(cols), np.asarray(relevant, bool))
    coef = [float(c) for c in model.coef_[0]]
    return Calibration(float(model.intercept_[0]), coef[0], coef[1], coef[2] if relative is not None else 0.0)


@dataclass
class Judged:
    """The candidates of one query, judged.

    Attributes:
        order: candidate positions, confident ones first, each part best first.
        confident: how many of ``order`` are confident matches.
        relevance: calibrated probability per candidate position.
        coverage: share of concepts covered per candidate position.
        boost: confidence-weighted share of the soft constraints met, per candidate position.
        matched: per candidate position, the concept texts it covers.
        met: per candidate position, the soft constraint fields it meets.
        key: the ordering score per candidate position (relevance + evidence + the pipeline's rank).
    """

    order: np.ndarray
    confident: int
    relevance: np.ndarray
    coverage: np.ndarray
    boost: np.ndarray
    matched: list[list[str]]
    met: list[list[str]]
    key: np.ndarray


def judge(
    evidence: QueryEvidence,
    catalog: SearchCatalog,
    cands: Candidates,
    order: np.ndarray,
    calibration: Calibration,
    floor: float,
) -> Judged:
    """Split ``cands`` (ranked by ``order``) into confident matches and the rest, and re-order both."""
    n = len(cands)
    items = catalog.items
    cover = np.zeros(n)
    boost = np.zeros(n)
    matched: list[list[str]] = [[] for _ in range(n)]
    met: list[list[str]] = [[] for _ in range(n)]
    soft = evidence.soft
    tests = [(c, catalog.predicate({c.field: [c.value]})) for c in soft if c.field != "category"]
    cat_tests = [(c, _Neighbours(c.value)) for c in soft if c.field == "category"]
    weight = sum(c.confidence for c in soft) or 1.0
    for pos, item_id in enumerate(cands.ids):
        item = items.get(item_id)
        if item is None:
            continue
        cover[pos], matched[pos] = evidence.coverage(item)
        got = 0.0
        for c, test in tests:
            if test(item_id):
                got += c.confidence
                met[pos].append(c.field)
        best_cat = max((c.confidence * t(item.category) for c, t in cat_tests), default=0.0)
        if best_cat > 0:
            got += best_cat
            met[pos].append("category")
        boost[pos] = got / weight
    cosine = np.clip(cands.dense.astype(float), -1.0, 1.0)
    rel = calibration.probability(cover, cosine, cover * relative_cosine(cosine))
    if not evidence.concepts:
        rel = np.ones(n)
    rank_share = np.zeros(n)
    rank_share[order] = 1.0 - np.arange(len(order)) / max(len(order), 1)
    key = rel + 0.2 * boost + 0.2 * rank_share
    ok = rel >= floor
    ranked = sorted(range(n), key=lambda p: (not ok[p], -key[p]))
    return Judged(np.asarray(ranked, np.int64), int(ok.sum()), rel, cover, boost, matched, met, key)


def any_confident(
    evidence: QueryEvidence, catalog: SearchCatalog, calibration: Calibration, floor: float, cands: Candidates
) -> bool:
    """Whether at least one candidate is a confident match (relaxation stops there)."""
    items = catalog.items
    cover = np.array([evidence.coverage(items[i])[0] if i in items else 0.0 for i in cands.ids])
    cosine = cands.dense.astype(float)
    p = calibration.probability(cover, cosine, cover * relative_cosine(cosine))
    return bool(len(cands)) and bool((p >= floor).any())


def relative_cosine(cosine: np.ndarray) -> np.ndarray:
    """Each cosine divided by the best of the query's candidates (0 when none is positive)."""
    best = float(cosine.max()) if len(cosine) else 0.0
    return np.clip(cosine / best, 0.0, 1.0) if best > 0 else np.zeros(len(cosine))


class _Neighbours:
    """1.0 for an item in the category or under it, 0.5 for a sibling category (same parent), else 0."""

    def __init__(self, path: str) -> None:
        from shelfwise.index.metadata import normalize_category

        self.path = normalize_category(path)
        self.parent = self.path.rsplit(" > ", 1)[0] if " > " in self.path else ""

    def __call__(self, category: str) -> float:
        if category == self.path or category.startswith(self.path + " > "):
            return 1.0
        if self.parent and category.startswith(self.parent + " > "):
            return 0.5
        return 0.0
