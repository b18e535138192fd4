"""Trained preference models. ``shelfwise.models.sequential``: the SASRec-family next-item recommender."""

from __future__ import annotations
