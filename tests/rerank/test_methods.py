"""MMR, DPP, calibration and xQuAD on hand-made cases with known answers, and against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from shelfwise.metrics import Miscalibration
from shelfwise.rerank import DPP, MMR, CalibratedGreedy, XQuAD, build_diversifier, kl_miscalibration
from shelfwise.rerank.greedy import SelectionProblem

from .conftest import random_problem


def test_mmr_lambda_one_equals_relevance_order() -> None:
    rel = np.array([0.3, 0.9, 0.1, 0.9, 0.5], dtype=np.float32)  # a tie: the earlier candidate first
    vec = np.eye(5, dtype=np.float32)
    assert MMR(0.0).lam == 1.0
    assert MMR(0.0).select(SelectionProblem(rel, vectors=vec), 5).order.tolist() == [1, 3, 4, 0, 2]


def test_mmr_skips_a_duplicate_and_matches_brute_force() -> None:
    # items 0 and 1 identical; lam = 0.5: after 0, item 1 scores 0.5*0.95 - 0.5*1 < item 2's 0.5*0.5 - 0
    vec = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    p = SelectionProblem(np.array([1.0, 0.95, 0.5], dtype=np.float32), vectors=vec)
    assert MMR(0.5).select(p, 2).order.tolist() == [0, 2]
    for seed in range(5):
        q = random_problem(seed=seed)
        got = MMR(0.4).select(q, 8).order.tolist()
        assert got == _brute_mmr(q, 0.6, 8)


def _brute_mmr(p: SelectionProblem, lam: float, k: int) -> list[int]:
    assert p.vectors is not None
    sim = p.vectors @ p.vectors.T
    chosen: list[int] = []
    for _ in range(k):
        best, best_j = -np.inf, -1
        for i in range(p.n):
            if i in chosen:
                continue
            red = max((sim[i, j] for j in chosen), default=0.0)
            g = lam * p.relevance[i] - (1 - lam) * red
            if g > best + 1e-9:
                best, best_j = g, i
        chosen.append(best_j)
    return chosen


def test_dpp_picks_orthogonal_items_over_near_duplicates() -> None:
    # 0, 1, 2 are near-copies of one direction (most relevant); 3 and 4 point elsewhere
    d = np.array([[1, 0, 0], [0.999, 0.045, 0], [0.998, 0, 0.063], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    rel = np.array([1.0, 0.98, 0.97, 0.6, 0.5], dtype=np.float32)
    p = SelectionProblem(rel, vectors=d)
    assert DPP(0.0).select(p, 3).order.tolist() == [0, 1, 2]
    assert DPP(0.3).select(p, 3).order.tolist() == [0, 3, 4]


@pytest.mark.parametrize("diversity", [0.2, 0.5, 1.0])
def test_dpp_greedy_matches_brute_force_log_det(diversity: float) -> None:
    for seed in range(4):
        p = random_problem(n=25, dim=12, seed=seed)
        got = DPP(diversity).select(p, 6).order.tolist()
        assert got == _brute_dpp(p, 1.0 - diversity, 6)


def _brute_dpp(p: SelectionProblem, theta: float, k: int) -> list[int]:
    """Greedy argmax of theta * sum rel + (1 - theta) * log det S_Y, from slogdet (no Cholesky tricks)."""
    assert p.vectors is not None
    s = (p.vectors @ p.vectors.T).astype(np.float64)
    chosen: list[int] = []
    for _ in range(k):
        best, best_j = -np.inf, -1
        for i in range(p.n):
            if i in chosen:
                continue
            y = [*chosen, i]
            sign, logdet = np.linalg.slogdet(s[np.ix_(y, y)])
            g = theta * p.relevance[i] + (1 - theta) * (logdet if sign > 0 else -np.inf)
            tie = abs(g - best) <= 1e-6 and p.relevance[i] > p.relevance[best_j]  # ties go to relevance
            if g > best + 1e-6 or tie:
                best, best_j = g, i
        chosen.append(best_j)
    return chosen


def test_dpp_fills_the_list_after_the_span_is_exhausted() -> None:
    vec = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32)
    p = SelectionProblem(np.array([1.0, 0.2, 0.9, 0.1], dtype=np.float32), vectors=vec)
    sel = DPP(0.8).select(p, 4)
    assert sel.order.tolist()[:2] == [0, 1] and sorted(sel.order.tolist()) == [0, 1, 2, 3]
    assert sel.order.tolist()[2] == 2  # relevance decides once no volume is left
    assert sel.notes


def test_calibrated_kl_bookkeeping_equals_the_direct_formula() -> None:
    p = random_problem(n=50, seed=4)
    sel = CalibratedGreedy(0.5).select(p, 10)
    assert p.user_mix is not None and p.categories is not None
    counts = np.zeros(p.user_mix.size)
    for t, j in enumerate(sel.order):
        counts[p.categories[j]] += 1
        assert sel.terms[t]["kl_after"] == pytest.approx(kl_miscalibration(p.user_mix, counts), rel=1e-9)


def test_calibration_moves_the_list_mix_toward_the_user_by_the_harness_metric() -> None:
    # 200 users whose history mixes 2-3 of 10 categories; candidates are relevance-biased toward one
    rng = np.random.default_rng(0)
    n_users, n_items, n_cats = 200, 400, 10
    cats = rng.integers(0, n_cats, n_items)
    before, after = [], []
    hist_rows, hist_cols = [], []
    for u in range(n_users):
        liked = rng.choice(n_cats, size=3, replace=False)
        hist = rng.choice(np.flatnonzero(np.isin(cats, liked)), size=12, replace=False)
        hist_rows += [u] * hist.size
        hist_cols += hist.tolist()
        mix = np.bincount(cats[hist], minlength=n_cats) / hist.size
        cand = rng.choice(n_items, size=60, replace=False)
        rel = rng.random(60) + 0.8 * (cats[cand] == liked[0])  # the ranker over-serves one interest
        p = SelectionProblem(rel.astype(np.float32), categories=cats[cand].astype(np.int32), user_mix=mix)
        before.append(cand[CalibratedGreedy(0.0).select(p, 10).order])
        after.append(cand[CalibratedGreedy(0.5).select(p, 10).order])
    history = sp.csr_matrix((np.ones(len(hist_rows)), (hist_rows, hist_cols)), shape=(n_users, n_items))
    metric = Miscalibration(cats, k=10)
    kl_before, kl_after = metric.compute(np.array(before), history), metric.compute(np.array(after), history)
    assert kl_after < 0.5 * kl_before, (kl_before, kl_after)


def test_calibrated_without_a_mix_falls_back_to_relevance() -> None:
    p = random_problem(seed=1)
    bare = SelectionProblem(p.relevance, categories=p.categories)
    sel = CalibratedGreedy(0.9).select(bare, 5)
    np.testing.assert_array_equal(sel.order, np.argsort(-p.relevance, kind="stable")[:5])
    assert sel.notes


def test_xquad_covers_the_users_categories_in_order_of_their_share() -> None:
    cats = np.array([0, 0, 0, 1, 1, 2], dtype=np.int32)
    rel = np.array([1.0, 0.95, 0.9, 0.5, 0.45, 0.4], dtype=np.float32)
    p = SelectionProblem(rel, categories=cats, user_mix=np.array([0.5, 0.3, 0.2]))
    assert XQuAD(0.0).select(p, 3).order.tolist() == [0, 1, 2]
    # lam = 0.8: after item 0, item 3 gains 0.2*0.5 + 0.8*0.3 = 0.34 > item 1's 0.2*0.95 = 0.19
    assert XQuAD(0.8).select(p, 3).order.tolist() == [0, 3, 5]


def test_mmr_mean_redundancy_is_greedy_max_sum_by_brute_force() -> None:
    from dataclasses import replace

    p = replace(random_problem(n=30, seed=7), mmr_redundancy="mean")
    sel = build_diversifier("mmr", 0.6).select(p, 8)
    v = p.vectors.astype(np.float64)
    picked: list[int] = []
    for j, gain in zip(sel.order.tolist(), sel.gains.tolist(), strict=True):
        best, best_gain = -1, -np.inf
        for i in range(p.n):
            if i in picked:
                continue
            red = float(np.mean(v[picked] @ v[i])) if picked else 0.0
            g = 0.4 * float(p.relevance[i]) - 0.6 * red
            if g > best_gain + 1e-9:
                best, best_gain = i, g
        assert j == best and gain == pytest.approx(best_gain, abs=1e-6)
        picked.append(j)
    assert "mean_similarity" in sel.terms[1]
    classic = build_diversifier("mmr", 0.6).select(replace(p, mmr_redundancy="max"), 8).order
    assert classic.tolist() != sel.order.tolist()  # a different objective here
