"""Settings of differentially private releases (``privacy.dp.*``)."""

from __future__ import annotations

from pydantic import Field

from shelfwise.config_base import Section


class DPSettings(Section):
    """The shop's privacy budget and how aggregates are protected."""

    epsilon_budget: float = Field(
        10.0, gt=0, description="total epsilon the shop may spend on DP releases (basic composition)"
    )
    delta_budget: float = Field(1e-6, ge=0, lt=1, description="total delta the shop may spend")
    epsilon_per_release: float = Field(1.0, gt=0, description="default epsilon of one release")
    max_contributions: int = Field(
        20, ge=1, description="events one shopper may contribute to one release (contribution bounding)"
    )
    seed: int | None = Field(
        None, description="seed of contribution sampling (noise always comes from OpenDP's secure sampler)"
    )
