"""Item sequences for the sequential model: building them from a split, padding, batching, augmentation.

A sequence is an int32 array of dense item indices in time order (``(timestamp, seq)``, the order the
store and the splitters use). Training uses every position: the input is ``s[:-1]`` and the target at
position ``t`` is ``s[t + 1]``. Batches are left-padded to the longest sequence of the batch (at most
``max_len``); the pad index is ``n_items`` and the mask token ``n_items + 1``.

Example:
    >>> pad_left([np.array([3, 4]), np.array([5])], max_len=3, pad=9).tolist()
    [[9, 3, 4], [9, 9, 5]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shelfwise.encoded import IdIndex, Split
from shelfwise.models.sequential.config import AugmentConfig

__all__ = [
    "IGNORE",
    "SequenceBatch",
    "SequenceBatcher",
    "augment_sequence",
    "concat_sequences",
    "pad_left",
    "sequences_from_split",
    "sequences_from_table",
]

#: Target value of positions that carry no loss (padding).
IGNORE = -100


def _time_values(col: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        return col.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return col.to_numpy(zero_copy_only=False).astype(np.float64)


def sequences_from_table(
    table: pa.Table, rows: np.ndarray, users: IdIndex, items: IdIndex
) -> list[np.ndarray]:
    """Per user (dense index order), the items of the given rows in ``(timestamp, seq)`` order.

    Args:
        table: events with ``user_id``, ``item_id``, ``timestamp`` and optionally ``seq``.
        rows: int row indices into ``table`` (e.g. ``split.train``); rows whose item is not in ``items``
            are skipped.
        users: the user index (one sequence per user, empty when the user has no rows).
        items: the item index.

    Returns:
        ``len(users)`` int32 arrays.
    """
    rows = np.asarray(rows, dtype=np.int64)
    sub = table.take(pa.array(rows))
    u = users.encode(sub.column("user_id").to_pylist())
    i = items.encode(sub.column("item_id").to_pylist(), unknown=-1)
    ts = _time_values(sub.column("timestamp"))
    seq = (
        sub.column("seq").to_numpy(zero_copy_only=False).astype(np.int64)
        if "seq" in sub.column_names
        else rows
    )
    keep = i >= 0
    u, i, ts, seq = u[keep], i[keep], ts[keep], seq[keep]
    order = np.lexsort((seq, ts, u))
    u, i = u[order], i[order]
    bounds = np.searchsorted(u, np.arange(len(users) + 1))
    return [i[bounds[k] : bounds[k + 1]].astype(np.int32) for k in range(len(users))]


def sequences_from_split(
    split: Split, users: IdIndex, items: IdIndex, parts: Sequence[str] = ("train",)
) -> list[np.ndarray]:
    """Per user, the time-ordered items of the named parts of a split (e.g. ``("train", "valid")``)."""
    rows = np.sort(np.concatenate([np.asarray(getattr(split, p), dtype=np.int64) for p in parts]))
    return sequences_from_table(split.table, rows, users, items)


def concat_sequences(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``(offsets int64 (n+1,), items int32)`` form of a list of sequences (for saving)."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if not len(sequences):
        return offsets, np.zeros(0, dtype=np.int32)
    return offsets, np.concatenate([np.asarray(s, dtype=np.int32) for s in sequences])


def pad_left(sequences: Sequence[np.ndarray], max_len: int, pad: int) -> np.ndarray:
    """int64 ``(n, L)`` with each sequence's last ``max_len`` items right-aligned, ``pad`` before them.

    ``L`` is the longest (cut) sequence, at least 1.
    """
    cut = [np.asarray(s[-max_len:], dtype=np.int64) for s in sequences]
    width = max([1, *(len(s) for s in cut)])
    out = np.full((len(cut), width), pad, dtype=np.int64)
    for r, s in enumerate(cut):
        if len(s):
            out[r, width - len(s) :] = s
    return out


def augment_sequence(
    seq: np.ndarray, config: AugmentConfig, rng: np.random.Generator, mask_token: int
) -> tuple[np.ndarray, np.ndarray]:
    """One augmented ``(input, target)`` pair from a training sequence of length >= 2.

    Crop and reorder change the sequence (input and targets together); mask replaces input items by
    ``mask_token`` and leaves the targets the true next items.

    Returns:
        ``(input, target)``, int64 arrays of equal length.
    """
    s = np.asarray(seq, dtype=np.int64)
    n = len(s)
    if config.crop and n > 2 and rng.random() < config.crop:
        keep = max(2, round(n * config.crop_ratio))
        start = int(rng.integers(0, n - keep + 1))
        s = s[start : start + keep]
        n = keep
    if config.reorder and n > 2 and rng.random() < config.reorder:
        width = max(2, round(n * config.reorder_ratio))
        start = int(rng.integers(0, n - width + 1))
        s = s.copy()
        s[start : start + width] = rng.permutation(s[start : start + width])
    inp, tgt = s[:-1].copy(), s[1:].copy()
    if config.mask and rng.random() < config.mask:
        hide = rng.random(len(inp)) < config.mask_ratio
        inp[hide] = mask_token
    return inp, tgt


@dataclass(frozen=True)
class SequenceBatch:
    """One training batch: left-padded inputs and targets (``IGNORE`` where there is no loss)."""

    inputs: np.ndarray  # int64 (B, L), pad = n_items
    targets: np.ndarray  # int64 (B, L)


class SequenceBatcher:
    """Seeded epochs of training batches over every position of every sequence.

    Sequences are shuffled, then grouped by length within pools of ``bucket_batches`` batches (so a
    batch pads little), and the batches are shuffled. Sequences longer than ``max_len + 1`` are cut to a window ending at a random position (their last
    window when ``random_windows`` is off), so long histories contribute all of their transitions
    over the epochs. Sequences shorter than 2 give no training pair and are skipped.

    Args:
        sequences: training sequences (dense item indices, time order).
        n_items: catalogue size (pad = ``n_items``, mask token = ``n_items + 1``).
        max_len: positions per input.
        batch_size: sequences per batch.
        augment: augmentation settings.
        seed: seed of shuffling, windows and augmentation (epoch ``e`` uses ``[seed, e]``).
        random_windows: pick random windows of long sequences (else always the last one).
        bucket_batches: batches per length-sorting pool (1 = no length grouping).
    """

    def __init__(
        self,
        sequences: Sequence[np.ndarray],
        n_items: int,
        max_len: int,
        batch_size: int,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        random_windows: bool = True,
        bucket_batches: int = 16,
    ) -> None:
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences if len(s) >= 2]
        self.n_items, self.max_len, self.batch_size = n_items, max_len, batch_size
        self.augment = augment or AugmentConfig()
        self.seed, self.random_windows, self.bucket_batches = seed, random_windows, max(1, bucket_batches)
        self.pad, self.mask_token = n_items, n_items + 1

    def __len__(self) -> int:
        return (len(self.sequences) + self.batch_size - 1) // self.batch_size

    @property
    def n_positions(self) -> int:
        """Training positions (targets) per epoch without augmentation."""
        return sum(min(len(s) - 1, self.max_len) for s in self.sequences)

    def _window(self, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        span = self.max_len + 1
        if len(s) <= span:
            return s
        end = int(rng.integers(span, len(s) + 1)) if self.random_windows else len(s)
        return s[end - span : end]

    def _batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Shuffled sequence indices grouped into batches of similar length (little padding)."""
        order = rng.permutation(len(self.sequences))
        lengths = np.array([min(len(s), self.max_len + 1) for s in self.sequences])
        pool = self.batch_size * self.bucket_batches
        batches: list[np.ndarray] = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches.extend(chunk[b : b + self.batch_size] for b in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def epoch(self, epoch: int) -> Iterator[SequenceBatch]:
        """The batches of one epoch, shuffled with ``[seed, epoch]``."""
        rng = np.random.default_rng([self.seed, epoch])
        for batch in self._batches(rng):
            pairs = []
            for k in batch:
                s = self._window(self.sequences[k], rng)
                if self.augment.active:
                    pairs.append(augment_sequence(s, self.augment, rng, self.mask_token))
                else:
                    pairs.append((s[:-1], s[1:]))
            inputs = pad_left([p[0] for p in pairs], self.max_len, self.pad)
            targets = pad_left([p[1] for p in pairs], self.max_len, IGNORE)
            yield SequenceBatch(inputs, targets)
