"""The candidate sources of issue #5 by name: :func:`build_source` builds one from the settings tree.

Names (each a :class:`~shelfwise.retrieval.base.CandidateSource`; ``shelfwise evaluate --models NAME`` runs
it through :class:`shelfwise.evaluation.source_models.SourceModel`):

======================  ==================================================================================
``popular``             :class:`~shelfwise.retrieval.popular.PopularSource`: event-weighted popularity
``trending``            :class:`~shelfwise.retrieval.popular.TrendingSource`: popularity with time decay
``item2item``           :class:`~shelfwise.retrieval.item2item.CoOccurrenceSource`: sequence co-occurrence
``item2item_text``      :class:`~shelfwise.retrieval.item2item.TextSimilaritySource`: nearest item texts
``als_source``          :class:`~shelfwise.retrieval.cf.ALSSource`: ALS, learned factors for known users
``als_foldin``          the same ALS with every user folded in from their history (the cold-user path)
``profile_text``        :class:`~shelfwise.retrieval.content.ProfileSource`: decayed mean of history texts
``content``             :class:`~shelfwise.retrieval.content.ContentSource`: query + session + history text
``lora_text``           :class:`~shelfwise.models.finetune.source.TwoTowerTextSource`: history text ->
                        item text, MiniLM fine-tuned with LoRA on the shop's sequences
``frozen_text``         the same two-tower scoring with the frozen encoder (no training)
======================  ==================================================================================

Settings: each source's pydantic config defaults live in its module; :class:`SourcesSettings` bundles them
so the settings tree can carry them (``models.sources``) once wired into :mod:`shelfwise.config`; until
then the defaults apply. ``als_source`` takes its ALS hyper-parameters from ``models.als``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shelfwise.config import Settings
from shelfwise.models.finetune.config import FinetuneConfig
from shelfwise.retrieval.base import CandidateSource
from shelfwise.retrieval.cf import ALSSource, ALSSourceConfig
from shelfwise.retrieval.content import ContentConfig, ContentSource, ProfileSource, TextProfileConfig
from shelfwise.retrieval.item2item import (
    CoOccurrenceConfig,
    CoOccurrenceSource,
    TextSimilarityConfig,
    TextSimilaritySource,
)
from shelfwise.retrieval.popular import PopularConfig, PopularSource, TrendingConfig, TrendingSource

__all__ = ["SOURCE_NAMES", "SourcesSettings", "build_source"]


class SourcesSettings(BaseModel):
    """Configs of every registered source, by registered name."""

    model_config = ConfigDict(extra="forbid")

    popular: PopularConfig = Field(default_factory=PopularConfig)
    trending: TrendingConfig = Field(default_factory=TrendingConfig)
    item2item: CoOccurrenceConfig = Field(default_factory=CoOccurrenceConfig)
    item2item_text: TextSimilarityConfig = Field(default_factory=TextSimilarityConfig)
    profile_text: TextProfileConfig = Field(default_factory=TextProfileConfig)
    content: ContentConfig = Field(default_factory=ContentConfig)
    lora_text: FinetuneConfig = Field(default_factory=FinetuneConfig)
    frozen_text: FinetuneConfig = Field(default_factory=lambda: FinetuneConfig(train=False))


def _sources(settings: Settings) -> SourcesSettings:
    found = getattr(settings.models, "sources", None)
    return found if isinstance(found, SourcesSettings) else SourcesSettings()


def _als_config(settings: Settings, fold_in: str) -> ALSSourceConfig:
    als = settings.models.als
    return ALSSourceConfig(
        factors=als.factors,
        regularization=als.regularization,
        alpha=als.alpha,
        iterations=als.iterations,
        fold_in=fold_in,
        seed=settings.seed,
    )


def build_source(name: str, settings: Settings) -> CandidateSource:
    """The source registered as ``name``, configured from ``settings``."""
    cfg = _sources(settings)
    seed = {"seed": settings.seed}
    if name == "popular":
        return PopularSource(cfg.popular.model_copy(update=seed))
    if name == "trending":
        return TrendingSource(cfg.trending.model_copy(update=seed))
    if name == "item2item":
        return CoOccurrenceSource(cfg.item2item.model_copy(update=seed))
    if name == "item2item_text":
        return TextSimilaritySource(cfg.item2item_text.model_copy(update=seed))
    if name == "als_source":
        return ALSSource(_als_config(settings, "unknown"))
    if name == "als_foldin":
        return ALSSource(_als_config(settings, "always"))
    if name == "profile_text":
        return ProfileSource(cfg.profile_text.model_copy(update=seed))
    if name == "content":
        return ContentSource(cfg.content.model_copy(update=seed))
    if name in ("lora_text", "frozen_text"):
        from shelfwise.models.finetune.source import TwoTowerTextSource

        config = cfg.lora_text if name == "lora_text" else cfg.frozen_text
        return TwoTowerTextSource(config.model_copy(update=seed), name)
    raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}")


SOURCE_NAMES: tuple[str, ...] = (
    "popular",
    "trending",
    "item2item",
    "item2item_text",
    "als_source",
    "als_foldin",
    "profile_text",
    "content",
    "lora_text",
    "frozen_text",
)
