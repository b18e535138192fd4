"""The pages' signed cookies: a browser session (CSRF token, admin sign-in), and signed shopper ids.

Every cookie the pages read is signed with :mod:`itsdangerous` under the service's secret key
(``$SHELFWISE_SECRET_KEY``, else ``secret.key`` in the configuration folder outside the store; see
:mod:`shelfwise.privacy.secrets`), so a hand-made or altered cookie is ignored:

- ``sw_session``: ``{"csrf": token, "admin": key id or null, "at": sign-in time}``, timed (``api.session_hours``).
  Every POST form carries the token as the field ``csrf`` and is refused (403) without it. An admin sign-in
  stores the id of the API key used, so revoking that key ends the session at once.
- ``sw_visitor`` / ``sw_shopper``: the anonymous visitor's random id / the demo shopper an admin picked.

All are ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the request came over https. Storefront writes (cart,
product views) are rate-limited per shopper and per client address (:class:`WebGuard`).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

from shelfwise.api.ratelimit import WindowLimiter
from shelfwise.privacy.secrets import config_dir, load_or_create_key

__all__ = [
    "SESSION_COOKIE",
    "CsrfFailed",
    "Session",
    "SignInRequired",
    "WebGuard",
    "admin_key",
    "check_csrf",
    "current_session",
    "guard",
    "require_admin",
    "save_session",
    "set_signed_cookie",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "sw_session"
SECRET_FILE = "secret.key"
_ID_MAX_AGE = 30 * 24 * 3600


class SignInRequired(Exception):
    """The page needs an admin sign-in; answered by a 303 to the sign-in page (``next`` = where to return)."""

    def __init__(self, next_url: str) -> None:
        super().__init__("admin sign-in required")
        self.next_url = next_url


class CsrfFailed(Exception):
    """A POST form without the session's CSRF token (answered 403)."""


@dataclass(frozen=True)
class Session:
    """One browser's session.

    Attributes:
        csrf: the token every POST form must carry.
        admin: the key id of the admin signed in on this browser, or None.
        at: when the admin signed in (Unix seconds).
        dirty: the cookie must be (re)written with this response.
    """

    csrf: str
    admin: str | None = None
    at: float = 0.0
    dirty: bool = False

    @classmethod
    def fresh(cls, admin: str | None = None) -> Session:
        """A new session with a new CSRF token (after a sign-in or out too: no fixation)."""
        return cls(secrets.token_urlsafe(24), admin, time.time() if admin else 0.0, dirty=True)


class WebGuard:
    """Signing, sessions and write limits of the pages of one app.

    Args:
        secret: the signing key (at least 16 bytes).
        session_hours: how long an admin sign-in lasts.
        shopper_writes_per_minute: storefront events per shopper and minute (0: unlimited).
        client_writes_per_minute: storefront events per client address and minute (0: unlimited).
        storage: where those writes are counted (a ``limits`` storage, from the service's online state so
            replicas count together; default in-process).
    """

    def __init__(
        self,
        secret: bytes,
        session_hours: float = 8.0,
        shopper_writes_per_minute: int = 30,
        client_writes_per_minute: int = 120,
        storage: Any = None,
    ) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt="shelfwise.web.session")
        self._ids = Signer(secret, salt="shelfwise.web.shopper-id")
        self.max_age = int(session_hours * 3600)
        self.shopper_writes = WindowLimiter(shopper_writes_per_minute, "web-shopper", storage)
        self.client_writes = WindowLimiter(client_writes_per_minute, "web-client", storage)

    @classmethod
    def from_settings(cls, settings: Any, online: Any = None) -> WebGuard:
        """The guard of an app with these settings (the secret from ``api.secret_key_env`` or the key file);
        its write limits count in ``online`` (the service's online state) when given."""
        api = settings.api
        secret = load_or_create_key(config_dir() / SECRET_FILE, api.secret_key_env)
        rl = api.rate_limit
        storage = online.window_storage() if online is not None else None
        return cls(
            secret, api.session_hours, rl.shopper_writes_per_minute, rl.client_writes_per_minute, storage
        )

    # -- sessions ----------------------------------------------------------------------------------
    def load_session(self, cookie: str | None) -> Session | None:
        """The session in a cookie value; None when it is missing, altered or expired."""
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        admin = data.get("admin") if isinstance(data.get("admin"), str) else None
        return Session(data["csrf"], admin, float(data.get("at") or 0.0))

    def dump_session(self, session: Session) -> str:
        """The signed cookie value of a session."""
        return self._sessions.dumps({"csrf": session.csrf, "admin": session.admin, "at": session.at})

    # -- signed ids --------------------------------------------------------------------------------
    def sign_id(self, value: str) -> str:
        """``value`` with its signature (a cookie value)."""
        return self._ids.sign(value.encode("utf-8")).decode("utf-8")

    def unsign_id(self, cookie: str | None) -> str | None:
        """The id in a signed cookie value; None when it is missing or altered."""
        if not cookie:
            return None
        try:
            return self._ids.unsign(cookie.encode("utf-8")).decode("utf-8")
        except (BadSignature, UnicodeError):
            return None

    # -- write limits ------------------------------------------------------------------------------
    def write_wait(self, shopper_id: str, client: str) -> float:
        """Count one storefront write; 0 when allowed, else the seconds to wait (a refused write is not counted)."""
        wait = max(self.shopper_writes.blocked(shopper_id), self.client_writes.blocked(client))
        if wait > 0:
            return wait
        return max(self.shopper_writes.hit(shopper_id), self.client_writes.hit(client))


def guard(request: Request) -> WebGuard:
    """The app's :class:`WebGuard` (made by :func:`shelfwise.web.install`, or here on first use)."""
    state = request.app.state
    g = getattr(state, "web_guard", None)
    if g is None:
        g = state.web_guard = WebGuard.from_settings(state.settings, getattr(state, "online", None))
    return g


def current_session(request: Request) -> Session:
    """This request's session (a fresh one when the cookie is missing, altered or expired)."""
    cached = getattr(request.state, "web_session", None)
    if isinstance(cached, Session):
        return cached
    session = guard(request).load_session(request.cookies.get(SESSION_COOKIE)) or Session.fresh()
    request.state.web_session = session
    return session


def replace_session(request: Request, session: Session) -> Session:
    """Use ``session`` for the rest of this request (written to the cookie by :func:`save_session`)."""
    session = replace(session, dirty=True)
    request.state.web_session = session
    return session


def set_signed_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """A page cookie: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def save_session(request: Request, response: Response) -> None:
    """Write the session cookie when this request made or changed the session."""
    session = getattr(request.state, "web_session", None)
    if isinstance(session, Session) and session.dirty:
        g = guard(request)
        set_signed_cookie(request, response, SESSION_COOKIE, g.dump_session(session), g.max_age)


def admin_key(request: Request) -> Any | None:
    """The API key record of the admin signed in on this browser, or None (also when the key was revoked)."""
    session = current_session(request)
    if not session.admin:
        return None
    keys = getattr(request.app.state, "keys", None)
    record = keys.by_id(session.admin) if keys is not None else None
    return record if record is not None and record.allows("admin") else None


def require_admin(request: Request) -> Any:
    """A dependency of every dashboard page: the admin's key record, else :class:`SignInRequired`."""
    record = admin_key(request)
    if record is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return record


def check_csrf(request: Request, form: dict[str, str]) -> None:
    """Refuse (:class:`CsrfFailed`) a form whose ``csrf`` field is not this session's token."""
    sent = form.get("csrf", "")
    session = current_session(request)
    if session.dirty or not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfFailed("the form's CSRF token is missing or does not match this browser's session")
