"""Id indices, matrices and targets from a split, and the one-call evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from shelfwise.encoded import IdIndex, LeaveOneOut, RankingData, interaction_matrix, targets_by_user
from shelfwise.metrics import EvaluationResult, evaluate_ranking


def test_id_index_roundtrip_and_unknown() -> None:
    idx = IdIndex.from_values(["b", "a", "c", "a", None])
    assert len(idx) == 3
    assert idx.encode(["c", "a"]).tolist() == [2, 0]
    assert idx.encode(["a", "zz"], unknown=-1).tolist() == [0, -1]
    with pytest.raises(KeyError):
        idx.encode(["zz"])
    assert idx.decode(np.array([1])).tolist() == ["b"]


def test_interaction_matrix_sums_or_binarises_duplicates() -> None:
    m = interaction_matrix(np.array([0, 0, 1]), np.array([2, 2, 0]), (2, 3))
    assert m.dtype == np.float32 and m.toarray().tolist() == [[0, 0, 2], [1, 0, 0]]
    assert interaction_matrix(np.array([0, 0]), np.array([2, 2]), (1, 3), binary=True).toarray().tolist() == [
        [0, 0, 1]
    ]


def test_targets_by_user_pads_multi_targets() -> None:
    users, targets = targets_by_user(np.array([3, 1, 3]), np.array([7, 5, 2]))
    assert users.tolist() == [1, 3]
    assert targets.tolist() == [[5, -1], [2, 7]]
    users, targets = targets_by_user(np.array([3, 1]), np.array([7, 5]))
    assert targets.tolist() == [5, 7]


def test_ranking_data_from_leave_one_out() -> None:
    ev = pd.DataFrame(
        {
            "user_id": ["u1"] * 4 + ["u2"] * 3,
            "item_id": ["a", "b", "c", "d", "b", "c", "a"],
            "type": "view",
            "timestamp": [1, 2, 3, 4, 1, 2, 3],
        }
    )
    data = RankingData.from_split(LeaveOneOut().split(ev))
    # items a,b,c,d -> 0..3 ; u1: train a,b ; valid c ; test d. u2: train b ; valid c ; test a
    assert data.train.toarray().tolist() == [[1, 1, 0, 0], [0, 1, 0, 0]]
    assert data.train_valid.toarray().tolist() == [[1, 1, 1, 0], [0, 1, 1, 0]]
    assert data.valid_targets.tolist() == [2, 2] and data.test_targets.tolist() == [3, 0]
    assert data.test_users.tolist() == [0, 1]


class _Fixed:
    """A model whose scores are given: item 2 > item 0 > item 1 for every user."""

    name = "fixed"

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        return np.tile(np.array([2.0, 1.0, 3.0], dtype=np.float32), (len(user_indices), 1))


def test_evaluate_ranking_records_protocol_and_metrics() -> None:
    users = np.array([0, 1])
    targets = np.array([0, 1])  # ranks 2 and 3 (rankable)
    hist = sp.csr_matrix(np.array([[0, 0, 1], [0, 0, 0]], dtype=np.float32))
    res = evaluate_ranking(_Fixed(), users, targets, hist, ["hr@2", "ndcg@3"], params={"a": 1})
    assert isinstance(res, EvaluationResult)
    # user 0: rank 2 -> hr@2 1, ndcg 1/log2(3); user 1: rank 3 -> hr@2 0, ndcg 1/log2(4) = 0.5
    assert res.metrics["hr@2"] == pytest.approx(0.5)
    assert res.metrics["ndcg@3"] == pytest.approx((1 / np.log2(3) + 0.5) / 2)
    assert res.to_dict()["protocol"] == {
        "split": "test",
        "ranking": "full",
        "history": "rankable",
        "tie_break_seed": 0,
    }
    masked = evaluate_ranking(_Fixed(), users, targets, hist, ["hr@1"], exclude_history=True)
    # user 0's history item 2 is masked -> target 0 ranks first
    assert masked.metrics["hr@1"] == pytest.approx(0.5) and masked.protocol.history == "excluded"
    with pytest.raises(TypeError):
        evaluate_ranking(_Fixed(), users, targets, hist, ["auc"])
