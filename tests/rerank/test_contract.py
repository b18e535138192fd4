"""The contract every diversity method keeps (run for every entry of the registry)."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.rerank import DIVERSIFIERS, build_diversifier
from shelfwise.rerank.quotas import SlotConstraints

from .conftest import random_problem

METHODS = sorted(DIVERSIFIERS)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(5))
def test_diversity_zero_is_the_relevance_order(method: str, seed: int) -> None:
    p = random_problem(seed=seed)
    picks = build_diversifier(method, 0.0).select(p, 10).order
    expected = np.argsort(-p.relevance, kind="stable")[:10]
    np.testing.assert_array_equal(picks, expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("diversity", [0.3, 0.7, 1.0])
def test_picks_are_distinct_available_and_deterministic(method: str, diversity: float) -> None:
    p = random_problem(seed=3)
    available = np.ones(p.n, dtype=bool)
    available[::4] = False
    div = build_diversifier(method, diversity)
    first = div.select(p, 12, available=available)
    second = div.select(p, 12, available=available)
    np.testing.assert_array_equal(first.order, second.order)
    assert len(set(first.order.tolist())) == first.order.size == 12
    assert available[first.order].all()
    assert first.gains.shape == (12,) and len(first.terms) == 12


@pytest.mark.parametrize("method", METHODS)
def test_stops_when_candidates_run_out(method: str) -> None:
    p = random_problem(n=6, seed=1)
    assert build_diversifier(method, 0.5).select(p, 10).order.size == 6


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(4))
def test_caps_are_never_exceeded(method: str, seed: int) -> None:
    p = random_problem(n=60, seed=seed)
    brands = np.random.default_rng(seed).integers(0, 4, p.n)
    cons = SlotConstraints({"category": p.categories, "brand": brands}, {"category": 2, "brand": 3}, slots=10)
    order = build_diversifier(method, 0.5).select(p, 10, constraint=cons).order
    assert np.bincount(p.categories[order]).max() <= 2
    assert np.bincount(brands[order]).max() <= 3


@pytest.mark.parametrize("method", METHODS)
def test_preselected_items_are_not_returned(method: str) -> None:
    p = random_problem(seed=2)
    pins = [int(np.argmax(p.relevance)), 5]
    order = build_diversifier(method, 0.4).select(p, 8, preselected=pins).order
    assert not set(pins) & set(order.tolist())


def test_unknown_method_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="mmr"):
        build_diversifier("bogus")
