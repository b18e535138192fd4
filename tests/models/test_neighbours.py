"""Text-neighbour lists: exact top-k by cosine, edge-relative gains, incremental merge of new items."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from shelfwise.models.sequential.neighbours import merge_neighbours, text_neighbours  # noqa: E402


def test_neighbours_are_the_exact_top_k_with_edge_relative_gains() -> None:
    torch.manual_seed(0)
    v = torch.nn.functional.normalize(torch.randn(60, 8), dim=1)
    v[5] = 0.0  # an item without text
    idx, gain = text_neighbours(v, k=6, chunk=16)
    sims = v @ v.T
    sims.fill_diagonal_(-2.0)
    sims[:, 5] = -2.0
    for i in range(60):
        if i == 5:
            assert (gain[i] == 0).all()
            continue
        order = torch.argsort(sims[i], descending=True)
        assert set(idx[i].tolist()) == set(order[:6].tolist())
        expected = sims[i, idx[i]] - sims[i, order[6]]
        assert torch.allclose(gain[i], expected, atol=1e-6) and (gain[i] >= 0).all()
    assert 5 not in idx[gain > 0].tolist()


def test_merging_new_items_equals_recomputing() -> None:
    torch.manual_seed(1)
    v = torch.nn.functional.normalize(torch.randn(200, 12), dim=1)
    v[190] = 0.0
    full_idx, full_gain = text_neighbours(v, k=8)
    old_idx, old_gain = text_neighbours(v[:170], k=8)
    idx, gain = merge_neighbours(old_idx, old_gain, v)
    assert idx.shape == (200, 8)
    assert torch.allclose(gain, full_gain, atol=1e-5)
    assert ((idx == full_idx) | (full_gain == 0)).all()
