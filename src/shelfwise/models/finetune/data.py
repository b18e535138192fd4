"""(history, next item) pairs for contrastive training, and the held-out pairs of early stopping.

From each user's time-ordered training sequence: the last item (sequences of at least 3 items, a seeded
sample of ``valid_users`` users) is held out for validation, with everything before it as the history;
training pairs are random positions ``t >= 1`` of the remaining prefix — history ``seq[:t]``, target
``seq[t]`` — ``pairs_per_user`` per sampled user and epoch, redrawn each epoch.

Example:
    >>> pairs = PairSampler([np.array([1, 2, 3, 4])], valid_users=1, seed=0)
    >>> pairs.valid
    [(0, 3, 4)]
    >>> [target in (2, 3) for _, _, target in pairs.epoch(0)]  # a random position of the prefix [1, 2, 3]
    [True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Pair", "PairSampler"]

#: (user index, history length t, target item): the history is ``sequences[user][:t]``.
Pair = tuple[int, int, int]


class PairSampler:
    """Draws training pairs and holds the validation pairs.

    Args:
        sequences: per user index, item indices oldest first.
        valid_users: users whose last item is held out (a seeded sample of those with >= 3 items).
        max_train_users: sample at most this many users for training pairs (``None``: all).
        pairs_per_user: pairs per training user and epoch.
        seed: seed of every draw.
    """

    def __init__(
        self,
        sequences: Sequence[np.ndarray],
        *,
        valid_users: int = 0,
        max_train_users: int | None = None,
        pairs_per_user: int = 1,
        seed: int = 0,
    ) -> None:
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
        self.pairs_per_user = pairs_per_user
        self.seed = seed
        rng = np.random.default_rng(seed)
        lengths = np.array([s.size for s in self.sequences], dtype=np.int64)
        eligible = np.flatnonzero(lengths >= 3)
        held = rng.choice(eligible, min(valid_users, eligible.size), replace=False)
        self.held = np.zeros(len(self.sequences), dtype=bool)
        self.held[held] = True
        self.valid: list[Pair] = [(int(u), int(lengths[u] - 1), int(self.sequences[u][-1])) for u in held]
        # training prefix length per user: the held item is not trained on
        self.usable = lengths - self.held.astype(np.int64)
        users = np.flatnonzero(self.usable >= 2)
        if max_train_users is not None and users.size > max_train_users:
            users = np.sort(rng.choice(users, max_train_users, replace=False))
        self.train_users = users

    def epoch(self, epoch: int) -> list[Pair]:
        """The training pairs of one epoch, shuffled (seeded by ``seed`` and ``epoch``)."""
        rng = np.random.default_rng([self.seed, epoch])
        pairs: list[Pair] = []
        for u in self.train_users:
            n = int(self.usable[u])
            for t in rng.integers(1, n, size=self.pairs_per_user):
                pairs.append((int(u), int(t), int(self.sequences[u][t])))
        order = rng.permutation(len(pairs))
        return [pairs[i] for i in order]

    def history(self, pair: Pair) -> np.ndarray:
        """The history of a pair (item indices, oldest first)."""
        user, t, _ = pair
        return self.sequences[user][:t]
