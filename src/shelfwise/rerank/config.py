"""The re-ranking settings: one :class:`RerankConfig` (a settings section, ``rerank.*`` in the settings tree).

The one knob, ``diversity`` in ``[0, 1]`` (0 = pure relevance, 1 = maximal diversity), is mapped onto each
method's own trade-off parameter, linearly, so that 0 always reproduces the relevance order exactly:

========== ==================================== =====================================================
method     objective of the greedy step          mapping of ``diversity = d``
========== ==================================== =====================================================
none       ``rel(i)``                            ignored (``d > 0`` with no method set at all = mmr)
mmr        ``lam rel(i) - (1 - lam) max_j sim``   ``lam = 1 - d`` (Carbonell & Goldstein 1998; ``mean_j``
                                                 with ``mmr_redundancy="mean"``)
dpp        ``theta rel(i) + (1 - theta) log d_i^2`` ``theta = 1 - d`` (Chen et al. 2018, kernel
                                                 ``L = Diag(exp(alpha r)) S Diag(exp(alpha r))`` with
                                                 ``alpha = theta / (2 (1 - theta))``)
calibrated ``(1 - lam) rel(i) - lam KL(p || q~)``  ``lam = d`` (Steck 2018)
xquad      ``(1 - lam) rel(i) + lam p(c_i) [c_i new]`` ``lam = d`` (xQuAD over the user's categories)
coverage   ``(1 - lam) rel(i) + lam / (1 + x_i)``    ``lam = d`` (``x_i`` = the item's exposure so far)
fair_exp.  ``(1 - f) rel(i) + f boost(brand_i)``      ``f = fairness`` (its own knob; ``diversity`` unused):
                                                 amortised brand exposure vs merit, :mod:`.fair`
========== ==================================== =====================================================

``rel`` is the candidates' relevance scaled to ``[0, 1]`` (``relevance="minmax"``: min-max of the scores;
``"rank"``: ``rank ** -relevance_power``, which keeps the head of the list far above the tail whatever
the scores' scale; ``"softmax"``: ``exp((s - max s) / relevance_temperature)``, the probability of each
candidate relative to the best when the scores are log-odds, e.g. a learned ranker's) plus rule boosts. With ``coverage > 0`` every method except ``none`` also gains
``diversity * coverage / (1 + x_i)``: an exposure term that favours items shown to few shoppers so far
(catalogue coverage; the exposure counts are kept by the caller, see :mod:`shelfwise.rerank.exposure`).
Scales differ between methods (a max cosine, a log volume, a KL in nats), so equal knob values are not equal
diversity across methods: ``benchmarks/bench_diversity_tradeoff.py`` measures where each method lands.

Example:
    >>> cfg = RerankConfig(method="mmr", diversity=0.3)
    >>> cfg.trade_off()
    {'lambda': 0.7}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from shelfwise.config_base import Section

__all__ = ["CapsConfig", "ExplorationConfig", "Method", "RerankConfig", "RuleConfig"]

Method = Literal["none", "mmr", "dpp", "calibrated", "xquad", "coverage", "fair_exposure"]
Relevance = Literal["minmax", "rank", "softmax"]


class RuleConfig(Section):
    """One business rule, matched by item / category / brand (dense indices; mapped at the edge).

    ``boost`` / ``bury`` add / subtract ``amount`` to the normalised relevance (``[0, 1]``), so
    ``bury`` with the default amount 1 sends an item below every unburied one; ``pin`` puts one item at
    ``position`` (inserting it when no source retrieved it); ``exclude`` removes every match.
    """

    action: Literal["boost", "bury", "pin", "exclude"] = Field(description="what the rule does")
    name: str = Field("", description="label recorded in the breakdown (default: built from the rule)")
    items: list[int] = Field(default_factory=list, description="item indices the rule matches")
    categories: list[int] = Field(default_factory=list, description="category ids the rule matches")
    brands: list[int] = Field(default_factory=list, description="brand ids the rule matches")
    amount: float | None = Field(None, ge=0, description="boost / bury size (default 0.2 / 1.0)")
    position: int | None = Field(None, ge=1, description="1-based position of a pinned item")

    @model_validator(mode="after")
    def _check(self) -> RuleConfig:
        if self.action == "pin":
            if self.position is None or len(self.items) != 1 or self.categories or self.brands:
                raise ValueError("a pin rule needs exactly one item and a position")
        elif not (self.items or self.categories or self.brands):
            raise ValueError(f"a {self.action} rule needs items, categories or brands to match")
        return self

    def label(self) -> str:
        """The rule's name, or one built from what it does."""
        if self.name:
            return self.name
        what = [
            f"{k} {v}"
            for k, v in (("item", self.items), ("category", self.categories), ("brand", self.brands))
            if v
        ]
        where = f" at {self.position}" if self.action == "pin" else ""
        return f"{self.action} {'; '.join(what)}{where}"

    def size(self) -> float:
        """The boost / bury amount with its default."""
        if self.amount is not None:
            return self.amount
        return 0.2 if self.action == "boost" else 1.0


class CapsConfig(Section):
    """Limits on how many list slots a group may take (``None`` = no limit).

    Pinned items count toward caps but are never removed by them (a pin is an explicit decision).
    """

    max_per_category: int | None = Field(None, ge=1, description="at most this many items per category")
    max_per_brand: int | None = Field(None, ge=1, description="at most this many items per brand")
    max_per_seller: int | None = Field(None, ge=1, description="at most this many items per seller")
    min_per_category: dict[int, int] = Field(
        default_factory=dict,
        description="quotas: category id -> at least this many items (when candidates exist)",
    )

    def active(self) -> bool:
        """Whether any cap or quota is set."""
        return any(
            v is not None for v in (self.max_per_category, self.max_per_brand, self.max_per_seller)
        ) or bool(self.min_per_category)


class ExplorationConfig(Section):
    """Exploration slots: candidates from categories outside the shopper's usual interests.

    A candidate qualifies when its category's share in the shopper's mix is at most
    ``max_interest_share`` (default 0: categories the shopper never touched) and it is not in the
    history. One is drawn per slot with probability ``proportional to exp(rel / temperature)``, from a
    generator seeded by ``(seed, request seed)``: the same request always gets the same draw.
    """

    slots: int = Field(0, ge=0, description="exploration slots per list")
    positions: list[int] | None = Field(
        None, description="1-based positions of the slots (default: the last `slots` positions)"
    )
    max_interest_share: float = Field(0.0, ge=0.0, le=1.0, description="'outside usual interests' bound")
    temperature: float = Field(0.25, gt=0.0, description="softness of the relevance-weighted draw")
    seed: int = Field(0, description="seed combined with the request seed")

    @model_validator(mode="after")
    def _check(self) -> ExplorationConfig:
        if self.positions is not None and (
            len(self.positions) != self.slots or min(self.positions, default=1) < 1
        ):
            raise ValueError("exploration.positions must give `slots` 1-based positions")
        return self


class RerankConfig(Section):
    """Re-ranking: rules -> diversity method -> exploration (see the module docstring for the knob)."""

    method: Method = Field(
        "none", description="re-ranking method: none, mmr, dpp, calibrated, xquad, coverage or fair_exposure"
    )
    diversity: float = Field(0.0, ge=0.0, le=1.0, description="0 = pure relevance, 1 = maximal diversity")
    fairness: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="method fair_exposure: 0 = relevance order, 1 = brand exposure by merit only",
    )
    fairness_tail: int = Field(
        0,
        ge=0,
        description="fair_exposure: the last N positions of each list go to the most under-exposed brands among "
        "the candidates (fairness 1 there, the most relevant item of such a brand); the others use rerank.fairness",
    )
    fairness_merit: Literal["max", "sum", "equal"] = Field(
        "max",
        description="fair_exposure: a brand's merit per request = its best candidate's relevance, the sum, or 1",
    )
    k: int = Field(10, ge=1, description="list length")
    candidates: int = Field(200, ge=1, description="candidates the harness hands the re-ranker per user")
    relevance: Relevance = Field("minmax", description="relevance scaling: minmax, rank or softmax")
    relevance_power: float = Field(1.0, gt=0.0, description="relevance='rank': rel = rank ** -power")
    relevance_temperature: float = Field(
        1.0, gt=0.0, description="relevance='softmax': rel = exp((score - max score) / temperature)"
    )
    order: Literal["selection", "relevance"] = Field(
        "selection", description="order of the diversified items: as selected, or most relevant first"
    )
    mmr_redundancy: Literal["max", "mean"] = Field(
        "max", description="MMR redundancy: max (classic) or mean similarity to the list (max-sum)"
    )
    coverage: float = Field(
        0.0, ge=0.0, description="weight of the exposure (catalogue coverage) term, times the knob"
    )
    exposure_half_life: int = Field(
        10_000,
        ge=1,
        description="serving: lists after which an item's exposure count (method coverage) halves",
    )
    caps: CapsConfig = Field(default_factory=CapsConfig)
    exploration: ExplorationConfig = Field(default_factory=ExplorationConfig)
    rules: list[RuleConfig] = Field(default_factory=list, description="business rules, applied in order")
    exclude_history: bool = Field(False, description="drop the shopper's history items from the list")
    calibration_alpha: float = Field(
        0.01, gt=0.0, lt=1.0, description="Steck's smoothing q~ = (1 - a) q + a p (as the harness metric)"
    )
    dpp_epsilon: float = Field(1e-6, gt=0.0, description="DPP: residual volume below which an item adds none")

    @model_validator(mode="before")
    @classmethod
    def _knob_implies_a_method(cls, data: Any) -> Any:
        """``diversity > 0`` with no method given means MMR, so turning the one knob always does
        something (``--set rerank.diversity=0.3`` alone diversifies). An explicit ``method="none"`` keeps
        diversification off whatever the knob says (how a baseline of a diverse setting is taken)."""
        if isinstance(data, dict) and data.get("method") is None:
            try:
                knob = float(data.get("diversity") or 0.0)
            except (TypeError, ValueError):
                return data  # the field validator reports it
            if knob > 0:
                return {**data, "method": "mmr"}
        return data

    def trade_off(self) -> dict[str, float]:
        """The method's own trade-off parameter(s) for the current ``diversity``."""
        d = self.diversity
        if self.method == "mmr":
            return {"lambda": round(1.0 - d, 12)}
        if self.method == "dpp":
            theta = round(1.0 - d, 12)
            return {"theta": theta, "alpha": theta / (2.0 * (1.0 - theta)) if theta < 1 else float("inf")}
        if self.method in ("calibrated", "xquad", "coverage"):
            return {"lambda": d}
        if self.method == "fair_exposure":
            return {"fairness": self.fairness}
        return {}

    def with_knob(self, **changes: Any) -> RerankConfig:
        """A validated copy with per-request changes (e.g. ``diversity=0.5, method="dpp"``).

        A request that turns the knob up without naming a method, on a configuration that never named
        one either, gets MMR (the knob does not silently do nothing); a configured ``method="none"`` stays.
        """
        data = self.model_dump() | changes
        if "method" not in changes and "method" not in self.model_fields_set:
            data.pop("method")
        return RerankConfig.model_validate(data)
