"""shelfwise.retrieval: candidate generators and baseline recommenders."""

from __future__ import annotations

from shelfwise.retrieval.baselines import ALS, ItemKNN, Popularity, Recommender

__all__ = ["ALS", "ItemKNN", "Popularity", "Recommender"]
