"""A traffic simulator: replays held-out shoppers against an experiment through the real serving path.

For each sampled shopper (in random order), in ``rounds`` steps: ask :class:`~shelfwise.api.serving.Serving`
for recommendations (the experiment assigns the arm and the impression is logged with it), draw the
shopper's reaction from a click model, and send the clicks and purchases through the
:class:`~shelfwise.api.feedback.FeedbackLoop` with the response's request id — so the next step's list
already reflects them and the analysis attributes them. Then :func:`~shelfwise.experiments.analysis.analyse`
computes the scorecard from what the store logged.

The click model (documented, so an injected difference is known exactly): an item shown at position p is
clicked with probability ``q / log2(p + 1)`` where ``q`` is ``target_click`` for the shopper's held-out item
(their last event in the store), ``related_click`` for an item of the same category, else ``base_click``;
every probability is multiplied by ``1 + lift[arm]`` (the injected effect). A click turns into a purchase
with probability ``purchase_given_click``, worth the item's price.

The store is written to (events, impressions): run it on a copy.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from shelfwise.experiments.config import Experiment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClickModel:
    """Probabilities of the simulated shopper (see the module docstring)."""

    target_click: float = 0.5
    related_click: float = 0.08
    base_click: float = 0.02
    purchase_given_click: float = 0.25
    default_price: float = 10.0


@dataclass
class SimulationReport:
    """What a simulation did and what the analysis found."""

    experiment: str
    users: int
    requests: int
    events_sent: int
    lift: dict[str, float]
    seconds: float
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def held_out_targets(store: Any, users: int, seed: int) -> list[tuple[str, str]]:
    """``(user_id, last item)`` of ``users`` shoppers with at least two events, sampled with ``seed``."""
    events = store.read_events(["user_id", "item_id"])
    last: dict[str, str] = {}
    count: dict[str, int] = {}
    for u, i in zip(events.column("user_id").to_pylist(), events.column("item_id").to_pylist(), strict=True):
        if i is not None:
            last[u] = i
            count[u] = count.get(u, 0) + 1
    eligible = sorted(u for u, n in count.items() if n >= 2)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(eligible), size=min(users, len(eligible)), replace=False)
    return [(eligible[j], last[eligible[j]]) for j in chosen]


def simulate(
    state: Any,
    experiment: Experiment,
    *,
    users: int = 2000,
    rounds: int = 2,
    k: int = 10,
    slot: str = "home",
    lift: dict[str, float] | None = None,
    model: ClickModel | None = None,
    seed: int = 0,
    chunk: int = 100,
) -> SimulationReport:
    """Run the simulation on a loaded service ``state`` (see :func:`shelfwise.api.components.load`).

    Args:
        state: the service objects (``serving``, ``feedback``, ``experiments``, ``store``, ``settings``).
        experiment: registered into ``state.experiments`` when absent.
        users: shoppers to replay.
        rounds: requests per shopper (events of round r are sent before round r + 1).
        lift: injected relative change of every click probability, per arm name (e.g. ``{"b": 0.25}``).
        model: the click model.
        seed: seeds the sample of shoppers and the reactions.
        chunk: shoppers per events batch.
    """
    from shelfwise.experiments.analysis import analyse
    from shelfwise.recommend import RecommendRequest

    started = time.perf_counter()
    model = model or ClickModel()
    lift = lift or {}
    if state.experiments.get(experiment.name) is None:
        state.experiments.create(experiment)
    rng = np.random.default_rng(seed + 1)
    targets = held_out_targets(state.store, users, seed)
    items = state.store.read_items(["item_id", "category", "price"])
    category = dict(
        zip(items.column("item_id").to_pylist(), items.column("category").to_pylist(), strict=True)
    )
    price = dict(zip(items.column("item_id").to_pylist(), items.column("price").to_pylist(), strict=True))
    requests = sent = 0
    clock = time.time()
    for start in tqdm(range(0, len(targets), chunk), desc="simulated shoppers", unit="chunk"):
        batch = targets[start : start + chunk]
        for _ in range(rounds):
            events: list[dict[str, Any]] = []
            for user, target in batch:
                served = state.serving.recommend(RecommendRequest(user_id=user, slot=slot, k=k))
                requests += 1
                arm = (served.arm or ":").split(":", 1)[1]
                factor = 1.0 + lift.get(arm, 0.0)
                for pos, item in enumerate(served.response.items, start=1):
                    iid = item.item_id
                    if iid == target:
                        q = model.target_click
                    elif category.get(iid) and category.get(iid) == category.get(target):
                        q = model.related_click
                    else:
                        q = model.base_click
                    if rng.random() >= min(1.0, q * factor / math.log2(pos + 1)):
                        continue
                    clock += 1.0
                    events.append(
                        {
                            "user_id": user,
                            "item_id": iid,
                            "type": "click",
                            "timestamp": clock,
                            "request_id": served.request_id,
                        }
                    )
                    if rng.random() < model.purchase_given_click:
                        clock += 0.001
                        value = price.get(iid) or model.default_price
                        events.append(
                            {
                                "user_id": user,
                                "item_id": iid,
                                "type": "purchase",
                                "timestamp": clock,
                                "value": float(value),
                            }
                        )
            if events:
                state.feedback.ingest_events(events)
                sent += len(events)
    state.feedback.flush()
    result = analyse(
        state.store, state.experiments.get(experiment.name), state.settings.experiments, seed=seed
    )
    return SimulationReport(
        experiment=experiment.name,
        users=len(targets),
        requests=requests,
        events_sent=sent,
        lift=lift,
        seconds=round(time.perf_counter() - started, 1),
        result=result.to_dict(),
    )
