"""A small shop for re-ranking tests: embeddings, categories, brands, sellers, prices, names."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.rerank import CandidateList, ItemCatalog, SourceHit, UserContext
from shelfwise.rerank.greedy import SelectionProblem


def make_catalog(n_items: int = 80, dim: int = 16, n_cats: int = 8, seed: int = 0) -> ItemCatalog:
    """Items clustered by category (embedding = category centre + noise), uneven prices."""
    rng = np.random.default_rng(seed)
    cats = rng.integers(0, n_cats, n_items).astype(np.int32)
    centres = rng.normal(size=(n_cats, dim))
    emb = (centres[cats] + 0.6 * rng.normal(size=(n_items, dim))).astype(np.float32)
    return ItemCatalog(
        embeddings=emb,
        categories=cats,
        brands=rng.integers(0, 12, n_items).astype(np.int32),
        sellers=rng.integers(0, 5, n_items).astype(np.int32),
        prices=rng.uniform(5, 120, n_items).astype(np.float32),
        item_names=[f"Product {i}" for i in range(n_items)],
        category_names=[f"Category {c}" for c in range(n_cats)],
    )


def random_problem(n: int = 40, dim: int = 8, n_cats: int = 5, seed: int = 0) -> SelectionProblem:
    """Random candidates with a random category mix."""
    rng = np.random.default_rng(seed)
    vec = rng.normal(size=(n, dim)).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    mix = rng.dirichlet(np.ones(n_cats))
    return SelectionProblem(
        relevance=rng.random(n).astype(np.float32),
        vectors=vec,
        categories=rng.integers(0, n_cats, n).astype(np.int32),
        user_mix=mix,
        exposure_bonus=1.0 / (1.0 + rng.integers(0, 5, n)),
    )


def candidates_for(
    catalog: ItemCatalog, n: int = 40, seed: int = 0, user: UserContext | None = None, sources: bool = True
) -> CandidateList:
    """``n`` random candidates with random scores and sources."""
    rng = np.random.default_rng(seed)
    items = rng.permutation(catalog.n_items)[:n]
    scores = rng.normal(size=n).astype(np.float32)
    srcs = None
    if sources:
        srcs = tuple((SourceHit("als", float(scores[i]), "collaborative"),) for i in range(n))
    return CandidateList(items, scores, catalog, user or UserContext(), srcs)


@pytest.fixture(scope="module")
def catalog() -> ItemCatalog:
    return make_catalog()
