"""Business rules: boost, bury, pin (to a position) and exclude, by item / category / brand.

Rules run after relevance and before diversity, in the order configured, on the candidates' relevance
scaled to ``[0, 1]`` (min-max by default, see ``rerank.relevance``): ``boost`` adds ``amount`` (default 0.2), ``bury`` subtracts it
(default 1.0: below every unburied item), ``exclude`` removes every match, ``pin`` fixes one item at a
position (inserting it when no source retrieved it). Every rule's effect on every candidate is recorded.
Exclusions win over pins (an excluded or already-shown item is never shown); two pins on one position
keep the first, the second takes the next free position.

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank.base import ItemCatalog
    >>> from shelfwise.rerank.config import RuleConfig
    >>> cat = ItemCatalog(categories=np.array([0, 1, 1], dtype=np.int32))
    >>> out = apply_rules([RuleConfig(action="exclude", categories=[0])], np.array([0, 1, 2]),
    ...                   np.array([1.0, 0.5, 0.0]), np.ones(3, dtype=bool), cat, k=10)
    >>> out.keep.tolist(), out.removed[0].why
    ([False, True, True], "excluded by rule 'exclude category [0]'")
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shelfwise.rerank.base import ItemCatalog, RemovedItem
from shelfwise.rerank.config import RuleConfig

__all__ = ["RuleOutcome", "apply_rules", "rule_matches"]

log = logging.getLogger(__name__)


@dataclass
class RuleOutcome:
    """Candidates after the rules (arrays extended when a pin inserted an item).

    Attributes:
        items: int32 candidate items.
        relevance: float64 normalised relevance with boosts / burials applied.
        keep: bool, candidates still eligible (not excluded).
        pins: ``{candidate position: 1-based list position}``.
        inserted: candidate positions added by pins (no source retrieved them).
        effects: per candidate, the rules that touched it (``{"rule", "action", "effect"}``).
        removed: candidates excluded by a rule.
        notes: conflicts worth reporting (pin clashes, pins of excluded items).
    """

    items: np.ndarray
    relevance: np.ndarray
    keep: np.ndarray
    pins: dict[int, int] = field(default_factory=dict)
    inserted: list[int] = field(default_factory=list)
    effects: list[list[dict[str, Any]]] = field(default_factory=list)
    removed: list[RemovedItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rule_matches(rule: RuleConfig, items: np.ndarray, catalog: ItemCatalog) -> np.ndarray:
    """Boolean mask of ``items`` matched by the rule (any of its items, categories or brands)."""
    hit = np.isin(items, rule.items) if rule.items else np.zeros(items.shape, dtype=bool)
    if rule.categories and catalog.categories is not None:
        hit |= np.isin(catalog.categories[items], rule.categories)
    if rule.brands and catalog.brands is not None:
        hit |= np.isin(catalog.brands[items], rule.brands)
    return hit


def apply_rules(
    rules: Sequence[RuleConfig],
    items: np.ndarray,
    relevance: np.ndarray,
    keep: np.ndarray,
    catalog: ItemCatalog,
    k: int,
    blocked: np.ndarray | None = None,
) -> RuleOutcome:
    """Apply ``rules`` in order to one candidate list.

    Args:
        rules: the configured rules.
        items: int32 candidate items.
        relevance: normalised relevance in ``[0, 1]``.
        keep: candidates eligible so far (e.g. not shown earlier in the session); not modified.
        catalog: for category / brand matching.
        k: list length (pins beyond it are reported and ignored).
        blocked: items that must not be shown whether or not they are candidates (e.g. already shown
            in the session): a pin of one is ignored.

    Returns:
        The outcome, with every rule's effect recorded.
    """
    out = RuleOutcome(
        items=np.asarray(items, dtype=np.int32).copy(),
        relevance=np.asarray(relevance, dtype=np.float64).copy(),
        keep=np.asarray(keep, dtype=bool).copy(),
        effects=[[] for _ in range(len(items))],
    )
    pin_rules = [r for r in rules if r.action == "pin"]
    for rule in rules:
        if rule.action in ("boost", "bury", "exclude"):
            _apply_scoring_rule(rule, out, catalog)
    taken_positions: set[int] = set()
    excludes = [r for r in rules if r.action == "exclude"]
    never = np.zeros(0, dtype=np.int32) if blocked is None else np.asarray(blocked)
    for rule in pin_rules:
        _apply_pin(rule, out, catalog, k, taken_positions, excludes, never)
    return out


def _apply_scoring_rule(rule: RuleConfig, out: RuleOutcome, catalog: ItemCatalog) -> None:
    hit = np.flatnonzero(rule_matches(rule, out.items, catalog) & out.keep)
    label = rule.label()
    if rule.action == "exclude":
        out.keep[hit] = False
        for j in hit:
            out.effects[j].append({"rule": label, "action": "exclude", "effect": "removed"})
            out.removed.append(RemovedItem(int(out.items[j]), "rule", f"excluded by rule {label!r}"))
        return
    delta = rule.size() if rule.action == "boost" else -rule.size()
    for j in hit:
        before = float(out.relevance[j])
        out.relevance[j] = before + delta
        out.effects[j].append(
            {
                "rule": label,
                "action": rule.action,
                "effect": round(delta, 6),
                "before": before,
                "after": float(out.relevance[j]),
            }
        )


def _apply_pin(
    rule: RuleConfig,
    out: RuleOutcome,
    catalog: ItemCatalog,
    k: int,
    taken_positions: set[int],
    excludes: list[RuleConfig],
    never: np.ndarray,
) -> None:
    item = int(rule.items[0])
    label = rule.label()
    assert rule.position is not None  # checked by RuleConfig
    where = np.flatnonzero(out.items == item)
    one = np.array([item], dtype=np.int32)
    blocked = bool(np.isin(one, never)[0]) or any(rule_matches(r, one, catalog)[0] for r in excludes)
    if (where.size and not out.keep[where[0]]) or blocked:
        out.notes.append(f"pin {label!r} ignored: item {item} is excluded or already shown")
        return
    if not where.size:
        if catalog.n_items and not 0 <= item < catalog.n_items:
            out.notes.append(f"pin {label!r} ignored: item {item} is not in the catalogue")
            return
        out.items = np.append(out.items, np.int32(item))
        out.relevance = np.append(out.relevance, 0.0)
        out.keep = np.append(out.keep, True)
        out.effects.append([])
        j = out.items.size - 1
        out.inserted.append(j)
    else:
        j = int(where[0])
        if j in out.pins:
            out.notes.append(f"pin {label!r} ignored: item {item} is already pinned")
            return
    position = rule.position
    while position in taken_positions:
        position += 1
    if position > k:
        out.notes.append(f"pin {label!r} ignored: no free position within the list length {k}")
        if j in out.inserted:  # an inserted item that cannot be placed is not a candidate either
            out.keep[j] = False
        return
    if position != rule.position:
        out.notes.append(f"pin {label!r} moved from position {rule.position} to {position} (clash)")
    taken_positions.add(position)
    out.pins[j] = position
    out.effects[j].append({"rule": label, "action": "pin", "effect": f"pinned at position {position}"})
