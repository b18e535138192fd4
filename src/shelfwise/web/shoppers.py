"""Who is shopping: a demo shopper picked from the store, or an anonymous visitor with a cookie id.

The storefront keeps the choice in signed cookies (:mod:`shelfwise.web.session`), so each browser is its own
shopper: ``sw_shopper`` holds the demo shopper an admin picked (honoured only while that admin is signed in);
without it, ``sw_visitor`` holds a random ``visitor-…`` id, so an anonymous visitor's clicks are real events too
and their feed adapts like anyone's. A hand-made or altered cookie is ignored: the browser gets a new visitor.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from shelfwise.web.session import admin_key, guard, set_signed_cookie

__all__ = [
    "SHOPPER_COOKIE",
    "VISITOR_COOKIE",
    "DemoShoppers",
    "Shopper",
    "current_shopper",
    "pick",
    "remember",
]

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
    """The shopper from the request's signed cookies (a fresh anonymous visitor when there are none, or when
    they were altered); a picked demo shopper counts only while an admin is signed in on this browser."""
    cached = getattr(request.state, "web_shopper", None)
    if isinstance(cached, Shopper):
        return cached
    g = guard(request)
    picked = g.unsign_id(request.cookies.get(SHOPPER_COOKIE))
    visitor = g.unsign_id(request.cookies.get(VISITOR_COOKIE))
    if picked and admin_key(request) is not None:
        shopper = Shopper(picked, known=True)
    elif visitor and visitor.startswith("visitor-") and len(visitor) <= 40:
        shopper = Shopper(visitor, known=False)
    else:
        shopper = Shopper(f"visitor-{secrets.token_hex(6)}", known=False, new_visitor=True)
    request.state.web_shopper = shopper
    return shopper


def remember(request: Request, response: Response, shopper: Shopper) -> None:
    """Set the cookie a new anonymous visitor needs to stay the same visitor."""
    if shopper.new_visitor:
        set_signed_cookie(
            request, response, VISITOR_COOKIE, guard(request).sign_id(shopper.user_id), _MAX_AGE
        )


def pick(request: Request, response: Response, user_id: str | None) -> None:
    """Shop as ``user_id`` from now on (the caller checked the admin sign-in), or anonymously when empty."""
    if user_id:
        set_signed_cookie(request, response, SHOPPER_COOKIE, guard(request).sign_id(user_id), _MAX_AGE)
    else:
        response.delete_cookie(SHOPPER_COOKIE, path="/")


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
