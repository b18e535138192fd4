"""How many shoppers an A/B test and an interleaving experiment need to tell a better ranker from a worse one.

A simulated shop with a known answer: each shopper has ``n_relevant`` relevant items among ``n_items``. A ranker
scores items by ``quality x relevance + noise`` (standard normal noise), so the ranker with the higher quality
puts relevant items higher: ranker A (``quality_a``) is better than ranker B (``quality_b``) by construction.
Shoppers examine position ``p`` of a top-``k`` list with probability ``1 / log2(p + 1)`` and click an examined
item with probability ``click_relevant`` or ``click_other``, times the shopper's own activity: a log-normal factor
with mean 1 and log-scale ``activity_spread`` (real shoppers differ in how much they click by an order of
magnitude; that difference between people is the noise an A/B test must average away and interleaving avoids).

* **A/B**: half the shoppers see A's list, half B's; clicks per shopper are compared with Welch's t-test
  (:func:`~shelfwise.experiments.stats.compare_means`).
* **Interleaving**: every shopper sees the team-draft merge of both lists; each shopper's clicks are credited to
  the teams and :func:`~shelfwise.experiments.interleaving.analyse_interleaving` tests the preference.

:func:`users_needed` finds, on a grid of sizes, the smallest number of shoppers at which each method detects the
better ranker in at least ``power`` of the repetitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shelfwise.experiments.interleaving import analyse_interleaving, team_draft
from shelfwise.experiments.stats import compare_means

Method = Literal["ab", "interleaving"]


@dataclass(frozen=True)
class ShopModel:
    """The simulated shop and shoppers (see the module docstring)."""

    n_items: int = 50
    n_relevant: int = 3
    quality_a: float = 1.0
    quality_b: float = 0.7
    k: int = 10
    click_relevant: float = 0.5
    click_other: float = 0.05
    activity_spread: float = 1.0


def _rankings(
    model: ShopModel, n: int, quality: float, relevant: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    scores = quality * relevant + rng.standard_normal((n, model.n_items))
    return np.argsort(-scores, axis=1)[:, : model.k]


def _shoppers(model: ShopModel, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Relevance (shoppers x items, 0/1) and each shopper's activity factor."""
    relevant = np.zeros((n, model.n_items))
    for row in relevant:
        row[rng.choice(model.n_items, model.n_relevant, replace=False)] = 1.0
    s = model.activity_spread
    activity = rng.lognormal(-s * s / 2, s, n) if s > 0 else np.ones(n)
    return relevant, activity


def _clicks(
    model: ShopModel, lists: np.ndarray, relevant: np.ndarray, activity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A 0/1 click per shown position."""
    examine = 1.0 / np.log2(np.arange(2, lists.shape[1] + 2))
    rel = np.take_along_axis(relevant, lists, axis=1)
    p = examine * np.where(rel > 0, model.click_relevant, model.click_other) * activity[:, None]
    return (rng.random(p.shape) < np.minimum(p, 1.0)).astype(np.int64)


def detects(
    method: Method, model: ShopModel, n_users: int, rng: np.random.Generator, alpha: float = 0.05
) -> bool:
    """One simulated experiment of ``n_users`` shoppers: True when it finds A better than B."""
    relevant, activity = _shoppers(model, n_users, rng)
    if method == "ab":
        half = n_users // 2
        lists_a = _rankings(model, half, model.quality_a, relevant[:half], rng)
        lists_b = _rankings(model, n_users - half, model.quality_b, relevant[half:], rng)
        clicks_a = _clicks(model, lists_a, relevant[:half], activity[:half], rng).sum(axis=1).astype(float)
        clicks_b = _clicks(model, lists_b, relevant[half:], activity[half:], rng).sum(axis=1).astype(float)
        c = compare_means("clicks", clicks_b, clicks_a, alpha)  # treatment A vs control B
        return bool(c.significant and c.diff > 0)
    lists_a = _rankings(model, n_users, model.quality_a, relevant, rng)
    lists_b = _rankings(model, n_users, model.quality_b, relevant, rng)
    credits = []
    for u in range(n_users):
        merged = team_draft([str(i) for i in lists_a[u]], [str(i) for i in lists_b[u]], model.k, rng)
        shown = np.array([[int(i) for i in merged.items]])
        clicked = shown[0][_clicks(model, shown, relevant[u : u + 1], activity[u : u + 1], rng)[0] > 0]
        credits.append(merged.credit(str(i) for i in clicked))
    result = analyse_interleaving(credits, alpha, min_comparisons=1)
    return bool(result.significant and result.wins_a > result.wins_b)


def power_at(method: Method, model: ShopModel, n_users: int, reps: int, seed: int = 0) -> float:
    """Share of ``reps`` simulated experiments that detect the better ranker."""
    rng = np.random.default_rng(seed)
    return sum(detects(method, model, n_users, rng) for _ in range(reps)) / reps


def users_needed(
    method: Method, model: ShopModel, grid: Sequence[int], reps: int = 100, power: float = 0.8, seed: int = 0
) -> tuple[int | None, dict[int, float]]:
    """The smallest size in ``grid`` whose power reaches ``power`` (None if none does), and the power per size."""
    curve: dict[int, float] = {}
    for n in sorted(grid):
        curve[n] = power_at(method, model, n, reps, seed + n)
        if curve[n] >= power:
            return n, curve
    return None, curve
