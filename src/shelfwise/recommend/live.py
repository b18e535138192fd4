"""The recommender's live state as an immutable snapshot, and which stored events it already holds.

Requests read :attr:`Recommender.live <shelfwise.recommend.recommender.Recommender>` once and use that
snapshot to the end, so they never take a lock; a writer (``observe``, ``upsert_items``, ``forget_user``,
``catch_up``) builds the next snapshot under the writer lock and swaps it in with one assignment.

:class:`~shelfwise.recommend.applied.AppliedEvents` makes ``observe`` idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from shelfwise.recommend.applied import AppliedEvents
from shelfwise.recommend.catalog import ServingCatalog

__all__ = ["AppliedEvents", "LiveState"]  # AppliedEvents re-exported


@dataclass(frozen=True, eq=False)
class LiveState:
    """One consistent snapshot of what changes while serving; never mutated once published.

    Attributes:
        users: external user id -> dense user index (a forgotten user is absent).
        histories: per user index, int32 items in time order.
        purchases: per user index, items bought after training that the feature state does not cover.
        catalog: the serving catalogue.
    """

    users: Mapping[str, int]
    histories: list[np.ndarray]
    purchases: Mapping[int, frozenset[int]]
    catalog: ServingCatalog
