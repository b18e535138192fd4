"""Nearest text neighbours of every item: the sparse similarity the model's text-neighbour bias reads.

For each item, the ``k`` other items whose text vectors are most similar (cosine), with a *gain*
``sim - sim_(k+1)`` that is 0 at the edge of the list, so an item entering or leaving a neighbour list
changes its score continuously. Items with an all-zero vector (no text) have no neighbours (gain 0).

Example:
    >>> import torch
    >>> v = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), dim=1)
    >>> idx, gain = text_neighbours(v, k=1)
    >>> idx[:, 0].tolist()
    [1, 0, 3, 2]
"""

from __future__ import annotations

import torch

__all__ = ["merge_neighbours", "text_neighbours"]


def _top(sims: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` columns of each row and their gain over the ``k + 1``-th similarity."""
    width = min(k + 1, sims.shape[1])
    vals, idx = sims.topk(width, dim=1)
    edge = vals[:, k : k + 1] if width > k else torch.zeros_like(vals[:, :1])
    gain = (vals[:, :k] - edge).clamp_min(0.0)
    gain = torch.where(torch.isfinite(gain), gain, torch.zeros_like(gain))
    return idx[:, :k], gain


def text_neighbours(vectors: torch.Tensor, k: int, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """``(idx int64 (n, k), gain float32 (n, k))``: each item's ``k`` nearest other items by cosine.

    Args:
        vectors: float32 ``(n, dim)`` text vectors (unit or zero rows).
        k: neighbours per item (``n - 1`` at most is meaningful; padded with gain 0).
        chunk: rows per block (memory ``chunk * n`` floats).
    """
    n = vectors.shape[0]
    v = torch.nn.functional.normalize(vectors.float(), dim=1)
    empty = vectors.abs().sum(dim=1) == 0
    idx = torch.zeros(n, k, dtype=torch.int64)
    gain = torch.zeros(n, k)
    if n < 2 or k == 0:
        return idx, gain
    kk = min(k, n - 1)
    with torch.no_grad():
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            sims = v[start:stop] @ v.T
            sims[torch.arange(stop - start), torch.arange(start, stop)] = -torch.inf  # not itself
            sims[:, empty] = -torch.inf
            i, g = _top(sims, kk)
            idx[start:stop, :kk], gain[start:stop, :kk] = i, g
    gain[empty] = 0.0
    return idx, gain


def merge_neighbours(
    idx: torch.Tensor, gain: torch.Tensor, vectors: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Neighbour lists after new items were appended to the catalogue, without recomputing old pairs.

    Old items keep their lists unless a new item beats their ``k``-th neighbour (gains are re-based on
    the new edge); new items get lists over the whole catalogue. Equals :func:`text_neighbours` on all
    vectors up to ties.

    Args:
        idx: ``(n_old, k)`` current neighbour indices.
        gain: ``(n_old, k)`` current gains.
        vectors: ``(n, dim)`` all text vectors, the ``n_old`` old items first.
    """
    n_old, k = idx.shape
    n = vectors.shape[0]
    if k == 0 or n == n_old:
        return idx, gain
    v = torch.nn.functional.normalize(vectors.float(), dim=1)
    empty = vectors.abs().sum(dim=1) == 0
    with torch.no_grad():
        current = (v[:n_old, None, :] * v[idx]).sum(-1)  # (n_old, k) similarities of the current lists
        edge = (current - gain)[:, -1:] - 1e-6  # the old (k+1)-th similarity, as a candidate
        to_new = v[:n_old] @ v[n_old:].T
        to_new[:, empty[n_old:]] = -torch.inf
        cand = torch.cat([current, edge, to_new], dim=1)
        cand_idx = torch.cat([idx, torch.full((n_old, 1), -1), torch.arange(n_old, n).expand(n_old, -1)], 1)
        vals, pos = cand.topk(k + 1, dim=1)
        old_idx = cand_idx.gather(1, pos[:, :k])
        old_gain = (vals[:, :k] - vals[:, k:]).clamp_min(0.0)
        old_gain = torch.where((old_idx >= 0) & ~empty[:n_old, None], old_gain, torch.zeros_like(old_gain))
        old_idx = old_idx.clamp_min(0)
        sims = v[n_old:] @ v.T
        sims[torch.arange(n - n_old), torch.arange(n_old, n)] = -torch.inf
        sims[:, empty] = -torch.inf
        new_idx, new_gain = _top(sims, min(k, n - 1))
        new_gain[empty[n_old:]] = 0.0
        pad = k - new_idx.shape[1]
        if pad:
            new_idx = torch.cat([new_idx, torch.zeros(n - n_old, pad, dtype=torch.int64)], 1)
            new_gain = torch.cat([new_gain, torch.zeros(n - n_old, pad)], 1)
    return torch.cat([old_idx, new_idx]), torch.cat([old_gain, new_gain])
