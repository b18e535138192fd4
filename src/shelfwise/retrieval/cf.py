"""Collaborative filtering as a candidate source: implicit ALS, with fold-in for users it never saw.

:class:`ALSSource` wraps :class:`~shelfwise.retrieval.baselines.ALS` (implicit's CPU ALS). A user seen
at fit time is scored with their learned factors; a user it never saw (``user_index == -1``, a new
shopper, or one registered after the last fit) is *folded in*: their factors are solved from the request's
history against the fixed item factors, the same least-squares step ALS itself alternates::

    x_u = (Y^T Y + Y^T (C_u - I) Y + lambda I)^-1  Y^T C_u p_u,     C_u = alpha * r_u (implicit's scaling)

which is what ``implicit``'s ``recalculate_user`` computes (checked against it in the tests). With
``fold_in="always"`` every request is folded in from its history, so events since the last fit count.

Example:
    >>> src = ALSSource(ALSSourceConfig(factors=64)).fit(data)  # doctest: +SKIP
    >>> src.candidates(UserContext(history=np.array([5, 9], np.int32)), k=20)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.baselines import ALS
from shelfwise.retrieval.persist import load_state, save_state
from shelfwise.retrieval.scoring import ScoredSource, single_thread_blas

__all__ = ["ALSSource", "ALSSourceConfig"]

log = logging.getLogger(__name__)


class ALSSourceConfig(BaseModel):
    """Settings of :class:`ALSSource` (defaults = the tuned ALS baseline of BENCHMARKS.md section 6).

    Attributes:
        factors: latent dimensions.
        regularization: L2 weight ``lambda``.
        alpha: confidence scale of observed interactions.
        iterations: ALS sweeps.
        fold_in: ``"unknown"`` folds in only users the model never saw; ``"always"`` folds in every
            request from its history.
        use_event_weights: fold in with the context's event weights as ``r`` (purchase > view) instead of
            event counts; the model itself is fitted on event counts (``train_valid``) either way.
        seed: seed of the factor initialisation.
        num_threads: threads for fitting (0 = all cores).
    """

    model_config = ConfigDict(extra="forbid")

    factors: int = Field(default=256, ge=1)
    regularization: float = Field(default=10.0, ge=0)
    alpha: float = Field(default=40.0, gt=0)
    iterations: int = Field(default=15, ge=1)
    fold_in: Literal["unknown", "always"] = "unknown"
    use_event_weights: bool = False
    seed: int = 0
    num_threads: int = Field(default=0, ge=0)


class ALSSource(ScoredSource):
    """Implicit ALS: ``score(u, i) = x_u . y_i`` (see the module doc).

    Args:
        config: settings.
    """

    name = "als"

    def __init__(self, config: ALSSourceConfig | None = None) -> None:
        self.config = config or ALSSourceConfig()
        super().__init__(self.config.seed)
        self.user_factors = np.zeros((0, self.config.factors), dtype=np.float32)
        self.item_factors = np.zeros((0, self.config.factors), dtype=np.float32)
        self._gram: np.ndarray = np.zeros((0, 0), dtype=np.float64)
        self._gram_inv: np.ndarray = np.zeros((0, 0), dtype=np.float64)
        self._y64: np.ndarray = np.zeros((0, self.config.factors), dtype=np.float64)

    def fit(self, data: RecommendData) -> Self:
        """Fit ALS on the train + valid interaction counts of ``data``."""
        cfg = self.config
        model = ALS(
            factors=cfg.factors,
            regularization=cfg.regularization,
            alpha=cfg.alpha,
            iterations=cfg.iterations,
            seed=cfg.seed,
            num_threads=cfg.num_threads,
        ).fit(data.ranking.train_valid)
        self.set_factors(model.user_factors, model.item_factors)
        log.info(
            "als: %d users x %d items, %d factors", self.user_factors.shape[0], self.n_items, cfg.factors
        )
        return self

    def set_factors(self, users: np.ndarray, items: np.ndarray) -> None:
        """Use given factors (e.g. another source's, or a model trained elsewhere) instead of fitting."""
        self.user_factors = np.ascontiguousarray(users, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(items, dtype=np.float32)
        y = self.item_factors.astype(np.float64)
        self._y64 = y
        self._gram = y.T @ y + self.config.regularization * np.eye(y.shape[1])
        self._gram_inv = np.linalg.inv(self._gram)
        self._set_items(self.item_factors.shape[0])

    def _confidences(self, context: UserContext) -> tuple[np.ndarray, np.ndarray]:
        """Distinct history items and their ``alpha * r`` confidences."""
        items = np.asarray(context.history, dtype=np.int64)
        use = self.config.use_event_weights and context.weights is not None
        w = np.asarray(context.weights, dtype=np.float64) if use else np.ones(items.size)
        inside = (items >= 0) & (items < self.n_items)
        uniq, inverse = np.unique(items[inside], return_inverse=True)
        r = np.bincount(inverse, weights=w[inside], minlength=uniq.size)
        return uniq, self.config.alpha * r

    def fold_in(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), factors)`` user factors solved from each context's history.

        ``A = G + U D U^T`` with ``G = Y^T Y + lambda I`` (shared), ``U`` the history items' factors and
        ``D = diag(c - 1)``: a history of ``h`` items is a rank-``h`` update of ``G``, so the solve uses
        the Woodbury identity with the precomputed ``G^-1`` (an ``h x h`` system per user instead of
        ``factors x factors``); histories longer than the factors are solved directly.
        """
        self._check_fitted()
        f = self.item_factors.shape[1]
        out = np.zeros((len(contexts), f), dtype=np.float32)
        with single_thread_blas():  # many tiny products: BLAS threads only add overhead
            for r, ctx in enumerate(contexts):
                items, conf = self._confidences(ctx)
                if items.size:
                    out[r] = self._solve(self._y64[items], conf)
        return out

    def _solve(self, u_rows: np.ndarray, conf: np.ndarray) -> np.ndarray:
        """``x = (G + U^T diag(c - 1) U)^-1 U^T c`` for one user (``u_rows``: h x factors)."""
        b = conf @ u_rows
        d = conf - 1.0
        if u_rows.shape[0] >= u_rows.shape[1]:
            return np.asarray(np.linalg.solve(self._gram + u_rows.T @ (d[:, None] * u_rows), b))
        z = self._gram_inv @ b
        w = self._gram_inv @ u_rows.T  # f x h
        m = np.eye(d.size) + d[:, None] * (u_rows @ w)  # I + D U^T G^-1 U
        return np.asarray(z - w @ np.linalg.solve(m, d * (u_rows @ z)))

    def user_vectors(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), factors)``: learned factors, or folded in (see ``config.fold_in``)."""
        self._check_fitted()
        idx = np.array([c.user_index for c in contexts], dtype=np.int64)
        known = (idx >= 0) & (idx < self.user_factors.shape[0])
        if self.config.fold_in == "always":
            known[:] = False
        out = np.zeros((len(contexts), self.item_factors.shape[1]), dtype=np.float32)
        out[known] = self.user_factors[idx[known]]
        unknown = np.flatnonzero(~known)
        if unknown.size:
            out[unknown] = self.fold_in([contexts[i] for i in unknown])
        return out

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)`` dot products with the item factors."""
        return self.user_vectors(contexts) @ self.item_factors.T

    def params(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def save(self, folder: Path) -> None:
        """Write config + factors (JSON + .npy)."""
        self._check_fitted()
        arrays = {"user_factors": self.user_factors, "item_factors": self.item_factors}
        save_state(folder, type(self).__name__, self.params(), arrays)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read what :meth:`save` wrote."""
        manifest, arrays = load_state(folder, cls.__name__)
        source = cls(ALSSourceConfig.model_validate(manifest["config"]))
        source.set_factors(arrays["user_factors"], arrays["item_factors"])
        return source
