"""The SASRec network: causality, padding invariance, the repeat bias, item tables."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from shelfwise.models.sequential import SequentialConfig  # noqa: E402
from shelfwise.models.sequential.sasrec import BIAS_SCALE, SASRec  # noqa: E402

N_ITEMS = 30


def net(mode: str = "id", **kw: object) -> SASRec:
    torch.manual_seed(0)
    cfg = SequentialConfig(item_embedding=mode, hidden=16, heads=2, max_len=8, **kw)  # type: ignore[arg-type]
    text = torch.randn(N_ITEMS, 12) if cfg.uses_text else None
    return SASRec(cfg, N_ITEMS, text).eval()


def test_hidden_states_are_causal_and_ignore_left_padding() -> None:
    model = net()
    pad = N_ITEMS
    a = torch.tensor([[pad, pad, 3, 4, 5, 6]])
    b = torch.tensor([[pad, pad, 3, 4, 5, 9]])  # differs only in the last item
    table = model.item_table()
    with torch.no_grad():
        ha, hb = model.encode(a, table), model.encode(b, table)
        short = model.encode(torch.tensor([[3, 4, 5, 6]]), table)
    assert torch.allclose(ha[0, :5], hb[0, :5], atol=1e-6)  # earlier positions cannot see item 6 / 9
    assert not torch.allclose(ha[0, 5], hb[0, 5])
    # positions count from the right, so padding in front changes nothing
    assert torch.allclose(ha[0, 2:], short[0], atol=1e-5)


def test_seen_pairs_are_the_distinct_input_items_up_to_each_position() -> None:
    model = net()
    pad, mask = N_ITEMS, N_ITEMS + 1
    inputs = torch.tensor([[pad, 3, 4, 3, 5], [1, 2, mask, 2, 7]])
    targets = torch.tensor([[-100, 4, 3, 5, 9], [2, -100, 2, 7, 8]])
    valid = targets.reshape(-1) >= 0
    rows, cols = model._seen_pairs(inputs, valid)
    got = sorted(zip(rows.tolist(), cols.tolist(), strict=True))
    expected = []
    flat = [(b, t) for b in range(2) for t in range(5) if targets[b, t] >= 0]
    for r, (b, t) in enumerate(flat):
        seen = {int(i) for i in inputs[b, : t + 1] if int(i) < N_ITEMS}
        expected += [(r, i) for i in seen]
    assert got == sorted(expected)


def test_repeat_bias_enters_the_loss_and_the_scores() -> None:
    model = net(repeat_bias=True)
    inputs = torch.tensor([[N_ITEMS, 3, 4]])
    with torch.no_grad():
        model.repeat_raw.fill_(-0.5)  # type: ignore[union-attr]
        low = model.score_last(inputs)
        model.repeat_raw.fill_(0.0)  # type: ignore[union-attr]
        zero = model.score_last(inputs)
    diff = (low - zero)[0]
    assert torch.allclose(diff[[3, 4]], torch.tensor([-0.5, -0.5]) * BIAS_SCALE)
    assert torch.count_nonzero(diff) == 2
    model.train()
    loss = model.loss(inputs, torch.tensor([[-100, 4, 7]]))
    loss.backward()
    assert model.repeat_raw.grad is not None and float(model.repeat_raw.grad) != 0.0  # type: ignore[union-attr]


def test_text_id_table_uses_text_alone_for_masked_items() -> None:
    model = net("text+id")
    with torch.no_grad():
        model.item_emb.weight.fill_(1.0)
        model.id_mask[5] = 0.0
        table = model.item_table()
        text_only = model.proj(model.text)
    assert torch.allclose(table[5], text_only[5])
    assert torch.allclose(table[6], text_only[6] + 1.0)
    keep = torch.ones(N_ITEMS)
    keep[6] = 0
    with torch.no_grad():
        assert torch.allclose(model.item_table(keep)[6], text_only[6])


def test_text_modes_need_vectors_and_bfloat16_logits_give_close_loss() -> None:
    cfg = SequentialConfig(item_embedding="text", hidden=16, max_len=8)
    with pytest.raises(ValueError, match="text vectors"):
        SASRec(cfg, N_ITEMS, None)
    a, b = net("text"), net("text", logits_dtype="bfloat16")
    b.load_state_dict(a.state_dict())
    inputs, targets = torch.tensor([[N_ITEMS, 3, 4, 5]]), torch.tensor([[-100, 4, 5, 6]])
    with torch.no_grad():
        assert abs(float(a.loss(inputs, targets)) - float(b.loss(inputs, targets))) < 0.05
    with torch.no_grad():
        assert np.isfinite(float(a.loss(inputs, targets)))


def test_neighbour_terms_match_a_brute_force_reading() -> None:
    model = net("text+id", text_neighbours=4, neighbour_window=2)
    with torch.no_grad():
        model.nbr_raw.copy_(torch.tensor([0.3, 0.1]))  # type: ignore[union-attr]
    pad, mask = N_ITEMS, N_ITEMS + 1
    inputs = torch.tensor([[pad, 3, 4, 3, 5], [1, mask, 2, 7, 8]])
    targets = torch.tensor([[-100, 4, 3, 5, 9], [2, -100, 7, 8, 1]])
    valid = targets.reshape(-1) >= 0
    rows, cols, vals = model._neighbour_terms(inputs, valid)
    got = torch.zeros(int(valid.sum()), N_ITEMS).index_put_((rows, cols), vals, accumulate=True)
    expected = torch.zeros_like(got)
    flat = [(b, t) for b in range(2) for t in range(5) if targets[b, t] >= 0]
    for r, (b, t) in enumerate(flat):
        for back, weight in enumerate((3.0, 1.0)):  # BIAS_SCALE * raw
            if t - back >= 0 and int(inputs[b, t - back]) < N_ITEMS:
                src = int(inputs[b, t - back])
                for j, g in zip(model.nbr_idx[src].tolist(), model.nbr_gain[src].tolist(), strict=True):
                    expected[r, j] += weight * g
    assert torch.allclose(got, expected, atol=1e-6) and got.abs().sum() > 0
    with torch.no_grad():  # the scores are the transformer part plus the bias parts
        parts = model.bias_scores(inputs)
        table = model.item_table()
        plain = model.encode(inputs, table)[:, -1] @ table.T
        assert torch.allclose(model.score_last(inputs), plain + parts["neighbours"] + parts["repeat"])
        assert torch.allclose(parts["neighbours"][0], expected[3])  # the last position of row 0
