"""Named models the experiment runner can evaluate: ``--models popularity,als,itemknn,...``.

A recommendation model here is anything with ``name``, ``fit(data, part)``, ``score(users, history)`` and
``params()``; it is built from the settings tree, so ``--set models.als.factors=128`` reaches it.
New models register with :func:`register_recommender` in an adapter module of this package (the
harness imports downward; models never import the harness), listed in ``_PLUGINS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import Part, RecommendData

__all__ = [
    "EvalRecommender",
    "Part",
    "RecommenderFactory",
    "build_recommender",
    "recommender_names",
    "register_recommender",
]


class EvalRecommender(Protocol):
    """What the runner needs of a recommendation model."""

    name: str

    def fit(self, data: RecommendData, part: Part) -> None:
        """Learn from ``data`` restricted to ``part`` (``train`` for validation, ``train_valid`` for test)."""

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(users), n_items)`` scores."""
        ...

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, for the report."""
        ...


RecommenderFactory = Callable[[Settings], EvalRecommender]
_RECOMMENDERS: dict[str, RecommenderFactory] = {}


def register_recommender(name: str) -> Callable[[RecommenderFactory], RecommenderFactory]:
    """Decorator registering a factory under ``name``."""

    def deco(factory: RecommenderFactory) -> RecommenderFactory:
        _RECOMMENDERS[name] = factory
        return factory

    return deco


def recommender_names() -> list[str]:
    """Every registered recommendation model name."""
    _load_plugins()
    return sorted(_RECOMMENDERS)


def build_recommender(name: str, settings: Settings) -> EvalRecommender:
    """Build the named model; raises ``ValueError`` listing the known names."""
    _load_plugins()
    try:
        factory = _RECOMMENDERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(_RECOMMENDERS))}") from None
    return factory(settings)


_PLUGINS = (
    "shelfwise.evaluation.baseline_models",
    "shelfwise.evaluation.profile_model",
    "shelfwise.evaluation.source_models",
    "shelfwise.evaluation.ranker_model",
    "shelfwise.evaluation.shelfwise_model",
)


def _load_plugins() -> None:
    """Import the modules that register models (kept lazy so heavy libraries load only when used)."""
    import importlib

    for module in _PLUGINS:
        importlib.import_module(module)
