"""Experiment definitions persisted in the store (metadata ``experiments``) and the arm of each request.

At most one running experiment applies to a request: the oldest running one whose surface (and, for
recommendations, slot list) matches. Anonymous requests (no user id) are not enrolled, since a sticky
assignment needs an id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shelfwise.experiments.assignment import assign
from shelfwise.experiments.config import Experiment, Variant

META_KEY = "experiments"
ARM_SEPARATOR = ":"


@dataclass(frozen=True)
class Arm:
    """The arm a request was served under."""

    experiment: Experiment
    variant: Variant

    @property
    def label(self) -> str:
        """``experiment:arm``, the value logged in the impression's ``arm`` column."""
        return f"{self.experiment.name}{ARM_SEPARATOR}{self.variant.name}"


def split_arm(label: str | None) -> tuple[str, str] | None:
    """``"exp:arm"`` -> ``("exp", "arm")``; None for an impression outside every experiment."""
    if not label or ARM_SEPARATOR not in label:
        return None
    exp, _, arm = label.partition(ARM_SEPARATOR)
    return exp, arm


class ExperimentRegistry:
    """Create, list, stop and delete experiments; pick the arm of a request.

    Args:
        store: where definitions persist (``get_meta`` / ``set_meta``); None keeps them in memory.
        on_change: called after every change (the service drops its caches and loads arm pipelines).
    """

    def __init__(self, store: Any = None, on_change: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_change = on_change
        self._lock = threading.Lock()
        rows = store.get_meta(META_KEY, []) if store is not None else []
        self._experiments: dict[str, Experiment] = {
            r["name"]: Experiment.model_validate(r) for r in rows or []
        }

    def reload(self) -> None:
        """Read the definitions again from the store (another replica changed them)."""
        rows = self.store.get_meta(META_KEY, []) if self.store is not None else []
        fresh = {r["name"]: Experiment.model_validate(r) for r in rows or []}
        with self._lock:
            self._experiments = fresh

    def _persist(self) -> None:
        if self.store is not None:
            self.store.set_meta(META_KEY, [e.model_dump() for e in self._experiments.values()])
        if self.on_change is not None:
            self.on_change()

    def list(self) -> list[Experiment]:
        """All experiments, oldest first."""
        return sorted(self._experiments.values(), key=lambda e: (e.created_at, e.name))

    def get(self, name: str) -> Experiment | None:
        """One experiment, or None."""
        return self._experiments.get(name)

    def create(self, experiment: Experiment) -> Experiment:
        """Add an experiment; raises ``KeyError`` when the name is taken."""
        with self._lock:
            if experiment.name in self._experiments:
                raise KeyError(experiment.name)
            if not experiment.created_at:
                experiment = experiment.model_copy(update={"created_at": time.time()})
            self._experiments[experiment.name] = experiment
            self._persist()
        return experiment

    def set_status(self, name: str, status: str) -> Experiment:
        """Stop or restart an experiment; raises ``KeyError`` when unknown."""
        with self._lock:
            exp = self._experiments[name].model_copy(update={"status": status})
            self._experiments[name] = exp
            self._persist()
        return exp

    def delete(self, name: str) -> bool:
        """Forget an experiment (its impressions stay in the store); False when unknown."""
        with self._lock:
            found = self._experiments.pop(name, None) is not None
            if found:
                self._persist()
        return found

    def arm_for(self, user_id: str | None, surface: str, slot: str | None = None) -> Arm | None:
        """The arm serving this request, or None (no running experiment applies, or anonymous)."""
        if not user_id:
            return None
        for exp in self.list():
            if exp.status != "running" or exp.surface != surface:
                continue
            if exp.slots and slot not in exp.slots:
                continue
            return Arm(exp, assign(exp, user_id))
        return None
