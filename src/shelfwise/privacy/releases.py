"""DP releases of shop statistics from the store: counts per item, per category and per day.

Each release bounds every shopper's contribution, adds OpenDP's Laplace noise (:mod:`shelfwise.privacy.dp`) and
is recorded in the ledger (:mod:`shelfwise.privacy.ledger`) before anything is computed, so a failure can waste
budget but never release without accounting. The keys come from public domains: the catalogue's item ids and
categories, and the calendar days of the requested window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from shelfwise.privacy.consent import ConsentDefaults, consented_events
from shelfwise.privacy.dp import dp_counts
from shelfwise.privacy.dp_config import DPSettings
from shelfwise.privacy.ledger import PrivacyLedger

By = Literal["item", "category", "day"]


def ledger_of(store: Any, settings: DPSettings) -> PrivacyLedger:
    """The store's ledger under the configured budget."""
    return PrivacyLedger(store, settings.epsilon_budget, settings.delta_budget)


def _domain(store: Any, by: By, days: int, until: date) -> list[str]:
    if by == "item":
        return [str(i) for i in store.read_items(["item_id"]).column("item_id").to_pylist()]
    if by == "category":
        cats = store.read_items(["category"]).column("category").to_pylist()
        return sorted({c for c in cats if c})
    return [(until - timedelta(days=d)).isoformat() for d in range(days - 1, -1, -1)]


def _keys(events: Any, by: By, store: Any) -> list[str | None]:
    if by == "item":
        return [None if i is None else str(i) for i in events.column("item_id").to_pylist()]
    if by == "category":
        items = store.read_items(["item_id", "category"])
        cat = dict(
            zip(items.column("item_id").to_pylist(), items.column("category").to_pylist(), strict=True)
        )
        return [cat.get(i) for i in events.column("item_id").to_pylist()]
    return [ts.astimezone(UTC).date().isoformat() for ts in events.column("timestamp").to_pylist()]


def release_counts(
    store: Any,
    by: By,
    settings: DPSettings,
    *,
    epsilon: float | None = None,
    event_types: list[str] | None = None,
    days: int = 30,
    until: date | None = None,
    default_consent: ConsentDefaults | None = None,
) -> dict[str, Any]:
    """An epsilon-DP count of events per ``by`` key, charged to the ledger.

    Raises:
        BudgetExhaustedError: the release does not fit the remaining budget (nothing is computed).
    """
    eps = settings.epsilon_per_release if epsilon is None else epsilon
    until = until or datetime.now(UTC).date()
    what = f"event counts by {by}" + (f" ({', '.join(event_types)})" if event_types else "")
    params: dict[str, Any] = {"by": by, "types": event_types, "max_contributions": settings.max_contributions}
    if by == "day":
        params.update(days=days, until=until.isoformat())
    release = ledger_of(store, settings).spend(eps, 0.0, what, "laplace (OpenDP)", params)
    domain = _domain(store, by, days, until)
    index = {k: n for n, k in enumerate(domain)}
    events = consented_events(  # shoppers who withhold training consent are in no aggregate
        store, "training", ["user_id", "item_id", "timestamp"], types=event_types, default=default_consent
    )
    keys = _keys(events, by, store)
    users = events.column("user_id").to_pylist()
    rows = [(u, index[k]) for u, k in zip(users, keys, strict=True) if k in index]
    codes = {u: n for n, u in enumerate(sorted({u for u, _ in rows}))}
    user_arr = np.array([codes[u] for u, _ in rows], dtype=np.int64)
    key_arr = np.array([k for _, k in rows], dtype=np.int64)
    counts = dp_counts(user_arr, key_arr, len(domain), eps, settings.max_contributions, settings.seed)
    return {
        "release_id": release.release_id,
        "what": what,
        "epsilon": eps,
        "delta": 0.0,
        "max_contributions_per_user": settings.max_contributions,
        "counts": dict(zip(domain, (int(c) for c in counts), strict=True)),
    }
