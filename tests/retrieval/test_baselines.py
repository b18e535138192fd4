"""Baseline recommenders: a shared contract on a synthetic shop, plus per-model checks.

The synthetic shop has two groups of shoppers buying from two disjoint groups of items, so the right
answer is known: a shopper's unseen items of their own group should outscore the other group's.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("implicit")

from shelfwise.retrieval.baselines import ALS, ItemKNN, Popularity, Recommender

N_USERS, N_ITEMS = 40, 12
GROUP_A = np.arange(6)  # items 0..5 for users 0..19; items 6..11 for users 20..39


def shop(seed: int = 0) -> sp.csr_matrix:
    """Each user buys 3 random items of their group; item popularity is uneven within a group."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(N_USERS):
        base = 0 if u < N_USERS // 2 else 6
        picks = rng.choice(6, size=3, replace=False, p=[0.3, 0.25, 0.15, 0.1, 0.1, 0.1])
        rows += [u] * 3
        cols += (base + picks).tolist()
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(N_USERS, N_ITEMS))


MODELS = {
    "itemknn_cosine": lambda: ItemKNN(k=5, similarity="cosine", num_threads=1),
    "itemknn_bm25": lambda: ItemKNN(k=5, similarity="bm25", num_threads=1),
    "als": lambda: ALS(factors=4, regularization=0.1, iterations=10, seed=0, num_threads=1),
}


@pytest.fixture(params=[*MODELS, "popularity"])
def model_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(name: str) -> Recommender:
    return Popularity() if name == "popularity" else MODELS[name]()


def test_contract_shapes_types_and_fit_required(model_name: str) -> None:
    train = shop()
    model = make(model_name)
    with pytest.raises(RuntimeError):
        model.score(np.array([0]), train[[0]])
    assert model.fit(train) is model
    users = np.array([0, 5, 25])
    scores = model.score(users, train[users])
    assert scores.shape == (3, N_ITEMS) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    assert isinstance(model.name, str) and isinstance(model.params(), dict)


@pytest.mark.parametrize("name", list(MODELS))
def test_personalised_models_prefer_the_users_group(name: str) -> None:
    train = shop()
    model = make(name).fit(train)
    users = np.arange(N_USERS)
    scores = model.score(users, train)
    in_a = users < N_USERS // 2
    own = np.where(in_a[:, None], scores[:, :6], scores[:, 6:])
    other = np.where(in_a[:, None], scores[:, 6:], scores[:, :6])
    unseen_own = np.where(
        np.where(in_a[:, None], train[:, :6].toarray(), train[:, 6:].toarray()) > 0, np.nan, own
    )
    # the best unseen item of the user's own group beats every item of the other group
    assert (np.nanmax(unseen_own, axis=1) > other.max(axis=1)).mean() >= 0.95


def test_popularity_counts() -> None:
    train = sp.csr_matrix(np.array([[1, 0, 2], [1, 0, 0]], dtype=np.float32))
    scores = Popularity().fit(train).score(np.array([0, 1]))
    assert scores.tolist() == [[2, 0, 2], [2, 0, 2]]  # column sums; ties left for the ranker


FULL_KNN = {
    "popularity": Popularity,
    "itemknn_cosine": lambda: ItemKNN(k=N_ITEMS, similarity="cosine", num_threads=1),
    "itemknn_bm25": lambda: ItemKNN(k=N_ITEMS, similarity="bm25", num_threads=1),
}


@pytest.mark.parametrize("name", list(FULL_KNN))
def test_relabelling_items_only_permutes_scores(name: str) -> None:
    # no model may use the numeric value of an id: shuffle item ids, scores follow the shuffle exactly
    # (item-kNN with k = all items, so no tie at the k-th neighbour is involved)
    train = shop()
    perm = np.random.default_rng(3).permutation(N_ITEMS)  # new column j = old column perm[j]
    permuted = sp.csr_matrix(train[:, perm])
    users = np.arange(N_USERS)
    a = FULL_KNN[name]().fit(train).score(users, train)
    b = FULL_KNN[name]().fit(permuted).score(users, permuted)
    assert np.allclose(a[:, perm], b, atol=1e-5)


def test_itemknn_neighbour_ties_are_not_kept_by_id_order() -> None:
    # items 1..8 are equally similar to item 0 (each co-bought with it once); k = 3 keeps item 0 and two of
    # them. implicit alone keeps the lowest column indices; the seeded shuffle keeps a random pair.
    rows = np.repeat(np.arange(8), 2)
    cols = np.ravel(np.column_stack([np.zeros(8, int), np.arange(1, 9)]))
    train = sp.csr_matrix((np.ones(16, np.float32), (rows, cols)), shape=(8, 9))
    kept = set()
    for seed in range(6):
        sim = ItemKNN(k=3, similarity="cosine", seed=seed, num_threads=1).fit(train).sim
        assert sim is not None
        kept.add(tuple(sorted(set(sim[0].indices.tolist()) - {0})))
    assert len(kept) > 1


def test_itemknn_needs_history_and_scores_from_it() -> None:
    train = shop()
    model = make("itemknn_cosine").fit(train)
    with pytest.raises(ValueError, match="history"):
        model.score(np.array([0]))
    only_item_0 = sp.csr_matrix(np.eye(1, N_ITEMS, 0, dtype=np.float32))
    scores = model.score(np.array([0]), only_item_0)[0]
    assert scores[6:].max() == 0.0 and scores[1:6].max() > 0.0  # neighbours of item 0 are in its group


def test_als_is_seeded_and_float32() -> None:
    train = shop()
    a = make("als").fit(train)
    b = make("als").fit(train)
    c = ALS(factors=4, regularization=0.1, iterations=10, seed=1, num_threads=1).fit(train)
    assert a.item_factors.dtype == np.float32
    assert np.array_equal(a.item_factors, b.item_factors)
    assert not np.array_equal(a.item_factors, c.item_factors)
    with pytest.raises(IndexError):
        a.score(np.array([N_USERS]))
