"""Candidate sources for the ranker: the baselines as :class:`~shelfwise.retrieval.base.CandidateSource`, and
batched top-k candidate generation for any source.

:class:`RecommenderSource` wraps a :class:`~shelfwise.retrieval.baselines.Recommender` (popularity, item-kNN,
ALS) so the ranker can be trained and benchmarked before the concrete sources of
:mod:`shelfwise.retrieval` land; any other ``CandidateSource`` plugs in the same way.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> from shelfwise.retrieval.baselines import Popularity
    >>> from shelfwise.retrieval.base import UserContext
    >>> src = RecommenderSource(Popularity())
    >>> _ = src.model.fit(sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 1]], dtype=np.float32)))
    >>> [c.items.tolist() for c in top_k_candidates(src, [UserContext(user_index=0)], k=2)]
    [[2, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import Candidates, CandidateSource, UserContext
from shelfwise.retrieval.baselines import ALS, Recommender

__all__ = ["RecommenderSource", "history_matrix", "top_k_candidates"]


def history_matrix(contexts: Sequence[UserContext], n_items: int) -> sp.csr_matrix:
    """float32 CSR ``(len(contexts), n_items)`` of the contexts' histories (weights summed per item).

    With unit weights this equals the rows of ``RankingData.train_valid`` the harness passes as history.
    """
    rows = np.repeat(np.arange(len(contexts)), [len(c.history) for c in contexts])
    cols = np.concatenate([np.asarray(c.history, dtype=np.int64) for c in contexts] + [np.zeros(0, np.int64)])
    w = [np.ones(len(c.history)) if c.weights is None else np.asarray(c.weights) for c in contexts]
    data = np.concatenate(w).astype(np.float32) if w else np.zeros(0, np.float32)
    m = sp.csr_matrix((data, (rows, cols)), shape=(len(contexts), n_items), dtype=np.float32)
    m.sum_duplicates()
    return m


class RecommenderSource(CandidateSource):
    """A baseline recommender as a candidate source (fitted on ``data.ranking.train_valid``).

    Users the model never saw (``user_index`` -1 or out of range) get all-zero scores from models with
    learned user state (ALS); history-based models (item-kNN, popularity) score them from the context.

    Args:
        model: the recommender (fitted here by :meth:`fit`, or already fitted).
        name: the source name (default: the model's).
        user_state: whether scores come from learned per-user state (default: true for ALS).
    """

    def __init__(self, model: Recommender, name: str | None = None, user_state: bool | None = None) -> None:
        self.model = model
        self.name = name or model.name
        self.user_state = isinstance(model, ALS) if user_state is None else user_state

    def fit(self, data: RecommendData) -> RecommenderSource:
        self.model.fit(data.ranking.train_valid)
        return self

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        users = np.asarray([c.user_index for c in contexts], dtype=np.int64)
        out = np.zeros((len(contexts), self.model.n_items), dtype=np.float32)
        known = (users >= 0) & (users < self.model.n_users)
        if known.any():
            hist = history_matrix([c for c, k in zip(contexts, known, strict=True) if k], self.model.n_items)
            out[known] = self.model.score(users[known], hist)
        if (~known).any() and not self.user_state:
            cold = [c for c, k in zip(contexts, known, strict=True) if not k]
            out[~known] = self.model.score(
                np.zeros(len(cold), dtype=np.int64), history_matrix(cold, self.model.n_items)
            )
        return out


def top_k_candidates(
    source: CandidateSource,
    contexts: Sequence[UserContext],
    k: int,
    *,
    seed: int = 0,
    batch_size: int = 512,
) -> list[Candidates]:
    """Each context's top-``k`` items of ``source``, scored in batches (one ``score_all`` call per batch).

    Excluded items are removed; items tied at the row's minimum score are not proposed (e.g. items with no
    item-kNN neighbour in the history; every item of a flat row, such as ALS for an unknown user); ties
    among proposed items are broken at random (seeded per context position), never by item index.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    out: list[Candidates] = []
    for start in range(0, len(contexts), batch_size):
        batch = list(contexts[start : start + batch_size])
        scores = np.asarray(source.score_all(batch), dtype=np.float32)
        for r, ctx in enumerate(batch):
            s = scores[r].copy()
            if ctx.exclude.size:
                s[ctx.exclude] = -np.inf
            finite = np.isfinite(s)
            if finite.any():  # the row's minimum is "no opinion" (all items when the row is flat)
                finite &= s > s[finite].min()
            idx = np.flatnonzero(finite)
            kk = min(k, idx.size)
            rng = np.random.default_rng([seed, start + r])
            if kk < idx.size:  # everything above the k-th score, then a random draw among its ties
                vals = s[idx]
                kth = np.partition(vals, idx.size - kk)[idx.size - kk]
                tied = idx[vals == kth]
                idx = np.concatenate(
                    [idx[vals > kth], rng.choice(tied, kk - int((vals > kth).sum()), replace=False)]
                )
            idx = rng.permutation(idx)  # random order among equal scores after the stable sort below
            items = idx[np.argsort(-s[idx], kind="stable")].astype(np.int32)
            out.append(Candidates(source.name, items, s[items].astype(np.float32)))
    return out
