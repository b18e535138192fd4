"""Per-user feature state: the (user, item) funnel and item-to-next-item transitions.

Like :mod:`shelfwise.ranking.state`, each class has a vectorised :meth:`fit` over a batch of events and an
O(row) :meth:`update` for one event that give the same state (tested), and a lookup the features call at
request time.

* :class:`UserItemFunnel` — for each user, the items they touched with counts per event type and the first /
  last time, plus per-user totals. Rows are kept per user, sorted by item, so a lookup is a binary search.
* :class:`Transitions` — how often item ``j`` came right after item ``i`` in a user's event stream
  (consecutive events on the same item count once: view -> cart -> purchase of one item is one step).
  Batch counts live in a CSR matrix; online increments go to a small overlay until :meth:`compact`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.ranking.events import TYPE_INDEX, TYPES, EventBatch, StateEvent

__all__ = ["Transitions", "UserItemFunnel"]

_N_TYPES = len(TYPES)


class UserItemFunnel:
    """Per (user, item): event counts by type, first and last time; per user: totals and last time."""

    def __init__(self, n_users: int) -> None:
        self.user_counts = np.zeros((n_users, _N_TYPES), dtype=np.float32)
        self.user_last = np.full(n_users, np.nan)
        self._items: list[np.ndarray] = [np.zeros(0, dtype=np.int32) for _ in range(n_users)]
        self._counts: list[np.ndarray] = [np.zeros((0, _N_TYPES), dtype=np.float32) for _ in range(n_users)]
        self._first: list[np.ndarray] = [np.zeros(0) for _ in range(n_users)]
        self._last: list[np.ndarray] = [np.zeros(0) for _ in range(n_users)]

    @property
    def n_users(self) -> int:
        """Users with a row (grows when an unseen user index arrives)."""
        return len(self._items)

    def _grow(self, n_users: int) -> None:
        extra = n_users - self.n_users
        if extra <= 0:
            return
        self.user_counts = np.vstack([self.user_counts, np.zeros((extra, _N_TYPES), dtype=np.float32)])
        self.user_last = np.concatenate([self.user_last, np.full(extra, np.nan)])
        self._items += [np.zeros(0, dtype=np.int32) for _ in range(extra)]
        self._counts += [np.zeros((0, _N_TYPES), dtype=np.float32) for _ in range(extra)]
        self._first += [np.zeros(0) for _ in range(extra)]
        self._last += [np.zeros(0) for _ in range(extra)]

    def fit(self, batch: EventBatch) -> UserItemFunnel:
        """Add a batch of events (vectorised per (user, item) pair)."""
        if not len(batch):
            return self
        self._grow(int(batch.users.max()) + 1)
        empty = np.array([a.size == 0 for a in self._items], dtype=bool)
        fresh = empty[batch.users]
        _merge_new_users(self, batch.take(fresh))
        for event in batch.take(~fresh):  # users with rows already (an incremental fit): one by one
            self.update(event)
        return self

    def update(self, event: StateEvent) -> None:
        """Add one event."""
        u, i, ty, t = event.user, event.item, TYPE_INDEX[event.type], event.timestamp
        self._grow(u + 1)
        self.user_counts[u, ty] += 1.0
        self.user_last[u] = np.fmax(self.user_last[u], t)
        items = self._items[u]
        k = int(np.searchsorted(items, i))
        if k == items.size or items[k] != i:
            self._items[u] = np.insert(items, k, i).astype(np.int32)
            self._counts[u] = np.insert(self._counts[u], k, 0.0, axis=0)
            self._first[u] = np.insert(self._first[u], k, t)
            self._last[u] = np.insert(self._last[u], k, t)
        self._counts[u][k, ty] += 1.0
        self._first[u][k] = min(self._first[u][k], t)
        self._last[u][k] = max(self._last[u][k], t)

    def lookup(self, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(counts (n, n_types) float32, first (n,), last (n,))`` of ``user`` on ``items`` (0 / NaN if unseen)."""
        n = len(items)
        counts = np.zeros((n, _N_TYPES), dtype=np.float32)
        first, last = np.full(n, np.nan), np.full(n, np.nan)
        if user < 0 or user >= self.n_users or self._items[user].size == 0:
            return counts, first, last
        mine = self._items[user]
        pos = np.minimum(np.searchsorted(mine, items), mine.size - 1)
        hit = mine[pos] == items
        counts[hit] = self._counts[user][pos[hit]]
        first[hit] = self._first[user][pos[hit]]
        last[hit] = self._last[user][pos[hit]]
        return counts, first, last

    def user_items(self, user: int) -> np.ndarray:
        """int32 items ``user`` touched (sorted)."""
        return self._items[user] if 0 <= user < self.n_users else np.zeros(0, dtype=np.int32)

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat (CSR-like) arrays, for ``np.savez``."""
        sizes = np.array([a.size for a in self._items], dtype=np.int64)
        return {
            "indptr": np.concatenate([[0], np.cumsum(sizes)]),
            "items": np.concatenate(self._items) if self._items else np.zeros(0, np.int32),
            "counts": np.vstack(self._counts) if self._counts else np.zeros((0, _N_TYPES), np.float32),
            "first": np.concatenate(self._first) if self._first else np.zeros(0),
            "last": np.concatenate(self._last) if self._last else np.zeros(0),
            "user_counts": self.user_counts,
            "user_last": self.user_last,
        }

    def load_arrays(self, arrays: Any) -> None:
        """Inverse of :meth:`arrays`."""
        ptr = np.asarray(arrays["indptr"], dtype=np.int64)
        cuts = ptr[1:-1]
        self._items = [a.astype(np.int32) for a in np.split(np.asarray(arrays["items"]), cuts)]
        self._counts = [a.astype(np.float32) for a in np.split(np.asarray(arrays["counts"]), cuts)]
        self._first = list(np.split(np.asarray(arrays["first"], dtype=np.float64), cuts))
        self._last = list(np.split(np.asarray(arrays["last"], dtype=np.float64), cuts))
        self.user_counts = np.asarray(arrays["user_counts"], dtype=np.float32)
        self.user_last = np.asarray(arrays["user_last"], dtype=np.float64)


def _merge_new_users(funnel: UserItemFunnel, batch: EventBatch) -> None:
    """Vectorised :meth:`UserItemFunnel.fit` of events of users who have no rows yet."""
    u, i, t = batch.users.astype(np.int64), batch.items.astype(np.int64), batch.times
    ty = batch.types.astype(np.int64)
    if not u.size:
        return
    np.add.at(funnel.user_counts, (u, ty), 1.0)
    last_u = np.full(funnel.n_users, -np.inf)
    np.maximum.at(last_u, u, t)
    funnel.user_last = np.fmax(funnel.user_last, np.where(np.isinf(last_u), np.nan, last_u))
    order = np.lexsort((i, u))
    u, i, ty, t = u[order], i[order], ty[order], t[order]
    new_pair = np.ones(u.size, dtype=bool)
    new_pair[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    pair = np.cumsum(new_pair) - 1
    starts = np.flatnonzero(new_pair)
    n_pairs = starts.size
    counts = np.bincount(pair * _N_TYPES + ty, minlength=n_pairs * _N_TYPES).reshape(n_pairs, _N_TYPES)
    first = np.minimum.reduceat(t, starts)
    last = np.maximum.reduceat(t, starts)
    pu, pi = u[starts], i[starts]
    bounds = np.searchsorted(pu, np.arange(funnel.n_users + 1))
    for user in np.unique(pu):
        a, b = bounds[user], bounds[user + 1]
        funnel._items[user] = pi[a:b].astype(np.int32)
        funnel._counts[user] = counts[a:b].astype(np.float32)
        funnel._first[user] = first[a:b].astype(np.float64)
        funnel._last[user] = last[a:b].astype(np.float64)


class Transitions:
    """Counts of item ``j`` following item ``i`` in users' event streams, and each user's last item."""

    def __init__(self, n_items: int, n_users: int) -> None:
        self.n_items = n_items
        self.matrix = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        self.out_degree = np.zeros(n_items, dtype=np.float32)
        self.in_degree = np.zeros(n_items, dtype=np.float32)
        self._csc: sp.csc_matrix | None = None
        self.last_item = np.full(n_users, -1, dtype=np.int32)
        self._overlay: dict[int, dict[int, float]] = {}

    def fit(self, batch: EventBatch) -> Transitions:
        """Add the transitions of a batch (each user's stream continues from their last item)."""
        if not len(batch):
            return self
        self._grow(int(batch.users.max()) + 1)
        order = np.lexsort((np.arange(len(batch)), batch.users))
        u, i = batch.users[order].astype(np.int64), batch.items[order].astype(np.int64)
        starts = np.ones(u.size, dtype=bool)
        starts[1:] = u[1:] != u[:-1]
        prev = np.empty_like(i)
        prev[1:] = i[:-1]
        prev[starts] = self.last_item[u[starts]]  # continue each stream from the state's last item
        step = (prev >= 0) & (prev != i)
        add = sp.csr_matrix(
            (np.ones(int(step.sum()), dtype=np.float32), (prev[step], i[step])),
            shape=(self.n_items, self.n_items),
        )
        add.sum_duplicates()
        self.compact()
        self.matrix = sp.csr_matrix(self.matrix + add, dtype=np.float32)
        self.matrix.sort_indices()
        self.out_degree += np.bincount(prev[step], minlength=self.n_items).astype(np.float32)
        self.in_degree += np.bincount(i[step], minlength=self.n_items).astype(np.float32)
        self._csc = None
        ends = np.append(np.flatnonzero(starts)[1:], u.size) - 1
        self.last_item[u[ends]] = i[ends]
        return self

    def update(self, event: StateEvent) -> None:
        """Add one event: a step from the user's last item when the item differs."""
        self._grow(event.user + 1)
        prev = int(self.last_item[event.user])
        if prev >= 0 and prev != event.item:
            row = self._overlay.setdefault(prev, {})
            row[event.item] = row.get(event.item, 0.0) + 1.0
            self.out_degree[prev] += 1.0
            self.in_degree[event.item] += 1.0
        self.last_item[event.user] = event.item

    def _grow(self, n_users: int) -> None:
        if n_users > self.last_item.size:
            self.last_item = np.concatenate(
                [self.last_item, np.full(n_users - self.last_item.size, -1, dtype=np.int32)]
            )

    def compact(self) -> None:
        """Fold the online overlay into the CSR matrix."""
        if not self._overlay:
            return
        rows, cols, vals = [], [], []
        for r, row in self._overlay.items():
            for c, v in row.items():
                rows.append(r)
                cols.append(c)
                vals.append(v)
        add = sp.csr_matrix((vals, (rows, cols)), shape=self.matrix.shape, dtype=np.float32)
        self.matrix = sp.csr_matrix(self.matrix + add, dtype=np.float32)
        self.matrix.sort_indices()
        self._overlay = {}
        self._csc = None

    def counts(self, prev_items: np.ndarray, items: np.ndarray, reverse: bool = False) -> np.ndarray:
        """float32 ``(len(prev_items), len(items))``: how often each item followed each previous item.

        With ``reverse``, how often each previous item followed each item instead.
        """
        out = np.zeros((len(prev_items), len(items)), dtype=np.float32)
        if reverse and self._csc is None:
            self._csc = sp.csc_matrix(self.matrix)
            self._csc.sort_indices()
        m = self._csc if reverse else self.matrix
        assert m is not None
        for r, p in enumerate(np.asarray(prev_items, dtype=np.int64)):
            if p < 0:
                continue
            a, b = m.indptr[p], m.indptr[p + 1]
            if b > a:
                idx = m.indices[a:b]
                pos = np.minimum(np.searchsorted(idx, items), idx.size - 1)
                hit = idx[pos] == items
                out[r, hit] = m.data[a:b][pos[hit]]
            if reverse and self._overlay:
                out[r] += np.fromiter(
                    (self._overlay.get(int(c), {}).get(int(p), 0.0) for c in items), np.float32, len(items)
                )
            elif not reverse and self._overlay.get(int(p)):
                over = self._overlay[int(p)]
                out[r] += np.fromiter((over.get(int(c), 0.0) for c in items), np.float32, len(items))
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """CSR parts and per-user last items, for ``np.savez``."""
        self.compact()
        return {
            "indptr": self.matrix.indptr,
            "indices": self.matrix.indices,
            "data": self.matrix.data,
            "out_degree": self.out_degree,
            "in_degree": self.in_degree,
            "last_item": self.last_item,
        }

    def load_arrays(self, arrays: Any) -> None:
        """Inverse of :meth:`arrays`."""
        self.matrix = sp.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=(self.n_items, self.n_items)
        )
        self.out_degree = np.asarray(arrays["out_degree"], dtype=np.float32)
        self.in_degree = np.asarray(arrays["in_degree"], dtype=np.float32)
        self._csc = None
        self.last_item = np.asarray(arrays["last_item"], dtype=np.int32)
