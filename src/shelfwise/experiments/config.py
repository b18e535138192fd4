"""Experiment definitions: named configuration variants with traffic shares, and analysis settings."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shelfwise.config_base import Section
from shelfwise.experiments.decision import DecisionSettings

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)

#: Request fields a variant may set (recommend) — everything else is fixed by the caller.
RECOMMEND_PARAMS = ("method", "diversity")
#: Request fields a variant may set (search).
SEARCH_PARAMS = ("personalise",)


class Variant(BaseModel):
    """One arm: a name, its share of traffic and what it changes.

    Attributes:
        name: arm name (``control``, ``mmr-0.3``...).
        share: fraction of traffic (shares of an experiment add up to 1).
        params: request fields the arm sets, e.g. ``{"diversity": 0.3}`` or ``{"method": "popular"}``.
        overrides: settings overrides in ``--set`` form (``rerank.mmr.lambda_=0.5``); an arm with overrides
            gets its own pipeline objects, loaded when the experiment starts.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    share: float = Field(gt=0, le=1)
    params: dict[str, Any] = Field(default_factory=dict)
    overrides: list[str] = Field(default_factory=list)


class Experiment(BaseModel):
    """An experiment on one surface (recommend or search), optionally restricted to some slots.

    Assignment is sticky: ``hash(salt, user) -> arm`` never changes while the definition does not.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    surface: Literal["recommend", "search"] = "recommend"
    slots: list[str] = Field(default_factory=list, description="recommend slots it applies to (empty: all)")
    variants: list[Variant] = Field(min_length=2)
    salt: str = Field("", description="hash salt (default: the experiment name)")
    status: Literal["running", "stopped"] = "running"
    created_at: float = 0.0

    @field_validator("variants")
    @classmethod
    def _distinct(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be distinct, got {names}")
        return variants

    @model_validator(mode="after")
    def _shares(self) -> Experiment:
        total = sum(v.share for v in self.variants)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"variant shares must add up to 1, they add up to {total:g}")
        allowed = RECOMMEND_PARAMS if self.surface == "recommend" else SEARCH_PARAMS
        for v in self.variants:
            bad = sorted(set(v.params) - set(allowed))
            if bad:
                raise ValueError(
                    f"variant {v.name!r}: {self.surface} arms may set {', '.join(allowed)}; not {', '.join(bad)}"
                )
        if not self.salt:
            self.salt = self.name
        return self


class ExperimentSettings(Section):
    """How experiment results are computed."""

    alpha: float = Field(0.05, gt=0, lt=1, description="significance level of the arm comparison")
    srm_alpha: float = Field(0.001, gt=0, lt=1, description="a sample-ratio p-value below this flags SRM")
    attribution_window_seconds: float = Field(
        86_400.0, gt=0, description="an event counts for the latest impression showing its item this recent"
    )
    diversity_field: Literal["category", "brand"] = Field(
        "category", description="item field whose distinct values in a list measure its diversity"
    )
    min_users_per_arm: int = Field(
        100, ge=2, description="below this many users in an arm no comparison gets a verdict"
    )
    power: float = Field(0.8, gt=0, lt=1, description="power the minimum detectable effect is computed for")
    min_detectable_effect: float = Field(
        0.05, gt=0, description="relative effect the test is planned for (sample size, sequential mixing scale)"
    )
    inference: Literal["sequential", "fixed"] = Field(
        "sequential",
        description="sequential: always-valid p-values, safe to read any time; fixed: verdicts only once the "
        "planned sample is reached",
    )
    correction: Literal["holm", "fdr_bh", "none"] = Field(
        "holm", description="multiple-metric correction of the p-values of one experiment"
    )

    def decision(self) -> DecisionSettings:
        """The verdict rules of :mod:`shelfwise.experiments.decision`."""
        return DecisionSettings(
            alpha=self.alpha,
            power=self.power,
            min_detectable_effect=self.min_detectable_effect,
            min_users_per_arm=self.min_users_per_arm,
            inference=self.inference,
            correction=self.correction,
        )


def valid_name(name: str) -> bool:
    """True when ``name`` may name an experiment or an arm."""
    return bool(_NAME.match(name))
