"""Item-to-item sources: "bought together / viewed after" (co-occurrence) and "similar items" (text).

Both score a user from their recent history: each history item ``j`` gets a weight ``w_j`` (event type
x recency, :func:`~shelfwise.retrieval.history.weigh_history`) and proposes its neighbours ``i`` with
``w_j * S[j, i]``; a candidate's score is the sum (or max) over the history, and its *anchor* — the
history item it came from, for explanations such as "because you viewed X" — is the ``j`` that
contributed most. Only neighbours of the history are proposed (zero scores are not candidates).

* :class:`CoOccurrenceSource` (``"item2item"``): ``S`` from pairs of items close together in users'
  sequences (:func:`~shelfwise.retrieval.neighbours.sequence_cooccurrence`), or, with ``window=None``,
  from whole histories via :class:`~shelfwise.retrieval.baselines.ItemKNN`.
* :class:`TextSimilaritySource` (``"item2item_text"``): ``S`` = top-k cosine between item text vectors
  (:mod:`shelfwise.retrieval.text_vectors`); items nobody bought yet have neighbours too, and items added
  after fitting (:meth:`TextSimilaritySource.add_items`) are reachable at once.

The co-occurrence defaults were chosen for next-item prediction on Amazon Beauty: mostly directed
(``backward_weight=0.25``), short recency (half-life of one event). Part of their strength there comes
from the file's order of same-day reviews, which is consistent across users (see the order diagnostics
in ``benchmarks/results/sources.md``); for a symmetric "bought together" slot use ``backward_weight=1``.

Example:
    >>> src = CoOccurrenceSource().fit(data)  # doctest: +SKIP
    >>> c = src.candidates(UserContext(history=np.array([3, 8], np.int32)), k=5)  # doctest: +SKIP
    >>> c.items, c.anchors  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoded.data import RecommendData
from shelfwise.encoders.base import Encoder, normalize_rows
from shelfwise.retrieval.base import Candidates, UserContext
from shelfwise.retrieval.baselines import ItemKNN
from shelfwise.retrieval.history import EventLog, RecencyConfig, weigh_history
from shelfwise.retrieval.neighbours import normalise_cooccurrence, sequence_cooccurrence, vector_neighbours
from shelfwise.retrieval.persist import csr_arrays, csr_from_arrays, load_state, save_state
from shelfwise.retrieval.scoring import (
    ScoredSource,
    aggregate,
    contributions,
    history_rows,
    single_thread_blas,
    top_k_per_row,
)
from shelfwise.retrieval.text_vectors import ItemTextVectors, TextVectorConfig

__all__ = [
    "CoOccurrenceConfig",
    "CoOccurrenceSource",
    "NeighbourSource",
    "TextSimilarityConfig",
    "TextSimilaritySource",
]

log = logging.getLogger(__name__)


class NeighbourSource(ScoredSource):
    """Scores users from an item-item neighbour matrix ``sim`` (see the module doc)."""

    sparse_scores = True

    def __init__(self, recency: RecencyConfig, aggregation: Literal["sum", "max"], seed: int) -> None:
        super().__init__(seed)
        self.recency, self.aggregation = recency, aggregation
        self.sim = sp.csr_matrix((0, 0), dtype=np.float32)

    def _set_sim(self, sim: sp.csr_matrix) -> None:
        coo = sp.coo_matrix(sim, dtype=np.float32)
        keep = (coo.row != coo.col) & (coo.data != 0)
        out = sp.csr_matrix(
            (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape, dtype=np.float32
        )
        out.sort_indices()
        self.sim = out
        self._set_items(sim.shape[0])

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)``: aggregated neighbour scores (0 = not proposed)."""
        self._check_fitted()
        return aggregate(history_rows(contexts, self.recency, self.n_items), self.sim, self.aggregation)

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """Top-``k`` neighbours of the history, each with the history item it came from (``anchors``)."""
        self._check_fitted()
        with single_thread_blas():
            scores = self.score_all([context])[0]
        top = self.select(scores, context, k)
        items, weights = weigh_history(context, self.recency)
        inside = (items >= 0) & (items < self.n_items)
        anchors = contributions(items[inside], weights[inside], self.sim, top)
        return Candidates(self.name, top, scores[top].astype(np.float32), anchors)

    def neighbours(self, item: int, k: int) -> Candidates:
        """The ``k`` nearest items of one item ("similar items" / "bought together" slots)."""
        self._check_fitted()
        return self.candidates(UserContext(history=np.array([item], dtype=np.int32)), k)

    def _save(
        self, folder: Path, config: BaseModel, extra_arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        self._check_fitted()
        arrays = {**csr_arrays("sim", self.sim), **(extra_arrays or {})}
        save_state(
            folder, type(self).__name__, config.model_dump(mode="json"), arrays, {"shape": self.sim.shape}
        )

    @staticmethod
    def _read(folder: Path, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray], sp.csr_matrix]:
        manifest, arrays = load_state(folder, kind)
        return manifest, arrays, csr_from_arrays("sim", arrays, manifest["extra"]["shape"])


class CoOccurrenceConfig(BaseModel):
    """Settings of :class:`CoOccurrenceSource` (defaults chosen on Beauty validation, bench_sources.py).

    Attributes:
        window: pairs at most this many positions apart count; ``None`` = whole histories, unordered
            (item-kNN over the user x item matrix, :class:`~shelfwise.retrieval.baselines.ItemKNN`).
        session_gap_minutes: cut sequences at pauses longer than this (real timestamps only).
        backward_weight: weight of "candidate came before the anchor" pairs (1 = symmetric, 0 = only
            what came next).
        distance_decay: a pair ``d`` positions apart counts ``distance_decay ** (d - 1)``.
        normalization: ``count``, ``cosine`` or ``lift`` (:mod:`shelfwise.retrieval.neighbours`).
        alpha: exponent of the anchor's count in ``cosine`` (0.5 = cosine, 1 = conditional probability).
        shrink: added to the normaliser (damps pairs of rare items).
        knn_similarity: item-kNN weighting when ``window`` is ``None``.
        neighbours: neighbours kept per item.
        aggregation: ``sum`` or ``max`` over the history.
        recency: history weighting.
        seed: seed of tie orders.
    """

    model_config = ConfigDict(extra="forbid")

    window: int | None = Field(default=10, ge=1)
    session_gap_minutes: float | None = Field(default=None, gt=0)
    backward_weight: float = Field(default=0.25, ge=0)
    distance_decay: float = Field(default=0.85, gt=0, le=1)
    normalization: Literal["count", "cosine", "lift"] = "cosine"
    alpha: float = Field(default=0.9, ge=0, le=1)
    shrink: float = Field(default=30.0, ge=0)
    knn_similarity: Literal["cosine", "bm25"] = "cosine"
    neighbours: int = Field(default=200, ge=1)
    aggregation: Literal["sum", "max"] = "sum"
    recency: RecencyConfig = Field(default_factory=lambda: RecencyConfig(half_life_events=1.0))
    seed: int = 0


class CoOccurrenceSource(NeighbourSource):
    """Items that co-occur with the user's recent items in other users' sequences.

    Args:
        config: settings.
    """

    name = "item2item"

    def __init__(self, config: CoOccurrenceConfig | None = None) -> None:
        self.config = config or CoOccurrenceConfig()
        super().__init__(self.config.recency, self.config.aggregation, self.config.seed)
        # raw counts behind ``sim`` (windowed mode): what forgetting a shopper subtracts from
        self.counts: sp.csr_matrix | None = None
        self.occurrences: np.ndarray | None = None

    def fit(self, data: RecommendData) -> Self:
        """Count co-occurrences in ``data``'s train + valid sequences and keep each item's neighbours."""
        cfg = self.config
        if cfg.window is None:
            knn = ItemKNN(k=cfg.neighbours + 1, similarity=cfg.knn_similarity, seed=cfg.seed)
            sim = knn.fit(data.ranking.train_valid).sim
            if sim is None:  # pragma: no cover - ItemKNN.fit always sets it
                raise RuntimeError("item-kNN produced no similarity matrix")
            self._set_sim(sim)
            return self
        events = EventLog.from_data(data)
        gap = cfg.session_gap_minutes * 60.0 if cfg.session_gap_minutes is not None else None
        counts, occurrences = sequence_cooccurrence(
            events,
            cfg.window,
            backward_weight=cfg.backward_weight,
            distance_decay=cfg.distance_decay,
            session_gap_seconds=gap,
        )
        self.counts, self.occurrences = counts, occurrences
        self._renormalise()
        log.info("item2item: %d neighbour pairs over %d items", self.sim.nnz, self.n_items)
        return self

    def _renormalise(self) -> None:
        cfg = self.config
        assert self.counts is not None and self.occurrences is not None
        sim = normalise_cooccurrence(
            self.counts, self.occurrences, cfg.normalization, alpha=cfg.alpha, shrink=cfg.shrink
        )
        self._set_sim(top_k_per_row(sim, cfg.neighbours, cfg.seed))

    def can_forget(self) -> bool:
        """Whether :meth:`forget_sequence` can remove one shopper exactly (windowed counts kept, no
        time-based session cuts, which a bare item sequence cannot reproduce)."""
        return self.counts is not None and self.config.session_gap_minutes is None

    def forget_sequence(self, items: np.ndarray) -> int:
        """Subtract the pairs and occurrences one shopper's item sequence (time order) contributed, and
        re-derive the neighbours; returns how many count entries changed.

        Raises:
            ValueError: the source cannot forget (see :meth:`can_forget`).
        """
        if not self.can_forget():
            raise ValueError("this co-occurrence source keeps no raw counts (or cuts sessions by time)")
        assert self.counts is not None and self.occurrences is not None
        seq = np.asarray(items, dtype=np.int32)
        seq = seq[(seq >= 0) & (seq < self.n_items)]
        if not seq.size:
            return 0
        one = EventLog(
            users=np.zeros(seq.size, np.int32),
            items=seq,
            weights=np.ones(seq.size, np.float32),
            times=np.zeros(seq.size),
            bounds=np.array([0, seq.size], np.int64),
            n_items=self.n_items,
        )
        cfg = self.config
        assert cfg.window is not None
        mine, occ = sequence_cooccurrence(
            one, cfg.window, backward_weight=cfg.backward_weight, distance_decay=cfg.distance_decay
        )
        counts = sp.csr_matrix(self.counts - mine, dtype=np.float32)
        counts.data[np.abs(counts.data) < 1e-4] = 0.0  # float32 sums: what only this shopper made is 0
        counts.data = np.maximum(counts.data, 0.0)
        counts.eliminate_zeros()
        self.counts = counts
        self.occurrences = np.maximum(self.occurrences - occ, 0.0)
        self._renormalise()
        return int(mine.nnz)

    def params(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def save(self, folder: Path) -> None:
        """Write config + neighbour matrix (+ the raw counts, for forgetting) (JSON + .npy)."""
        extra = None
        if self.counts is not None and self.occurrences is not None:
            extra = {**csr_arrays("counts", self.counts), "occurrences": self.occurrences}
        self._save(folder, self.config, extra)

    @classmethod
    def load(cls, folder: Path) -> Self:
        """Read what :meth:`save` wrote."""
        manifest, arrays, sim = cls._read(folder, cls.__name__)
        source = cls(CoOccurrenceConfig.model_validate(manifest["config"]))
        source._set_sim(sim)
        if "counts.data" in arrays:
            source.counts = csr_from_arrays("counts", arrays, manifest["extra"]["shape"])
            source.occurrences = arrays["occurrences"].astype(np.float64)
        return source


class TextSimilarityConfig(BaseModel):
    """Settings of :class:`TextSimilaritySource`.

    Attributes:
        text: how item text vectors are made.
        neighbours: neighbours kept per item.
        min_similarity: cosines at or below this are not neighbours.
        aggregation: ``sum`` or ``max`` over the history.
        recency: history weighting.
        seed: seed of tie orders.
    """

    model_config = ConfigDict(extra="forbid")

    text: TextVectorConfig = Field(default_factory=TextVectorConfig)
    neighbours: int = Field(default=100, ge=1)
    min_similarity: float = Field(default=0.5, ge=-1, lt=1)
    aggregation: Literal["sum", "max"] = "sum"
    recency: RecencyConfig = Field(default_factory=lambda: RecencyConfig(half_life_events=0.5))
    seed: int = 0


class TextSimilaritySource(NeighbourSource):
    """Items whose text is closest to the user's recent items (cold items included).

    Args:
        config: settings.
        encoder: encoder to use instead of building ``config.text.encoder``.
        vectors: precomputed ``(n_items, dim)`` unit vectors aligned with the item index (skips encoding).
    """

    name = "item2item_text"

    def __init__(
        self,
        config: TextSimilarityConfig | None = None,
        encoder: Encoder | None = None,
        vectors: np.ndarray | None = None,
    ) -> None:
        self.config = config or TextSimilarityConfig()
        super().__init__(self.config.recency, self.config.aggregation, self.config.seed)
        self.text = ItemTextVectors(self.config.text, encoder)
        self.vectors = vectors
        self._given_vectors = vectors

    def fit(self, data: RecommendData) -> Self:
        """Encode the catalogue (cached) and keep each item's nearest items by cosine."""
        given = self._given_vectors
        if given is not None and given.shape[0] == data.n_items:
            self.vectors = given  # precomputed for this catalogue
        else:
            self.vectors = self.text.encode_items(data.items)
        self.vectors = normalize_rows(self.vectors)
        self._set_sim(
            vector_neighbours(self.vectors, self.config.neighbours, min_similarity=self.config.min_similarity)
        )
        log.info("item2item_text: %d neighbour pairs over %d items", self.sim.nnz, self.n_items)
        return self

    def add_items(self, vectors: np.ndarray) -> np.ndarray:
        """Append new items (their text vectors) to the catalogue; returns their int32 indices.

        Each new item gets its nearest items as neighbours, and is added to theirs (symmetrically), so it
        can be proposed from a history at once, before anybody interacted with it.
        """
        self._check_fitted()
        assert self.vectors is not None
        new = normalize_rows(vectors)
        n_old = self.n_items
        self.vectors = np.vstack([self.vectors, new])
        n = self.vectors.shape[0]
        k, floor = self.config.neighbours, self.config.min_similarity
        to_all = vector_neighbours(
            self.vectors, k, min_similarity=floor, queries=new, show_progress=False
        ).tocoo()
        rows, cols = to_all.row + n_old, to_all.col
        ok = rows != cols
        rows, cols, vals = rows[ok], cols[ok], to_all.data[ok]
        old = sp.csr_matrix((self.sim.data, self.sim.indices, self.sim.indptr), shape=(n_old, n))
        old.resize((n, n))
        extra = sp.csr_matrix((np.r_[vals, vals], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n))
        self._set_sim(old.maximum(extra))
        return np.arange(n_old, n, dtype=np.int32)

    def params(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json", exclude={"text": {"cache_dir"}})

    def save(self, folder: Path) -> None:
        """Write config + neighbour matrix + item vectors (JSON + .npy)."""
        assert self.vectors is not None
        self._save(folder, self.config, {"vectors": self.vectors})

    @classmethod
    def load(cls, folder: Path, encoder: Encoder | None = None) -> Self:
        """Read what :meth:`save` wrote."""
        manifest, arrays, sim = cls._read(folder, cls.__name__)
        config = TextSimilarityConfig.model_validate(manifest["config"])
        source = cls(config, encoder, arrays["vectors"].astype(np.float32))
        source._set_sim(sim)
        return source
