"""Request ids: taken from ``X-Request-ID`` when well-formed, else made; echoed on every response.

The id is kept in a context variable so error handlers, logs and the impression log see the same one.
"""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("shelfwise_request_id", default="")
_uses: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "shelfwise_request_uses", default=None
)


def new_request_id() -> str:
    """A fresh random id (32 hex characters)."""
    return uuid.uuid4().hex


def accept_request_id(raw: str | None) -> str:
    """The caller's id when it is 8-64 safe characters, else a new one."""
    return raw if raw and _VALID.match(raw) else new_request_id()


def set_request_id(value: str) -> contextvars.Token[str]:
    """Make ``value`` the current request id (returns a token to reset it)."""
    _uses.set([0])
    return _current.set(value)


def current_request_id() -> str:
    """The id of the request being handled ("" outside one)."""
    return _current.get()


def impression_id() -> str:
    """An id for one shown list: the request id the first time, ``<id>.2``, ``<id>.3``... when a request
    (a web page) shows several lists; a new id outside a request."""
    rid = _current.get()
    uses = _uses.get()
    if not rid or uses is None:
        return new_request_id()
    uses[0] += 1
    return rid if uses[0] == 1 else f"{rid}.{uses[0]}"
