"""Conversation state: what the shopper asked for so far, kept in the online state with a TTL.

A session is a JSON object under ``session:assistant:<id>`` in :class:`~shelfwise.online.OnlineState`, so every
replica sharing the online state continues the same conversation; the CLI, which has no service, keeps it in
the store's metadata instead (:class:`MetaSessions`), with the same TTL. Messages are stored scrubbed of
personal data only.

Example:
    >>> from shelfwise.online import open_online_state
    >>> sessions = OnlineSessions(open_online_state("memory://"), ttl=60)
    >>> s = sessions.load("abc")
    >>> s.need, s.constraints
    ('', {})
    >>> s.need = "tape"; sessions.save(s)
    >>> sessions.load("abc").need
    'tape'
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

__all__ = ["MetaSessions", "OnlineSessions", "Session", "SessionStore"]

#: Turns of the conversation kept for the hand-off summary.
MAX_TURNS = 20


@dataclass
class Session:
    """One conversation.

    Attributes:
        session_id: the caller's id.
        need: what the shopper is looking for, as search text ("tape").
        constraints: hard constraints: ``price_min`` / ``price_max``, ``brand``, ``brand_exclude``, ``colour``,
            ``category``.
        items: the item ids of the last list shown, in order (ordinals refer to it).
        focus: the item a product question is about (the last one referred to).
        turns: ``[{"role": "shopper"|"assistant", "text": ...}]``, scrubbed, the last :data:`MAX_TURNS`.
        unanswered: product questions in a row the evidence could not answer.

    The shopper's id is not kept: the session holds no more about them than their scrubbed messages, and it
    expires after the TTL.
    """

    session_id: str
    need: str = ""
    constraints: dict[str, Any] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    focus: str | None = None
    turns: list[dict[str, str]] = field(default_factory=list)
    unanswered: int = 0

    def add_turn(self, role: str, text: str) -> None:
        """Remember a turn (already scrubbed)."""
        self.turns.append({"role": role, "text": text})
        del self.turns[:-MAX_TURNS]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_json(cls, session_id: str, data: dict[str, Any] | None) -> Session:
        """A session from its stored form (a fresh one for None or a malformed value)."""
        if not isinstance(data, dict):
            return cls(session_id)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "session_id"}
        try:
            return cls(session_id, **known)
        except TypeError:
            return cls(session_id)


class SessionStore(Protocol):
    """Where sessions live."""

    def load(self, session_id: str) -> Session:
        """The session (a fresh one when unknown or expired)."""

    def save(self, session: Session) -> None:
        """Keep the session for the TTL."""


class OnlineSessions:
    """Sessions in the service's online state (shared by replicas when the online state is)."""

    def __init__(self, online: Any, ttl: float) -> None:
        self.online = online
        self.ttl = ttl

    def load(self, session_id: str) -> Session:
        """The session (a fresh one when unknown or expired)."""
        return Session.from_json(session_id, self.online.session(f"assistant:{session_id}"))

    def save(self, session: Session) -> None:
        """Keep the session for the TTL."""
        self.online.save_session(f"assistant:{session.session_id}", session.to_json(), self.ttl)


class MetaSessions:
    """Sessions in the store's metadata, for the CLI (one process per turn); expired ones read as fresh."""

    def __init__(self, store: Any, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    def _key(self, session_id: str) -> str:
        return f"assistant.session.{session_id}"

    def load(self, session_id: str) -> Session:
        """The session (a fresh one when unknown or expired)."""
        data = self.store.get_meta(self._key(session_id))
        if not isinstance(data, dict) or float(data.get("expires", 0)) < time.time():
            return Session(session_id)
        return Session.from_json(session_id, data.get("session"))

    def save(self, session: Session) -> None:
        """Keep the session for the TTL."""
        value = {"expires": time.time() + self.ttl, "session": session.to_json()}
        self.store.set_meta(self._key(session.session_id), value)
