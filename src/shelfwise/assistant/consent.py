"""Whether a shopper's profile may personalise the assistant's suggestions, read defensively.

The store's ``users.consent`` column is a JSON object of flags (``{"personalisation": true}``). A shopper whose
flags say ``personalisation`` (or ``personalization``) is false gets unpersonalised suggestions; a shopper
without such a flag gets what ``/v1/search`` gives them (the search pipeline's own default). The table is
re-read at most every ``refresh_seconds``.

Example:
    >>> allowed({"personalisation": False}), allowed({"personalization": True}), allowed(None)
    (False, True, True)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

__all__ = ["ConsentBook", "allowed"]

log = logging.getLogger(__name__)

_FLAGS = ("personalisation", "personalization", "personalise", "personalize")


def allowed(flags: Any) -> bool:
    """False only when a personalisation flag is present and false."""
    if isinstance(flags, str):
        try:
            flags = json.loads(flags)
        except ValueError:
            return True
    if not isinstance(flags, dict):
        return True
    for name in _FLAGS:
        if name in flags:
            return bool(flags[name])
    return True


class ConsentBook:
    """Consent flags of the store's shoppers, by the store's user key."""

    def __init__(self, store: Any, refresh_seconds: float = 60.0) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._denied: frozenset[str] = frozenset()
        self._read = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        table = self.store.read_users()
        if "consent" not in table.column_names:
            self._denied = frozenset()
            return
        ids = table.column("user_id").to_pylist()
        flags = table.column("consent").to_pylist()
        self._denied = frozenset(u for u, f in zip(ids, flags, strict=True) if not allowed(f))

    def allows(self, user_key: str | None) -> bool:
        """Whether ``user_key``'s suggestions may be personalised (False for no shopper)."""
        if user_key is None:
            return False
        with self._lock:
            if time.monotonic() - self._read > self.refresh_seconds:
                try:
                    self._refresh()
                except Exception as exc:  # a store hiccup must not stop the turn; keep the last flags
                    log.warning("consent flags not re-read: %s", exc)
                self._read = time.monotonic()
            return user_key not in self._denied
