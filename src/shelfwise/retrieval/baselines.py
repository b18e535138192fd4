"""Baseline recommenders with an implicit-style interface: popularity, item-kNN and ALS.

Every model is fitted on a float32 CSR ``(n_users, n_items)`` interaction matrix (users x items, as
``implicit`` 0.7 expects) and scores **all** items for a batch of users::

    model = ItemKNN(k=100, similarity="bm25").fit(train)           # train: csr_matrix users x items
    scores = model.score(user_indices, history=train[user_indices])  # float32 (batch, n_items)

Scores are raw: history items are not removed and ties are left as they are; ranking (random tie-break,
optional history masking) is the evaluator's job (:mod:`shelfwise.metrics.ranking`). No model uses
the numeric value of an id: a relabelling of items permutes the scores and changes nothing else
(tested for popularity and item-kNN; ALS only through its random initialisation).

``implicit`` is an optional dependency (``pip install 'shelfwise[ranking]'``), imported on first fit.
"""

from __future__ import annotations

import logging
import warnings
from abc import ABC, abstractmethod
from typing import Any, Literal, Self

import numpy as np
import scipy.sparse as sp

__all__ = ["ALS", "ItemKNN", "Popularity", "Recommender"]

log = logging.getLogger(__name__)


def _import_implicit() -> Any:
    try:
        from implicit import nearest_neighbours
        from implicit.cpu import als
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this model needs the 'implicit' library: pip install 'shelfwise[ranking]'"
        ) from exc
    return als, nearest_neighbours


def _check_interactions(interactions: sp.spmatrix) -> sp.csr_matrix:
    if not sp.issparse(interactions):
        raise TypeError("interactions must be a scipy.sparse matrix (users x items)")
    m = sp.csr_matrix(interactions, dtype=np.float32)
    if m.nnz and m.data.min() < 0:
        raise ValueError("interaction weights must be non-negative")
    return m


class Recommender(ABC):
    """A model that scores every item for a batch of users.

    Attributes:
        name: short model name used in reports.
        n_users: users seen at fit time.
        n_items: items seen at fit time (the width of :meth:`score`).
    """

    name: str = "recommender"

    def __init__(self) -> None:
        self.n_users = 0
        self.n_items = 0

    @abstractmethod
    def fit(self, interactions: sp.csr_matrix) -> Self:
        """Learn from a users x items CSR matrix of interaction weights; returns ``self``."""

    @abstractmethod
    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 scores ``(len(user_indices), n_items)``.

        Args:
            user_indices: int user indices (rows of the fit matrix).
            history: CSR ``(len(user_indices), n_items)``: each user's known items, for models that score
                from the history (item-kNN); models with learned user state may ignore it.
        """

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Hyper-parameters, JSON-ready."""

    def _check_fitted(self) -> None:
        if self.n_items == 0:
            raise RuntimeError(f"{self.name} is not fitted")


class Popularity(Recommender):
    """Scores every item by its total interaction weight in training (the same list for every user)."""

    name = "popularity"

    def __init__(self) -> None:
        super().__init__()
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix) -> Self:
        m = _check_interactions(interactions)
        self.n_users, self.n_items = m.shape
        self.counts = np.asarray(m.sum(axis=0), dtype=np.float32).ravel()
        return self

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        self._check_fitted()
        n = np.asarray(user_indices).size
        return np.tile(self.counts, (n, 1))

    def params(self) -> dict[str, Any]:
        return {}


class ItemKNN(Recommender):
    """Item-item nearest neighbours (implicit's ``CosineRecommender`` / ``BM25Recommender``).

    ``score = history @ S`` where ``S`` keeps each item's ``k`` most similar items (itself included,
    as in implicit), so scores come from the ``history`` passed to :meth:`score`.

    implicit keeps, among equally similar neighbours, the ones of lowest column index; to keep that from
    being an id-order effect the columns are shuffled (with ``seed``) before fitting and the similarity
    matrix is mapped back, so ties at the ``k``-th neighbour are resolved at random.

    Args:
        k: neighbours kept per item.
        similarity: ``"cosine"`` or ``"bm25"`` (BM25-weighted dot products, parameters ``k1``, ``b``).
        seed: seed of the column shuffle.
        num_threads: threads for fitting (0 = all cores).
    """

    name = "itemknn"

    def __init__(
        self,
        k: int = 100,
        similarity: Literal["cosine", "bm25"] = "bm25",
        k1: float = 1.2,
        b: float = 0.75,
        seed: int = 0,
        num_threads: int = 0,
    ) -> None:
        super().__init__()
        if similarity not in ("cosine", "bm25"):
            raise ValueError("similarity must be 'cosine' or 'bm25'")
        self.k, self.similarity, self.k1, self.b = k, similarity, k1, b
        self.seed, self.num_threads = seed, num_threads
        self.sim: sp.csr_matrix | None = None

    def fit(self, interactions: sp.csr_matrix) -> Self:
        _, nn = _import_implicit()
        m = _check_interactions(interactions)
        self.n_users, self.n_items = m.shape
        if self.similarity == "bm25":
            model = nn.BM25Recommender(K=self.k, K1=self.k1, B=self.b, num_threads=self.num_threads)
        else:
            model = nn.CosineRecommender(K=self.k, num_threads=self.num_threads)
        perm = np.random.default_rng(self.seed).permutation(self.n_items)  # new column j = item perm[j]
        with warnings.catch_warnings():  # implicit warns about its own BM25 weighting returning COO
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model.fit(sp.csr_matrix(m[:, perm]), show_progress=False)
        inv = np.argsort(perm)  # column of item i in the shuffled order
        shuffled = sp.csr_matrix(model.similarity, dtype=np.float32)
        self.sim = sp.csr_matrix(shuffled[inv][:, inv])
        self.sim.sort_indices()
        return self

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        self._check_fitted()
        if history is None:
            raise ValueError("item-kNN scores from the users' history: pass history")
        assert self.sim is not None
        h = sp.csr_matrix(history, dtype=np.float32)
        return np.asarray((h @ self.sim).toarray(), dtype=np.float32)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "similarity": self.similarity, "seed": self.seed}
        if self.similarity == "bm25":
            out.update(k1=self.k1, b=self.b)
        return out


class ALS(Recommender):
    """Implicit-feedback matrix factorisation (implicit's ``AlternatingLeastSquares``, CPU, float32).

    Confidence ``1 + alpha * r`` (implicit scales the matrix by ``alpha``); ``score = U[u] @ V.T`` with the
    user factors learned at fit time (``history`` is ignored: refit to include new interactions).

    Args:
        factors: latent dimensions.
        regularization: L2 weight.
        alpha: confidence scale of observed interactions.
        iterations: ALS sweeps.
        seed: seed of the factor initialisation.
        num_threads: threads for fitting (0 = all cores).
    """

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
        num_threads: int = 0,
    ) -> None:
        super().__init__()
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed, self.num_threads = iterations, seed, num_threads
        self.user_factors = np.zeros((0, factors), dtype=np.float32)
        self.item_factors = np.zeros((0, factors), dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix) -> Self:
        als, _ = _import_implicit()
        from threadpoolctl import threadpool_limits

        m = _check_interactions(interactions)
        self.n_users, self.n_items = m.shape
        with threadpool_limits(
            1, "blas"
        ):  # implicit's own threads do the work; BLAS threads would fight them
            model = als.AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                dtype=np.float32,
                random_state=self.seed,
                num_threads=self.num_threads,
            )
            model.fit(m, show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        return self

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        self._check_fitted()
        u = np.asarray(user_indices, dtype=np.int64)
        if u.size and (u.min() < 0 or u.max() >= self.n_users):
            raise IndexError("user index outside the fitted users")
        return self.user_factors[u] @ self.item_factors.T

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "seed": self.seed,
        }
