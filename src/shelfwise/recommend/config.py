"""Settings of the served recommendation pipeline (``recommend.*`` in the settings tree).

Kept free of heavy imports (the settings tree imports this module): source and model settings that live
in their own modules are referenced by name and validated when the pipeline is built.

Example:
    >>> s = RecommendSettings()
    >>> s.sources[:2], s.exclude_purchased
    (['als', 'itemknn'], True)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shelfwise.config_base import Section

__all__ = ["SOURCE_CHOICES", "NewItemSettings", "RecommendSettings"]

#: Candidate sources the pipeline can use (see :mod:`shelfwise.recommend.sources`).
SOURCE_CHOICES: tuple[str, ...] = (
    "als",
    "itemknn",
    "item2item",
    "popular",
    "trending",
    "sequential",
)


class NewItemSettings(Section):
    """Items added to the catalogue after training (served before the next ``shelfwise train``)."""

    max_per_list: int = Field(2, ge=0, description="at most this many new items per list (0 = never)")
    min_similarity: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="attribute similarity to the shopper's items below which none is shown",
    )


class RecommendSettings(Section):
    """The recommendation pipeline: sources -> LightGBM ranker -> re-ranker (``rerank.*``)."""

    sources: list[str] = Field(
        default_factory=lambda: ["als", "itemknn", "item2item", "popular"],
        description="candidate sources merged before the ranker: " + ", ".join(SOURCE_CHOICES),
    )
    k_per_source: int = Field(200, ge=1, description="candidates taken from each source")
    rerank_candidates: int = Field(
        200, ge=1, description="ranked candidates handed to the re-ranker (the evaluate runner re-ranks 200)"
    )
    ranker_max_users: int | None = Field(
        None, ge=100, description="train the ranker on a seeded sample of this many users (None = all)"
    )
    exclude_purchased: bool = Field(
        True, description="serving: never recommend what the shopper already bought (not in evaluation)"
    )
    exclude_out_of_stock: bool = Field(True, description="serving: never recommend unavailable items")
    max_history: int = Field(200, ge=1, description="newest history items a request reads")
    new_items: NewItemSettings = Field(default_factory=NewItemSettings)
    sequential: dict[str, Any] = Field(
        default_factory=dict,
        description="overrides of the sequential model's settings (models.sequential.SequentialConfig)",
    )
    fallback: Literal["popular", "trending"] = Field(
        "popular", description="source whose list serves shoppers with no usable history"
    )
