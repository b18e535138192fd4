"""Merchandising rules a shop manages at run time (boost, bury, pin), kept in the store and applied by the
recommender's re-ranker as :class:`~shelfwise.rerank.config.RuleConfig` rules after the configured ones.

A rule names what it matches by the shop's own words: one ``item_id``, a ``category`` (that category and every
category under it, e.g. ``Home`` matches ``Home > Tape``) or a ``brand``; a pin names one item and a 1-based
``position``. ``slots`` limits a rule to some recommendation slots (empty: every slot). The rules live in the
store's metadata (key :data:`META_KEY`), so every process serving the store sees the same list: a
:class:`RuleBook` re-reads it at most every ``ttl`` seconds (at once in the process that changed it); when the
store cannot be read (closed, unreachable), it keeps the rules it read last.

Example:
    >>> class Meta(dict):
    ...     def get_meta(self, k, d=None): return self.get(k, d)
    ...     def set_meta(self, k, v): self[k] = v
    >>> book = RuleBook(Meta())
    >>> rule = book.add(NewRule(action="boost", brand="Acme", amount=0.3))
    >>> [r.rule_id for r in book.rules()] == [rule.rule_id], book.remove(rule.rule_id), book.rules()
    (True, True, [])
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shelfwise.data.schema import CATEGORY_SEPARATOR
from shelfwise.rerank.config import RuleConfig

__all__ = ["CATEGORY_SEPARATOR", "META_KEY", "MerchRule", "NewRule", "RuleBook"]

log = logging.getLogger(__name__)

META_KEY = "merchandising.rules"

Slot = Literal["home", "similar", "bought_together", "cart"]


class NewRule(BaseModel):
    """A rule as a shop asks for it (what ``POST /v1/rules`` takes; unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["boost", "bury", "pin"] = Field(description="boost / bury by `amount`, or pin an item")
    item_id: str | None = Field(None, min_length=1, max_length=200, description="one item")
    category: str | None = Field(
        None, min_length=1, max_length=300, description="a category and those under it"
    )
    brand: str | None = Field(None, min_length=1, max_length=200, description="a brand (exact name)")
    amount: float | None = Field(
        None, gt=0, le=10, description="boost / bury size on relevance scaled to [0, 1] (default 0.2 / 1.0)"
    )
    position: int | None = Field(None, ge=1, le=100, description="1-based list position of a pinned item")
    slots: list[Slot] = Field(default_factory=list, description="slots the rule applies to (empty: all)")
    note: str = Field("", max_length=200, description="why the rule exists (shown on the dashboard)")

    @model_validator(mode="after")
    def _check(self) -> NewRule:
        targets = [t for t in (self.item_id, self.category, self.brand) if t]
        if len(targets) != 1:
            raise ValueError("a rule matches exactly one of item_id, category or brand")
        if self.action == "pin":
            if not self.item_id or self.position is None:
                raise ValueError("a pin rule needs an item_id and a position")
            if self.amount is not None:
                raise ValueError("a pin rule takes a position, not an amount")
        elif self.position is not None:
            raise ValueError(f"a {self.action} rule takes an amount, not a position")
        return self

    def target(self) -> str:
        """What the rule matches, in words."""
        if self.item_id:
            return f"item {self.item_id}"
        if self.category:
            return f"category {self.category}"
        return f"brand {self.brand}"

    def label(self) -> str:
        """``boost brand Acme (+0.3)``, ``pin item X at 1``: the name recorded in a list's breakdown."""
        if self.action == "pin":
            return f"pin {self.target()} at {self.position}"
        size = self.amount if self.amount is not None else (0.2 if self.action == "boost" else 1.0)
        return f"{self.action} {self.target()} ({'+' if self.action == 'boost' else '-'}{size:g})"

    def applies_to(self, slot: str | None) -> bool:
        """Whether the rule applies to a list of ``slot``."""
        return not self.slots or slot in self.slots


class MerchRule(NewRule):
    """A stored rule: the request with the id and time the shop gave it (what the API returns)."""

    model_config = ConfigDict(extra="ignore")

    rule_id: str = Field(description="the rule's id (DELETE /v1/rules/{rule_id})")
    created_at: float = Field(description="when it was created, Unix seconds")


def _matching(rule: NewRule, catalog: Any) -> list[int]:
    """Dense indices of the serving catalogue's items the rule matches (``catalog``: a ServingCatalog)."""
    if rule.item_id:
        k = catalog.index.get(rule.item_id)
        return [] if k is None else [int(k)]
    if rule.category:
        name, prefix = rule.category, rule.category + CATEGORY_SEPARATOR
        return [k for k, c in enumerate(catalog.categories) if c and (c == name or c.startswith(prefix))]
    return [k for k, b in enumerate(catalog.brands) if b and b == rule.brand]


class RuleBook:
    """The store's managed rules, cached for ``ttl`` seconds, and their re-ranker form for a catalogue.

    Args:
        store: anything with ``get_meta`` / ``set_meta`` (a :class:`~shelfwise.storage.Store`).
        ttl: how long a read of the rules is reused (writes through this book refresh it at once).
    """

    def __init__(self, store: Any, ttl: float = 2.0) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._rules: list[MerchRule] | None = None
        self._read_at = 0.0
        self._failed = False
        # (catalogue id, size, slot) -> (the catalogue, kept so its id is not reused while cached; rules)
        self._compiled: dict[tuple[Any, ...], tuple[Any, list[RuleConfig]]] = {}

    def rules(self) -> list[MerchRule]:
        """Every rule, oldest first."""
        with self._lock:
            now = time.monotonic()
            if self._rules is None or now - self._read_at > self.ttl:
                try:
                    raw = self.store.get_meta(META_KEY, []) or []
                except Exception as exc:  # a closed or unreachable store: keep serving the rules last read
                    if self._rules is None or not self._failed:
                        log.warning(
                            "merchandising rules not re-read (%s): keeping the %d last read",
                            exc,
                            len(self._rules or []),
                        )
                    self._failed = True
                    self._rules, self._read_at = list(self._rules or []), now
                    return list(self._rules)
                self._failed = False
                rules = [MerchRule.model_validate(r) for r in raw]
                if rules != self._rules:
                    self._compiled.clear()
                self._rules, self._read_at = rules, now
            return list(self._rules)

    def refresh(self) -> None:
        """Read the rules again on next use (another book on the same store changed them)."""
        with self._lock:
            self._rules = None
            self._compiled.clear()

    def _write(self, rules: Sequence[MerchRule]) -> None:
        self.store.set_meta(META_KEY, [r.model_dump(mode="json") for r in rules])
        self._rules, self._read_at = list(rules), time.monotonic()
        self._compiled.clear()

    def add(self, rule: NewRule) -> MerchRule:
        """Store a new rule (a fresh id and time); returns it."""
        made = MerchRule(**rule.model_dump(), rule_id=uuid.uuid4().hex[:10], created_at=time.time())
        with self._lock:
            current = self.store.get_meta(META_KEY, []) or []
            self._write([*(MerchRule.model_validate(r) for r in current), made])
        return made

    def remove(self, rule_id: str) -> bool:
        """Delete a rule; False when there is none with that id."""
        with self._lock:
            current = [MerchRule.model_validate(r) for r in self.store.get_meta(META_KEY, []) or []]
            kept = [r for r in current if r.rule_id != rule_id]
            if len(kept) == len(current):
                return False
            self._write(kept)
            return True

    def configs(self, catalog: Any, slot: str | None) -> list[RuleConfig]:
        """The rules for a list of ``slot`` as re-ranker rules over ``catalog``'s dense indices (rules that
        match no item are left out). Cached per catalogue snapshot, size and slot."""
        rules = self.rules()
        if not rules:
            return []
        key = (id(catalog), len(catalog), slot)
        with self._lock:
            hit = self._compiled.get(key)
        if hit is not None:
            return hit[1]
        out = []
        for r in rules:
            if not r.applies_to(slot):
                continue
            items = _matching(r, catalog)
            if not items:
                continue
            out.append(
                RuleConfig(action=r.action, name=r.label(), items=items, amount=r.amount, position=r.position)
            )
        with self._lock:
            if len(self._compiled) > 64:
                self._compiled.clear()
            self._compiled[key] = (catalog, out)
        return out
