"""Every metric against a hand-computed example (arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from shelfwise.metrics import (
    AUC,
    GAUC,
    MAP,
    MRR,
    NDCG,
    NOT_RANKED,
    BrandExposure,
    CategoryILD,
    Coverage,
    Gini,
    HitRate,
    IntraListDiversity,
    LogLoss,
    Miscalibration,
    Novelty,
    Recall,
    get_metric,
    ranks_from_lists,
)

# ---------------------------------------------------------------- ranking accuracy


def test_ndcg_binary_log2_discount_and_cutoff() -> None:
    # one target per user at ranks 3, 7, 11 with K = 10:
    #   1/log2(3+1) = 1/2 ; 1/log2(7+1) = 1/3 ; rank 11 > K -> 0      mean = (0.5 + 0.3333 + 0) / 3 = 0.27778
    # (natural log would give 1/ln 4 = 0.721 for the first user; log2(rank) would give 1/log2 3 = 0.631)
    assert NDCG(10).compute(np.array([3, 7, 11])) == pytest.approx((0.5 + 1 / 3) / 3)
    # rank 10 is inside the cut-off: 1/log2(11) = 0.289065, rank 11 outside
    assert NDCG(10).per_user(np.array([10, 11])) == pytest.approx([1 / math.log2(11), 0.0])


def test_ndcg_graded_linear_gain() -> None:
    # gains 3, 2, 1 at ranks 2, 1, 5 with K = 3:
    #   DCG  = 3/log2(3) + 2/log2(2) + 0 (rank 5 > 3)  = 1.892789 + 2          = 3.892789
    #   IDCG = 3/log2(2) + 2/log2(3) + 1/log2(4)       = 3 + 1.261860 + 0.5    = 4.761860
    #   NDCG = 3.892789 / 4.761860 = 0.817494   (exponential gain 2^g - 1 would give 0.7896)
    ranks = np.array([[2, 1, 5]])
    gains = np.array([[3.0, 2.0, 1.0]])
    assert NDCG(3).compute(ranks, gains) == pytest.approx(0.8174935, abs=1e-6)


def test_hit_rate_multi_target_and_users_without_targets() -> None:
    # user 0: rank 2 <= 10 -> hit; user 1: ranks 15, 40 -> miss           HR = 1/2
    assert HitRate(10).compute(np.array([[2, 30], [15, 40]])) == pytest.approx(0.5)
    # user 1 has only padding (rank 0): excluded from the mean, not a miss  HR = 1/1
    assert HitRate(10).compute(np.array([[1], [0]])) == pytest.approx(1.0)
    assert np.isnan(HitRate(10).per_user(np.array([[1], [0]]))[1])


def test_recall_counts_only_real_targets() -> None:
    # user 0: ranks 2, 30, 5 -> 2 of 3 in top 10 = 2/3
    # user 1: ranks 8, 40 and one padding slot -> 1 of 2 = 1/2 (1/3 if padding counted)
    # mean = (2/3 + 1/2) / 2 = 0.583333
    ranks = np.array([[2, 30, 5], [8, 40, 0]])
    assert Recall(10).compute(ranks) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_mrr_first_relevant_rank() -> None:
    # user 0: ranks 4 and 2 -> 1/2 ; user 1: rank 12 > 10 -> 0 ; user 2: rank 1 -> 1     mean = 0.5
    # (an off-by-one 1/(r+1) would give (1/3 + 0 + 1/2) / 3 = 0.278)
    assert MRR(10).compute(np.array([[4, 2], [12, 0], [1, 0]])) == pytest.approx(0.5)


def test_map_at_k() -> None:
    # user 0: relevant ranks 1, 3, 6 (R = 3), K = 5:
    #   precision at the hits: 1/1 (rank 1), 2/3 (rank 3); rank 6 > K.  AP = (1 + 2/3) / min(3, 5) = 0.555556
    # user 1: one relevant item at rank 2:                               AP = (1/2) / 1            = 0.5
    # MAP = (0.555556 + 0.5) / 2 = 0.527778
    ranks = np.array([[1, 3, 6], [2, 0, 0]])
    assert MAP(5).compute(ranks) == pytest.approx((5 / 9 + 0.5) / 2)
    # R > K: ranks 1, 2, 3 with K = 2 -> (1/1 + 2/2) / min(3, 2) = 1.0 (dividing by R would give 0.667)
    assert MAP(2).compute(np.array([[1, 2, 3]])) == pytest.approx(1.0)


def test_not_ranked_and_distinct_rank_checks() -> None:
    # two items missing from a truncated list may share NOT_RANKED; two ranked items may not share a rank
    assert HitRate(5).compute(np.array([[NOT_RANKED, NOT_RANKED]])) == 0.0
    with pytest.raises(ValueError, match="distinct"):
        NDCG(5).compute(np.array([[2, 2]]))
    with pytest.raises(ValueError):
        NDCG(5).compute(np.array([-1]))


def test_ranks_from_lists() -> None:
    top = np.array([[5, 3, 9, -1], [1, 2, 3, 4]])
    relevant = np.array([[9, 7], [4, -1]])
    # 9 is 3rd in list 0, 7 absent, 4 is 4th in list 1, -1 padding
    assert ranks_from_lists(top, relevant).tolist() == [[3, NOT_RANKED], [4, 0]]


def test_get_metric_names() -> None:
    names = ["ndcg@10", "hr@10", "recall@10", "mrr@10", "map@10", "auc", "gauc", "logloss"]
    assert [get_metric(n).name for n in names] == names
    assert get_metric("coverage@20", n_items=5).name == "coverage@20"
    assert get_metric("logloss").higher_is_better is False
    with pytest.raises(ValueError):
        get_metric("ndcg@x")
    with pytest.raises(ValueError):
        get_metric("auc@10")
    with pytest.raises(ValueError):
        get_metric("precision@10")


# ---------------------------------------------------------------- classification


def test_auc_with_tie() -> None:
    # positives 0.9, 0.8, 0.1; negatives 0.8, 0.3. Pairs (pos > neg = 1, tie = 1/2):
    #   0.9: 1 + 1 ; 0.8: 0.5 + 1 ; 0.1: 0 + 0   -> 3.5 / 6 = 0.583333
    labels = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    assert AUC().compute(labels, scores) == pytest.approx(3.5 / 6)


def test_auc_matches_sklearn() -> None:
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = rng.integers(0, 10, 300) / 10  # many ties
    assert AUC().compute(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_gauc_weights_by_impressions_and_skips_one_class_users() -> None:
    # user a: labels 1,0,0 scores .2,.5,.1 -> pairs (.2>.5)=0, (.2>.1)=1 -> AUC 0.5, 3 impressions
    # user b: labels 1,1,0,0 scores .9,.4,.6,.3 -> (.9>.6)(.9>.3)(.4>.6)(.4>.3) = 1+1+0+1 -> 0.75, 4 impressions
    # user c: only positives -> skipped
    # GAUC = (3*0.5 + 4*0.75) / 7 = 0.642857   (unweighted mean would be 0.625)
    groups = np.array(["a"] * 3 + ["b"] * 4 + ["c"] * 2)
    labels = np.array([1, 0, 0, 1, 1, 0, 0, 1, 1])
    scores = np.array([0.2, 0.5, 0.1, 0.9, 0.4, 0.6, 0.3, 0.7, 0.2])
    assert GAUC().compute(labels, scores, groups) == pytest.approx(4.5 / 7)


def test_logloss_natural_log() -> None:
    # -(ln 0.8 + ln(1 - 0.4)) / 2 = (0.223144 + 0.510826) / 2 = 0.366985   (log2 would give 0.529)
    assert LogLoss().compute(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx(0.3669846, abs=1e-6)
    assert LogLoss().compute(np.array([1]), np.array([0.0])) == pytest.approx(-math.log(1e-15))


# ---------------------------------------------------------------- beyond accuracy


def test_coverage_uses_only_top_k() -> None:
    # k = 2: lists [0,1] and [1,4] -> {0,1,4} = 3 of 10 items (k = 3 would add 2 and 5 -> 0.5)
    top = np.array([[0, 1, 2], [1, 4, 5]])
    assert Coverage(n_items=10, k=2).compute(top) == pytest.approx(0.3)


def test_ild_embeddings_cosine() -> None:
    # e0 = (1,0), e1 = (0,1), e2 = (2,2). cos(e0,e1) = 0, cos(e0,e2) = cos(e1,e2) = 1/sqrt(2)
    # list [0,1,2]: (1 + 2 * (1 - 0.707107)) / 3 = 0.528595 ; list [1,2,-1]: 1 - 0.707107 = 0.292893
    # mean = 0.410744   (an unnormalised dot product would not give these values)
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    top = np.array([[0, 1, 2], [1, 2, -1]])
    d = 1 - 1 / math.sqrt(2)
    assert IntraListDiversity(emb, k=3).compute(top) == pytest.approx(((1 + 2 * d) / 3 + d) / 2, abs=1e-6)


def test_ild_category() -> None:
    # categories 0,0,1,2. list [0,1,2,3]: 6 pairs, only (0,1) same -> 5/6; list [0,1]: 1 pair, same -> 0
    # mean = (5/6 + 0) / 2 = 0.416667
    top = np.array([[0, 1, 2, 3], [0, 1, -1, -1]])
    assert CategoryILD(np.array([0, 0, 1, 2]), k=4).compute(top) == pytest.approx(5 / 12)


def test_novelty_bits() -> None:
    # counts 4,2,1,1 (total 8) -> shares 1/2, 1/4, 1/8, 1/8 -> -log2: 1, 2, 3, 3 bits
    # list [0,1] -> 1.5 ; list [2,3] -> 3 ; mean 2.25   (natural log would give 1.56)
    top = np.array([[0, 1], [2, 3]])
    assert Novelty(np.array([4, 2, 1, 1]), k=2).compute(top) == pytest.approx(2.25)
    # an item never seen is floored at count 1: counts 1,1 -> share 1/2 -> 1 bit (not infinity)
    assert Novelty(np.array([0, 1]), k=1).compute(np.array([[0]])) == pytest.approx(1.0)


def test_gini_of_exposure() -> None:
    # lists [0,1], [0,2] over 4 items -> exposure 2,1,1,0 -> sorted 0,1,1,2 (n = 4, sum = 4)
    # sum_j (2j - n - 1) x_j = -3*0 - 1*1 + 1*1 + 3*2 = 6 ; Gini = 6 / (4 * 4) = 0.375
    assert Gini(n_items=4, k=2).compute(np.array([[0, 1], [0, 2]])) == pytest.approx(0.375)
    assert Gini(n_items=2, k=1).compute(np.array([[0], [1]])) == pytest.approx(0.0)


def test_miscalibration_steck() -> None:
    # items 0,1 -> category 0; items 2,3 -> category 1
    # user 0: history {0,2,3} -> p = (1/3, 2/3); list [0,1] -> q = (1, 0)
    #   q~ = 0.99 q + 0.01 p = (0.993333, 0.006667)
    #   KL = 1/3 ln(0.333333/0.993333) + 2/3 ln(0.666667/0.006667)
    #      = 1/3 * (-1.091923) + 2/3 * 4.605170 = -0.363974 + 3.070113 = 2.706139
    # user 1: history {0,2}, list [1,3]: p = q = (1/2, 1/2) -> 0.      mean = 1.353070
    cats = np.array([0, 0, 1, 1])
    hist = sp.csr_matrix(np.array([[1, 0, 1, 1], [1, 0, 1, 0]], dtype=np.float32))
    top = np.array([[0, 1], [1, 3]])
    assert Miscalibration(cats, k=2).compute(top, hist) == pytest.approx(2.706139 / 2, abs=1e-5)


def test_brand_exposure_shares() -> None:
    # slots: A (item 0), B (item 2), A (item 1), unknown (item 3) -> A 2/4, B 1/4, unknown 1/4
    metric = BrandExposure(["A", "A", "B", None], k=2)
    assert metric.name == "brand_exposure@2"
    assert metric.compute(np.array([[0, 2], [1, 3]])) == {"A": 0.5, "B": 0.25, "unknown": 0.25}


def test_pairwise_diversity_per_list_matches_the_mean_and_skips_short_lists() -> None:
    from shelfwise.metrics import CategoryILD

    metric = CategoryILD(np.array([0, 0, 1, 2]), k=3)
    lists = np.array([[0, 1, 2], [0, 3, -1], [2, -1, -1]])
    per = metric.per_list(lists)
    np.testing.assert_allclose(per[:2], [2 / 3, 1.0])
    assert np.isnan(per[2])
    assert metric.compute(lists) == pytest.approx((2 / 3 + 1.0) / 2)
