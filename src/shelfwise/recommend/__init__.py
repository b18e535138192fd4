"""shelfwise.recommend: the full recommendation pipeline, one object for evaluation, CLI and HTTP API.

::

    report = train_recommender(store, settings)          # `shelfwise train`
    rec = Recommender.load(store, settings)              # loaded once
    resp = rec.recommend(RecommendRequest(user_id="u1", slot="home", k=10))
    shown = [(item.item_id, item.score, item.reason) for item in resp.items]

Names are imported lazily: the settings tree imports :mod:`shelfwise.recommend.config`, and the rest of the
package imports the settings tree.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "NotTrainedError",
    "RecommendRequest",
    "RecommendResponse",
    "RecommendSettings",
    "RecommendedItem",
    "Recommender",
    "train_recommender",
]

_WHERE = {
    "NotTrainedError": "shelfwise.recommend.types",
    "RecommendRequest": "shelfwise.recommend.types",
    "RecommendResponse": "shelfwise.recommend.types",
    "RecommendedItem": "shelfwise.recommend.types",
    "RecommendSettings": "shelfwise.recommend.config",
    "Recommender": "shelfwise.recommend.recommender",
    "train_recommender": "shelfwise.recommend.train",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
