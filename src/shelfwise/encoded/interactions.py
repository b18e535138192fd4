"""From a :class:`~shelfwise.encoded.splits.Split` of events to what models and rankers consume.

External string ids appear only here, at the edge: :class:`IdIndex` maps them to dense int32 indices
(sorted ids, so the index carries no information about first appearance), :func:`interaction_matrix`
builds float32 CSR user x item matrices, and :class:`RankingData` bundles the fit matrices and the
held-out targets of a leave-one-out or temporal split.

Two training conventions for the test evaluation (see ``benchmarks/bench_beauty_baselines.py``):
``train`` (fit on the train part only, as for validation) and ``train_valid`` (refit on everything but
the test part, the convention that reproduces BENCHMARKS.md section 6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from shelfwise.encoded.splits import Split

__all__ = ["IdIndex", "RankingData", "interaction_matrix", "targets_by_user"]


@dataclass(frozen=True, eq=False)
class IdIndex:
    """A bijection between external ids and dense int32 indices ``0..n-1`` (ids sorted as strings)."""

    ids: np.ndarray

    @classmethod
    def from_values(cls, values: Iterable[object]) -> IdIndex:
        """Index of the distinct values (``None`` is not an id)."""
        distinct = sorted({str(v) for v in values if v is not None})
        return cls(np.asarray(distinct, dtype=object))

    def __len__(self) -> int:
        return int(self.ids.size)

    def encode(self, values: Iterable[object], unknown: int | None = None) -> np.ndarray:
        """int32 indices of ``values``; unknown ids raise ``KeyError`` unless ``unknown`` (e.g. -1) is given."""
        vals = np.asarray([str(v) for v in values], dtype=object)
        if vals.size == 0:
            return np.zeros(0, dtype=np.int32)
        pos = np.searchsorted(self.ids, vals)
        found = (pos < self.ids.size) & (self.ids[np.minimum(pos, self.ids.size - 1)] == vals)
        if not found.all():
            if unknown is None:
                raise KeyError(f"{int((~found).sum())} unknown ids, e.g. {vals[~found][:3].tolist()}")
            pos = np.where(found, pos, unknown)
        return pos.astype(np.int32)

    def decode(self, indices: np.ndarray) -> np.ndarray:
        """External ids of ``indices`` (object array)."""
        return self.ids[np.asarray(indices, dtype=np.int64)]


def interaction_matrix(
    users: np.ndarray,
    items: np.ndarray,
    shape: tuple[int, int],
    weights: np.ndarray | None = None,
    binary: bool = False,
) -> sp.csr_matrix:
    """Float32 CSR ``(n_users, n_items)``: repeated (user, item) pairs are summed (or set to 1 if ``binary``)."""
    w = np.ones(len(users), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    m = sp.csr_matrix((w, (np.asarray(users), np.asarray(items))), shape=shape, dtype=np.float32)
    m.sum_duplicates()
    if binary:
        m.data[:] = 1.0
    m.sort_indices()
    return m


def targets_by_user(users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group held-out (user, item) pairs by user.

    Returns:
        ``(user_indices int32 (n,), targets int64 (n,) )`` when every user has one target, else
        ``(user_indices, targets (n, m))`` padded with ``-1``; users sorted, a user's targets deduplicated.
    """
    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    pairs = np.unique(np.stack([u, i], axis=1), axis=0) if u.size else np.zeros((0, 2), dtype=np.int64)
    uniq, start, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    if counts.size == 0 or counts.max() == 1:
        return uniq.astype(np.int32), pairs[:, 1]
    out = np.full((uniq.size, int(counts.max())), -1, dtype=np.int64)
    col = np.arange(pairs.shape[0]) - np.repeat(start, counts)
    out[np.repeat(np.arange(uniq.size), counts), col] = pairs[:, 1]
    return uniq.astype(np.int32), out


@dataclass(frozen=True, eq=False)
class RankingData:
    """Dense-id matrices and targets of a split, ready for :func:`~shelfwise.metrics.ranking.rank_targets`.

    Attributes:
        users: user id index (every user of the table).
        items: item id index (every item of the table: the ranked catalogue).
        train: float32 CSR ``(n_users, n_items)`` of the train part (fit matrix for validation).
        train_valid: train + valid parts (fit matrix for the test evaluation under ``train_valid``).
        valid_users: int32 users with a validation target; ``valid_targets`` their target(s).
        test_users: int32 users with a test target; ``test_targets`` their target(s).
    """

    users: IdIndex
    items: IdIndex
    train: sp.csr_matrix
    train_valid: sp.csr_matrix
    valid_users: np.ndarray
    valid_targets: np.ndarray
    test_users: np.ndarray
    test_targets: np.ndarray

    @classmethod
    def from_split(cls, split: Split, binary: bool = False) -> RankingData:
        """Encode a split of an events table (columns ``user_id``, ``item_id``)."""
        table = split.table
        user_ids = table.column("user_id").to_pylist()
        item_ids = table.column("item_id").to_pylist()
        users, items = IdIndex.from_values(user_ids), IdIndex.from_values(item_ids)
        u_all = users.encode(user_ids)
        i_all = items.encode(item_ids, unknown=-1)
        shape = (len(users), len(items))

        def part(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            keep = rows[i_all[rows] >= 0]
            return u_all[keep], i_all[keep]

        tr_u, tr_i = part(split.train)
        va_u, va_i = part(split.valid)
        te_u, te_i = part(split.test)
        train = interaction_matrix(tr_u, tr_i, shape, binary=binary)
        train_valid = interaction_matrix(
            np.concatenate([tr_u, va_u]), np.concatenate([tr_i, va_i]), shape, binary=binary
        )
        valid_users, valid_targets = targets_by_user(va_u, va_i)
        test_users, test_targets = targets_by_user(te_u, te_i)
        return cls(users, items, train, train_valid, valid_users, valid_targets, test_users, test_targets)
