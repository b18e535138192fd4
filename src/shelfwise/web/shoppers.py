"""Who is shopping: a demo shopper picked from the store, or an anonymous visitor with a cookie id.

The storefront keeps the choice in cookies, so each browser is its own shopper: ``sw_shopper`` holds a picked
demo shopper's id; without it, ``sw_visitor`` holds a random ``visitor-…`` id, so an anonymous visitor's clicks
are real events too and their feed adapts like anyone's.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

__all__ = ["SHOPPER_COOKIE", "VISITOR_COOKIE", "DemoShoppers", "Shopper", "current_shopper", "remember"]

SHOPPER_COOKIE = "sw_shopper"
VISITOR_COOKIE = "sw_visitor"
_MAX_AGE = 30 * 24 * 3600


@dataclass(frozen=True)
class Shopper:
    """The shopper of a request.

    Attributes:
        user_id: the id events are recorded under (a store user id, or ``visitor-…``).
        known: true for a picked demo shopper, false for an anonymous visitor.
        new_visitor: true when the visitor id was made by this request (the response must set the cookie).
    """

    user_id: str
    known: bool
    new_visitor: bool = False


def current_shopper(request: Request) -> Shopper:
    """The shopper from the request's cookies (a fresh anonymous visitor when there are none)."""
    picked = request.cookies.get(SHOPPER_COOKIE, "").strip()
    if picked:
        return Shopper(picked, known=True)
    visitor = request.cookies.get(VISITOR_COOKIE, "").strip()
    if visitor.startswith("visitor-") and len(visitor) <= 40:
        return Shopper(visitor, known=False)
    return Shopper(f"visitor-{secrets.token_hex(6)}", known=False, new_visitor=True)


def remember(response: Response, shopper: Shopper) -> None:
    """Set the cookie a new anonymous visitor needs to stay the same visitor."""
    if shopper.new_visitor:
        response.set_cookie(VISITOR_COOKIE, shopper.user_id, max_age=_MAX_AGE, httponly=True, samesite="lax")


def pick(response: Response, user_id: str | None) -> None:
    """Shop as ``user_id`` from now on, or anonymously when it is empty."""
    if user_id:
        response.set_cookie(SHOPPER_COOKIE, user_id, max_age=_MAX_AGE, httponly=True, samesite="lax")
    else:
        response.delete_cookie(SHOPPER_COOKIE)


class DemoShoppers:
    """The shoppers offered in the picker: the ``limit`` with the most events, with their segment labels."""

    def __init__(self, limit: int = 12) -> None:
        self.limit = limit
        self._rows: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def rows(self, store: Any, profiles: Any | None) -> list[dict[str, Any]]:
        """``[{"user_id", "events", "label"}]``, read once per process."""
        with self._lock:
            if self._rows is None:
                users = store.read_events(["user_id"]).column("user_id").to_pylist()
                top = sorted(Counter(u for u in users if u).items(), key=lambda kv: (-kv[1], kv[0]))
                self._rows = [self._row(u, n, profiles) for u, n in top[: self.limit]]
            return self._rows

    @staticmethod
    def _row(user_id: str, events: int, profiles: Any | None) -> dict[str, Any]:
        label = f"{user_id} · {events} events"
        if profiles is not None and user_id in getattr(profiles, "states", {}):
            seg = profiles.profile_json(user_id).get("segment") or {}
            if seg.get("label"):
                label += f" · {seg['label'][:40]}"
        return {"user_id": user_id, "events": events, "label": label}
