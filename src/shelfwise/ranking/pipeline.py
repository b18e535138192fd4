"""Sources -> merge -> scorer (the ranker or an ensemble), as one candidate source the harness can rank.

:class:`RankedPipeline` is a :class:`~shelfwise.retrieval.base.CandidateSource`: ``candidates`` serves a
request (top-k of the merged candidates in the scorer's order) and ``score_all`` scores every item for
the offline harness under the full-ranking protocol:

* merged candidates get ``1 + (s - min s)`` (their scorer's order, ties kept as ties), so every candidate
  scores at least 1;
* every other item gets the floor ``0``: all of them tie below all candidates, and the harness breaks that
  tie at random, so a target the sources missed lands at a uniformly random rank below the candidates
  (never by id order; with at least K candidates it cannot count in NDCG@K / HR@K).

History and the protocol: with **history rankable** (the default) nothing is masked by the pipeline; the
user's history items are ranked like any other candidate — the ranker sees ``hist_count`` /
``ui_*`` features and learns from the validation labels how likely a repeat is (on Amazon Beauty, never,
so it learns to push them down). History items the sources did not propose sit at the floor with the other
non-candidates. With **history excluded** the harness sets history items to ``-inf``, below the floor, so
they fall below every other item, as for any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from shelfwise.encoded.data import RecommendData
from shelfwise.ranking.features import FeatureRequest
from shelfwise.ranking.merge import MergedCandidates, merge_candidates
from shelfwise.ranking.sources import top_k_candidates
from shelfwise.retrieval.base import Candidates, CandidateSource, UserContext

__all__ = ["FLOOR", "HarnessModel", "MergedScorer", "RankedPipeline", "candidate_rows"]

#: Score of every item that is not a merged candidate (candidates score >= 1).
FLOOR = 0.0


class MergedScorer(Protocol):
    """What orders merged candidates: the :class:`~shelfwise.ranking.ranker.Ranker` or an ensemble."""

    name: str

    def score_requests(self, requests: Sequence[FeatureRequest]) -> list[np.ndarray]:
        """float32 scores of each request's candidates."""
        ...


class RankedPipeline(CandidateSource):
    """Candidate sources, merged, ordered by a scorer.

    Args:
        sources: fitted (or to be fitted by :meth:`fit`) candidate sources; their names are the columns.
        scorer: the ranker or ensemble trained on these sources' names.
        k_per_source: candidates taken from each source.
        name: the pipeline's name in reports.
        seed: seed of the sources' random tie-break.
        n_items: catalogue size (the width of :meth:`score_all`); set by :meth:`fit` when not given.
    """

    def __init__(
        self,
        sources: Sequence[CandidateSource],
        scorer: MergedScorer,
        k_per_source: int = 200,
        name: str | None = None,
        seed: int = 0,
        n_items: int | None = None,
    ) -> None:
        self.sources = list(sources)
        self.n_items = n_items
        self.scorer = scorer
        self.k_per_source = k_per_source
        self.name = name or scorer.name
        self.seed = seed

    def fit(self, data: RecommendData) -> RankedPipeline:
        """Fit every source on ``data`` (the scorer is trained separately, on the validation period)."""
        for s in self.sources:
            s.fit(data)
        self.n_items = data.n_items
        return self

    def merged(self, contexts: Sequence[UserContext]) -> list[MergedCandidates]:
        """Merged candidates of each context."""
        names = [s.name for s in self.sources]
        per_source = [top_k_candidates(s, contexts, self.k_per_source, seed=self.seed) for s in self.sources]
        return [merge_candidates([c[r] for c in per_source], names) for r in range(len(contexts))]

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)``: candidates >= 1 in the scorer's order, everything else 0."""
        if self.n_items is None:
            raise RuntimeError("fit the pipeline or pass n_items")
        merged = self.merged(contexts)
        scores = self.scorer.score_requests(
            [FeatureRequest(c, m) for c, m in zip(contexts, merged, strict=True)]
        )
        return candidate_rows([m.items for m in merged], scores, self.n_items)

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """The top ``k`` merged candidates in the scorer's order (excluded items removed)."""
        merged = self.merged([context])[0]
        scores = self.scorer.score_requests([FeatureRequest(context, merged)])[0]
        keep = ~np.isin(merged.items, context.exclude)
        items, scores = merged.items[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")[:k]
        return Candidates(self.name, items[order].astype(np.int32), scores[order].astype(np.float32))


def candidate_rows(items: Sequence[np.ndarray], scores: Sequence[np.ndarray], n_items: int) -> np.ndarray:
    """float32 ``(len(items), n_items)`` rows: ``1 + (s - min s)`` on each row's candidates, :data:`FLOOR` elsewhere.

    The shift keeps the scorer's order and its ties; every candidate ends up above every other item.
    """
    out = np.full((len(items), n_items), FLOOR, dtype=np.float32)
    for r, (it, s) in enumerate(zip(items, scores, strict=True)):
        if len(it):
            s64 = np.asarray(s, dtype=np.float64)
            out[r, it] = (1.0 + (s64 - s64.min())).astype(np.float32)
    return out


class HarnessModel:
    """A :class:`~shelfwise.retrieval.base.CandidateSource` seen by the harness: ``score(users, history)``.

    The harness passes user indices and a history matrix; contexts are built from ``sequences`` (each user's
    items in time order: ``data.train_valid_sequences`` for the test evaluation), so the sources see the
    same history as in serving.
    """

    def __init__(
        self, source: CandidateSource, sequences: Sequence[np.ndarray], name: str | None = None
    ) -> None:
        self.source = source
        self.sequences = sequences
        self.name = name or source.name

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(user_indices), n_items)`` scores from ``source.score_all``."""
        contexts = [UserContext(user_index=int(u), history=self.sequences[int(u)]) for u in user_indices]
        return self.source.score_all(contexts)
