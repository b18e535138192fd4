"""Applying a change of consent to what this serving process holds (the store already has it).

A change reaches a process either from its own ``PUT /v1/users/{id}/consent`` (applied at once) or from the
store's consent log at the follower's next tick (:meth:`~shelfwise.api.follower.Follower.poll`). Either way
the shopper's cached responses are dropped, so the next request is answered under the new consent, and a
withdrawn personalisation drops the live profile (the stored one was deleted with the change).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shelfwise.privacy.consent import FLAGS

if TYPE_CHECKING:
    from shelfwise.api.services import Services


def apply_consent_changes(services: Services, user_keys: Iterable[str]) -> int:
    """Drop the caches (and, without personalisation, the live profile) of shoppers whose consent changed;
    returns how many shoppers."""
    n = 0
    for key in user_keys:
        services.caches.invalidate_user(key)
        book = services.consent
        if services.profiles is not None and book is not None and not book.allows(key, "personalisation"):
            services.profiles.forget(key)
        n += 1
    return n


def recordable(services: Services, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The event rows to store: a shopper whose consent allows none of personalisation, analytics and
    training has no purpose their events could serve, so theirs are not recorded. Returns
    ``(rows to store, rows not recorded)``."""
    book = services.consent
    if book is None:
        return rows, 0
    kept = [
        r for r in rows if any(book.allows(services.feedback.user_key(str(r["user_id"])), f) for f in FLAGS)
    ]
    return kept, len(rows) - len(kept)


def follow_consent(services: Services) -> int:
    """One follower tick: read the store's consent log after what this process applied, apply it."""
    if services.consent is None:
        return 0
    return apply_consent_changes(services, services.consent.refresh(services.store))
