"""Sequences from splits, padding, batching and augmentation."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.encoded import IdIndex, LeaveOneOut
from shelfwise.models.sequential import AugmentConfig, SequenceBatcher, pad_left, sequences_from_split
from shelfwise.models.sequential.data import IGNORE, augment_sequence, concat_sequences


def test_sequences_follow_time_then_seq_order_not_row_order() -> None:
    table = pa.table(
        {
            "user_id": ["b", "a", "a", "a", "b", "a", "b"],
            "item_id": ["x", "q", "p", "r", "y", "s", "z"],
            "timestamp": [5, 3, 1, 3, 1, 9, 9],
            "seq": [0, 2, 1, 1, 3, 4, 5],  # a: p(t1) r(t3,seq1) q(t3,seq2) s(t9)
        }
    )
    split = LeaveOneOut().split(table)
    users, items = IdIndex.from_values(["a", "b"]), IdIndex.from_values(list("pqrsxyz"))
    train = sequences_from_split(split, users, items, ("train",))
    full = sequences_from_split(split, users, items, ("train", "valid", "test"))
    assert items.decode(full[0]).tolist() == ["p", "r", "q", "s"]
    assert items.decode(full[1]).tolist() == ["y", "x", "z"]
    assert items.decode(train[0]).tolist() == ["p", "r"]
    assert train[1].size == 1 and train[1].dtype == np.int32


def test_pad_left_keeps_the_most_recent_items() -> None:
    out = pad_left([np.array([1, 2, 3, 4]), np.array([], dtype=np.int32)], max_len=3, pad=-1)
    assert out.tolist() == [[2, 3, 4], [-1, -1, -1]]
    offsets, flat = concat_sequences([np.array([1, 2]), np.array([], dtype=np.int32), np.array([5])])
    assert offsets.tolist() == [0, 2, 2, 3] and flat.tolist() == [1, 2, 5]


def test_batcher_uses_every_transition_once_per_epoch_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 50, rng.integers(1, 9)).astype(np.int32) for _ in range(40)]
    batcher = SequenceBatcher(seqs, n_items=50, max_len=10, batch_size=7, seed=3)
    pairs = []
    for batch in batcher.epoch(1):
        assert batch.inputs.shape == batch.targets.shape and batch.inputs.shape[0] <= 7
        real = batch.targets != IGNORE
        assert ((batch.inputs == 50) == ~real).all()  # padding exactly where there is no target
        pairs += list(zip(batch.inputs[real].tolist(), batch.targets[real].tolist(), strict=True))
    expected = [(int(a), int(b)) for s in seqs if len(s) >= 2 for a, b in itertools.pairwise(s)]
    assert sorted(pairs) == sorted(expected)
    assert batcher.n_positions == len(expected)
    again = [b.inputs.tolist() for b in SequenceBatcher(seqs, 50, 10, 7, seed=3).epoch(1)]
    assert again == [b.inputs.tolist() for b in batcher.epoch(1)]
    assert again != [b.inputs.tolist() for b in batcher.epoch(2)]


def test_long_sequences_are_windowed_to_max_len() -> None:
    seq = np.arange(30, dtype=np.int32)
    batches = list(SequenceBatcher([seq], n_items=40, max_len=5, batch_size=1, seed=0).epoch(1))
    inp, tgt = batches[0].inputs[0], batches[0].targets[0]
    assert inp.shape == (5,) and (tgt == inp + 1).all()


def test_augmentations_keep_pairs_consistent() -> None:
    rng = np.random.default_rng(0)
    seq = np.arange(10, 30)
    inp, tgt = augment_sequence(seq, AugmentConfig(crop=1.0, crop_ratio=0.5), rng, mask_token=99)
    assert len(inp) == 9 and (tgt == inp + 1).all()  # a contiguous crop of 10 items
    inp, tgt = augment_sequence(seq, AugmentConfig(mask=1.0, mask_ratio=0.5), rng, mask_token=99)
    assert (tgt == seq[1:]).all() and 0 < (inp == 99).sum() < len(inp)
    assert (inp[inp != 99] == seq[:-1][inp != 99]).all()
    inp, tgt = augment_sequence(seq, AugmentConfig(reorder=1.0, reorder_ratio=0.5), rng, mask_token=99)
    both = np.r_[inp, tgt[-1:]]
    assert sorted(both.tolist()) == seq.tolist() and both.tolist() != seq.tolist()
    assert (inp[1:] == tgt[:-1]).all()


def test_package_exports_and_imports_torch_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, shelfwise.models.sequential as m; "
        "assert m.__all__ == sorted(m.__all__) and all(hasattr(m, n) for n in m.__all__); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_item_text_vectors_zero_empty_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    from shelfwise.encoders.base import Encoder
    from shelfwise.models.sequential import text as text_mod

    class Fake(Encoder):
        dim, model_version = 3, "fake"

        def _encode(self, texts: list[str], kind: str, show_progress: bool) -> np.ndarray:
            return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)

    monkeypatch.setattr(text_mod, "build_encoder", lambda cfg: Fake())
    rows = text_mod.items_in_order(
        pa.table({"item_id": ["b", "a"], "title": ["Blue", None]}), ["a", "b", "c"]
    )
    texts = text_mod.item_texts(rows)
    assert texts == ["", "Blue.", ""]
    vectors = text_mod.item_text_vectors(texts, show_progress=False)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 3)
    assert (vectors[[0, 2]] == 0).all() and np.allclose(np.linalg.norm(vectors[1]), 1.0)
