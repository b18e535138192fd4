"""Item-to-item sources: co-occurrence counts and normalisations checked by hand, anchors, text neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.history import EventLog, RecencyConfig
from shelfwise.retrieval.item2item import (
    CoOccurrenceConfig,
    CoOccurrenceSource,
    TextSimilarityConfig,
    TextSimilaritySource,
)
from shelfwise.retrieval.neighbours import normalise_cooccurrence, sequence_cooccurrence, vector_neighbours
from shelfwise.retrieval.scoring import top_k_per_row
from shelfwise.retrieval.text_vectors import TextVectorConfig
from tests.retrieval.conftest import BagOfWordsEncoder, tiny_data

A, B, C = 0, 1, 2  # item ids "a" < "b" < "c" as dense indices
SEQS = {"u1": ["a", "b", "c"], "u2": ["a", "b"], "u3": ["b", "c"]}


def _counts(seqs: dict[str, list[str]], window: int, **kw: float) -> np.ndarray:
    counts, _ = sequence_cooccurrence(EventLog.from_data(tiny_data(seqs)), window, **kw)
    return counts.toarray()


def test_forward_backward_and_distance_weights_by_hand() -> None:
    fwd = _counts(SEQS, 1, backward_weight=0.0)
    expected = np.zeros((3, 3))
    expected[A, B] = 2  # u1, u2
    expected[B, C] = 2  # u1, u3
    np.testing.assert_allclose(fwd, expected)
    both = _counts(SEQS, 1, backward_weight=0.5)
    expected[B, A], expected[C, B] = 1.0, 1.0
    np.testing.assert_allclose(both, expected)
    far = _counts(SEQS, 2, backward_weight=0.0, distance_decay=0.5)
    assert far[A, C] == pytest.approx(0.5) and far[C, A] == 0  # only u1 has a and c two apart


def test_repeats_are_collapsed_and_sessions_cut_pairs() -> None:
    assert _counts({"u": ["a", "a", "b"]}, 1, backward_weight=0.0)[A, B] == 1
    data = tiny_data({"u": ["a", "b", "c"]}, times={"u": [0.0, 10.0, 90_000.0]})
    events = EventLog.from_data(data)
    cut, _ = sequence_cooccurrence(events, 2, backward_weight=0.0, session_gap_seconds=3600.0)
    assert cut.toarray()[A, B] == 1 and cut.toarray()[B, C] == 0 and cut.toarray()[A, C] == 0
    whole, _ = sequence_cooccurrence(events, 2, backward_weight=0.0)
    assert whole.toarray()[B, C] == 1


def test_normalisations_by_hand() -> None:
    counts, occ = sequence_cooccurrence(EventLog.from_data(tiny_data(SEQS)), 1, backward_weight=0.0)
    np.testing.assert_allclose(occ, [2, 3, 2])
    cos = normalise_cooccurrence(counts, occ, "cosine").toarray()
    assert cos[A, B] == pytest.approx(2 / np.sqrt(2 * 3))
    cond = normalise_cooccurrence(counts, occ, "cosine", alpha=1.0).toarray()
    assert cond[A, B] == pytest.approx(2 / 2)  # P(b | a)
    lift = normalise_cooccurrence(counts, occ, "lift").toarray()
    assert lift[A, B] == pytest.approx(2 * 7 / (2 * 3))
    shrunk = normalise_cooccurrence(counts, occ, "lift", shrink=6.0).toarray()
    assert shrunk[A, B] == pytest.approx(2 * 7 / (2 * 3 + 6))


def test_top_k_per_row_keeps_the_largest_and_breaks_ties_at_random() -> None:
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[3.0, 1.0, 3.0, 2.0], [1.0, 1.0, 1.0, 1.0]], dtype=np.float32))
    kept = top_k_per_row(m, 2).toarray()
    np.testing.assert_array_equal(kept[0], [3, 0, 3, 0])
    picks = {tuple(np.flatnonzero(top_k_per_row(m, 1, seed=s).toarray()[1])) for s in range(12)}
    assert len(picks) > 1  # not always the lowest column


def _source(**kw: object) -> CoOccurrenceSource:
    base = {
        "window": 1,
        "backward_weight": 0.5,
        "distance_decay": 1.0,
        "normalization": "count",
        "recency": RecencyConfig(half_life_events=None),
    }
    return CoOccurrenceSource(CoOccurrenceConfig(**{**base, **kw})).fit(tiny_data(SEQS))  # type: ignore[arg-type]


def test_user_scores_sum_or_max_over_history_with_anchors() -> None:
    ctx = UserContext(history=np.array([A, C], dtype=np.int32))
    summed = _source().candidates(ctx, 5)
    # b: from a (count 2) + from c (backward 0.5 * 2 = 1) ; a: from c? no pair c-a
    assert summed.items.tolist() == [B] and summed.scores[0] == pytest.approx(3.0)
    assert summed.anchors is not None and summed.anchors.tolist() == [A]
    maxed = _source(aggregation="max").candidates(ctx, 5)
    assert maxed.scores[0] == pytest.approx(2.0)


def test_recency_weights_favour_the_newest_history_item() -> None:
    data = tiny_data({"u1": ["a", "x"], "u2": ["a", "x"], "u3": ["c", "y"]})
    a, c, x, y = data.ranking.items.encode(["a", "c", "x", "y"]).tolist()
    cfg = CoOccurrenceConfig(
        window=1, backward_weight=0.0, normalization="count", recency=RecencyConfig(half_life_events=0.5)
    )
    src = CoOccurrenceSource(cfg).fit(data)
    cand = src.candidates(UserContext(history=np.array([a, c], dtype=np.int32)), 2)
    assert cand.items.tolist() == [y, x]  # c is newest: its 1 pair outweighs a's 2 pairs at a quarter weight
    assert cand.scores.tolist() == pytest.approx([1.0, 0.5])
    assert cand.anchors is not None and cand.anchors.tolist() == [c, a]


def test_window_none_reuses_item_knn_without_self_similarity() -> None:
    src = CoOccurrenceSource(CoOccurrenceConfig(window=None)).fit(tiny_data(SEQS))
    assert src.sim.diagonal().sum() == 0 and src.sim.nnz > 0
    assert src.neighbours(A, 3).items[0] == B


TITLES = {
    "a": "red matte lipstick",
    "b": "red glossy lipstick",
    "c": "blue yoga mat",
    "d": "thick yoga mat",
    "e": "steel frying pan",
}


def _text_source() -> TextSimilaritySource:
    data = tiny_data({"u1": ["a", "c", "e"], "u2": ["b", "d"]}, titles=TITLES)
    cfg = TextSimilarityConfig(text=TextVectorConfig(cache_dir=None), neighbours=3)
    return TextSimilaritySource(cfg, BagOfWordsEncoder()).fit(data)


def test_text_neighbours_are_the_closest_titles() -> None:
    src = _text_source()
    assert src.neighbours(0, 1).items.tolist() == [1]  # matte lipstick -> glossy lipstick
    assert src.neighbours(2, 1).items.tolist() == [3]  # yoga mat -> yoga mat
    sims = vector_neighbours(src.vectors, 2).toarray()  # type: ignore[arg-type]
    assert np.all(np.diag(sims) == 0)


def test_a_new_item_is_reachable_through_its_text_at_once() -> None:
    src = _text_source()
    encoder = BagOfWordsEncoder()
    new = src.add_items(encoder.encode_documents(["matte red lipstick limited edition"]))
    assert new.tolist() == [5] and src.n_items == 6
    cand = src.candidates(UserContext(history=np.array([0], dtype=np.int32)), 3)
    assert 5 in cand.items.tolist()
    assert cand.anchors is not None and cand.anchors[cand.items.tolist().index(5)] == 0
    assert src.score_all([UserContext()]).shape == (1, 6)
