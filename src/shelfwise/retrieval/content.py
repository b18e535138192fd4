"""Text-vector sources: user profile -> item, and content-based retrieval for cold-start users and items.

Both score ``cos(user vector, item text vector)`` over the catalogue's text vectors
(:mod:`shelfwise.retrieval.text_vectors`); they differ in where the user vector comes from.

* :class:`ProfileSource` (``"profile_text"``): a *user vector provider* maps a request to a vector in
  the item text space. The default, :class:`DecayedMeanProfile`, is the weighted, recency-decayed mean of
  the history's item vectors (event type x half-life in events and/or days, see
  :class:`~shelfwise.retrieval.history.RecencyConfig`). The profiles module can pass its own provider
  (any ``callable(context) -> vector | None``), e.g. the long-term interest vector it maintains online.
* :class:`ContentSource` (``"content"``): the cold-start source. Its user vector blends, each part
  unit-normalised, the search query (encoded as a query), the current session's items and the history
  profile, so it works for a shopper with a session or a query and no past. Items can be added after
  fitting (:meth:`ContentSource.add_items`): a brand-new item is reachable through its text vector
  before anybody interacted with it.

A request with nothing to go on (no history, session or query) gets no candidates: the pipeline falls
back to popular / trending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoded.data import RecommendData
from shelfwise.encoders.base import Encoder, normalize_rows
from shelfwise.retrieval.base import Candidates, UserContext
from shelfwise.retrieval.history import RecencyConfig, weigh_history
from shelfwise.retrieval.persist import load_state, save_state
from shelfwise.retrieval.scoring import ScoredSource, single_thread_blas
from shelfwise.retrieval.text_vectors import ItemTextVectors, TextVectorConfig

__all__ = [
    "ContentConfig",
    "ContentSource",
    "DecayedMeanProfile",
    "ProfileSource",
    "TextProfileConfig",
    "UserVectorProvider",
]

log = logging.getLogger(__name__)

#: Maps a request to a user vector in the item text space (``None`` = nothing known).
UserVectorProvider = Callable[[UserContext], np.ndarray | None]


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


class DecayedMeanProfile:
    """The weighted, recency-decayed mean of the history's item vectors, unit length.

    Args:
        vectors: float32 ``(n_items, dim)`` item text vectors.
        recency: how history events are weighted.
    """

    def __init__(self, vectors: np.ndarray, recency: RecencyConfig) -> None:
        self.vectors, self.recency = vectors, recency

    def __call__(self, context: UserContext) -> np.ndarray | None:
        items, weights = weigh_history(context, self.recency)
        inside = (items >= 0) & (items < self.vectors.shape[0])
        if not inside.any():
            return None
        v = _unit(weights[inside] @ self.vectors[items[inside]])
        return v if np.any(v) else None


class TextProfileConfig(BaseModel):
    """Settings of :class:`ProfileSource`.

    Attributes:
        text: how item text vectors are made.
        recency: history weighting of the default provider.
        seed: seed of tie orders.
    """

    model_config = ConfigDict(extra="forbid")

    text: TextVectorConfig = Field(default_factory=TextVectorConfig)
    recency: RecencyConfig = Field(
        default_factory=lambda: RecencyConfig(half_life_events=1.0, half_life_days=30.0)
    )
    seed: int = 0


class ProfileSource(ScoredSource):
    """Scores ``cos(provider(context), item vector)``.

    Args:
        config: settings.
        encoder: encoder to use instead of building ``config.text.encoder``.
        vectors: precomputed ``(n_items, dim)`` unit vectors aligned with the item index (skips encoding).
        provider: user vector provider; default :class:`DecayedMeanProfile` (built at fit).
    """

    name = "profile_text"

    def __init__(
        self,
        config: TextProfileConfig | None = None,
        encoder: Encoder | None = None,
        vectors: np.ndarray | None = None,
        provider: UserVectorProvider | None = None,
    ) -> None:
        self.config = config or TextProfileConfig()
        super().__init__(self.config.seed)
        self.text = ItemTextVectors(self.config.text, encoder)
        self.vectors = vectors
        self._given_vectors = vectors
        self._given_provider = provider
        self.provider: UserVectorProvider | None = provider

    def fit(self, data: RecommendData) -> Self:
        """Encode the catalogue's texts (cached); nothing else is learned."""
        given = self._given_vectors
        if given is not None and given.shape[0] == data.n_items:
            self.vectors = given  # precomputed for this catalogue
        else:
            self.vectors = self.text.encode_items(data.items)
        self._ready()
        return self

    def _ready(self) -> None:
        assert self.vectors is not None
        self.vectors = normalize_rows(self.vectors)
        self._set_items(self.vectors.shape[0])
        if self._given_provider is None:
            self.provider = DecayedMeanProfile(self.vectors, self.config.recency)

    def user_vector(self, context: UserContext) -> np.ndarray | None:
        """The request's unit user vector, or ``None`` when nothing is known."""
        self._check_fitted()
        assert self.provider is not None
        v = self.provider(context)
        return None if v is None else _unit(np.asarray(v, dtype=np.float32))

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)`` cosines (rows of zeros for requests with no vector)."""
        self._check_fitted()
        assert self.vectors is not None
        users = np.zeros((len(contexts), self.vectors.shape[1]), dtype=np.float32)
        with single_thread_blas():  # many tiny products: BLAS threads only add overhead
            for r, ctx in enumerate(contexts):
                v = self.user_vector(ctx)
                if v is not None:
                    users[r] = v
        return np.asarray(users @ self.vectors.T, dtype=np.float32)

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """The ``k`` items closest to the user vector (none when the request has no vector)."""
        if self.user_vector(context) is None:
            empty = np.zeros(0, dtype=np.int32)
            return Candidates(self.name, empty, np.zeros(0, dtype=np.float32))
        return super().candidates(context, k)

    def params(self) -> dict[str, Any]:
        out = self.config.model_dump(mode="json", exclude={"text": {"cache_dir"}})
        out["provider"] = (
            "decayed_mean" if self._given_provider is None else type(self._given_provider).__name__
        )
        return out

    def save(self, folder: Path) -> None:
        """Write config + item vectors (JSON + .npy); a custom provider is not saved."""
        self._check_fitted()
        assert self.vectors is not None
        save_state(
            folder, type(self).__name__, self.config.model_dump(mode="json"), {"vectors": self.vectors}
        )

    @classmethod
    def load(
        cls, folder: Path, encoder: Encoder | None = None, provider: UserVectorProvider | None = None
    ) -> Self:
        """Read what :meth:`save` wrote."""
        manifest, arrays = load_state(folder, cls.__name__)
        config_cls = ContentConfig if issubclass(cls, ContentSource) else TextProfileConfig
        source = cls(config_cls.model_validate(manifest["config"]), encoder, arrays["vectors"], provider)
        source._ready()
        return source


class ContentConfig(TextProfileConfig):
    """Settings of :class:`ContentSource`: weights of the parts of the user vector.

    Attributes:
        query_weight: weight of the encoded search query.
        session_weight: weight of the mean vector of the current session's items.
        history_weight: weight of the history profile (the provider's vector).
    """

    query_weight: float = Field(default=1.0, ge=0)
    session_weight: float = Field(default=1.0, ge=0)
    history_weight: float = Field(default=1.0, ge=0)


class ContentSource(ProfileSource):
    """Cold-start retrieval by text: query + session + history -> nearest items (see the module doc)."""

    name = "content"
    config: ContentConfig

    def __init__(
        self,
        config: ContentConfig | None = None,
        encoder: Encoder | None = None,
        vectors: np.ndarray | None = None,
        provider: UserVectorProvider | None = None,
    ) -> None:
        super().__init__(config or ContentConfig(), encoder, vectors, provider)
        self._queries: dict[str, np.ndarray] = {}

    def _query_vector(self, query: str) -> np.ndarray:
        if query not in self._queries:
            if len(self._queries) > 1024:
                self._queries.clear()
            self._queries[query] = self.text.encode_query(query)
        return self._queries[query]

    def user_vector(self, context: UserContext) -> np.ndarray | None:
        """Unit blend of the query, session and history vectors present in the request."""
        self._check_fitted()
        assert self.vectors is not None and self.provider is not None
        cfg = self.config
        parts: list[np.ndarray] = []
        if context.query and context.query.strip() and cfg.query_weight > 0:
            parts.append(cfg.query_weight * _unit(self._query_vector(context.query.strip())))
        session = np.asarray(context.session, dtype=np.int64)
        session = session[(session >= 0) & (session < self.vectors.shape[0])]
        if session.size and cfg.session_weight > 0:
            parts.append(cfg.session_weight * _unit(self.vectors[session].mean(axis=0)))
        if cfg.history_weight > 0:
            profile = self.provider(context)
            if profile is not None:
                parts.append(cfg.history_weight * _unit(np.asarray(profile, dtype=np.float32)))
        if not parts:
            return None
        v = _unit(np.sum(parts, axis=0))
        return v if np.any(v) else None

    def add_items(self, texts: Sequence[str] | None = None, vectors: np.ndarray | None = None) -> np.ndarray:
        """Append new items by text (encoded as documents) or by vector; returns their int32 indices."""
        self._check_fitted()
        assert self.vectors is not None
        if vectors is None:
            if texts is None:
                raise ValueError("pass the new items' texts or vectors")
            vectors = self.text.encode_texts(list(texts))
        n_old = self.vectors.shape[0]
        self.vectors = np.vstack([self.vectors, normalize_rows(vectors)])
        self._ready()
        return np.arange(n_old, self.vectors.shape[0], dtype=np.int32)
