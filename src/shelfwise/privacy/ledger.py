"""The shop's privacy-budget ledger: every DP release with its (epsilon, delta), refused once the budget is spent.

Releases compose by basic sequential composition (epsilons and deltas add up), which is conservative and needs no
assumptions about the mechanisms. The ledger lives in the store (metadata key ``privacy.ledger``), so it survives
restarts, is shared by every process on the store, and is read by ``shelfwise privacy budget`` and the dashboard.

Example:
    >>> class Meta(dict):
    ...     def get_meta(self, k, d=None): return self.get(k, d)
    ...     def set_meta(self, k, v): self[k] = v
    >>> ledger = PrivacyLedger(Meta(), epsilon_budget=2.0, delta_budget=0.0)
    >>> _ = ledger.spend(1.5, 0.0, "item counts")
    >>> ledger.remaining()["epsilon"]
    0.5
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

LEDGER_KEY = "privacy.ledger"


class BudgetExhaustedError(RuntimeError):
    """A release would spend more than the shop's remaining privacy budget."""


@dataclass(frozen=True)
class Release:
    """One DP release: what was released, with which guarantee, when."""

    release_id: str
    what: str
    epsilon: float
    delta: float
    mechanism: str
    at: float
    params: dict[str, Any]


class PrivacyLedger:
    """Budget accounting over a store's metadata (anything with ``get_meta`` / ``set_meta``)."""

    def __init__(self, store: Any, epsilon_budget: float, delta_budget: float) -> None:
        self.store = store
        self.epsilon_budget = epsilon_budget
        self.delta_budget = delta_budget

    def releases(self) -> list[Release]:
        """Every recorded release, oldest first."""
        return [Release(**r) for r in self.store.get_meta(LEDGER_KEY, []) or []]

    def spent(self) -> dict[str, float]:
        """Total epsilon and delta spent."""
        rel = self.releases()
        return {"epsilon": sum(r.epsilon for r in rel), "delta": sum(r.delta for r in rel)}

    def remaining(self) -> dict[str, float]:
        """What is left of the budget (never negative)."""
        spent = self.spent()
        return {
            "epsilon": round(max(0.0, self.epsilon_budget - spent["epsilon"]), 12),
            "delta": max(0.0, self.delta_budget - spent["delta"]),
        }

    def check(self, epsilon: float, delta: float, what: str) -> None:
        """Raise :class:`BudgetExhaustedError` when ``(epsilon, delta)`` does not fit the remaining budget."""
        left = self.remaining()
        if epsilon > left["epsilon"] + 1e-12 or delta > left["delta"] + 1e-18:
            raise BudgetExhaustedError(
                f"{what}: needs epsilon {epsilon:g}, delta {delta:g}; the shop has epsilon {left['epsilon']:g}, "
                f"delta {left['delta']:g} left of {self.epsilon_budget:g} / {self.delta_budget:g} "
                "(raise privacy.dp.epsilon_budget deliberately, or release less)"
            )

    def spend(
        self,
        epsilon: float,
        delta: float,
        what: str,
        mechanism: str = "laplace",
        params: dict[str, Any] | None = None,
    ) -> Release:
        """Record a release after checking it fits; returns the entry."""
        self.check(epsilon, delta, what)
        release = Release(
            uuid.uuid4().hex[:12], what, float(epsilon), float(delta), mechanism, time.time(), params or {}
        )
        self.store.set_meta(LEDGER_KEY, [*[asdict(r) for r in self.releases()], asdict(release)])
        return release

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with every release."""
        return {
            "budget": {"epsilon": self.epsilon_budget, "delta": self.delta_budget},
            "spent": self.spent(),
            "remaining": self.remaining(),
            "composition": "basic (epsilons and deltas add up)",
            "releases": [asdict(r) for r in self.releases()],
        }
