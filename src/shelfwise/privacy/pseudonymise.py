"""Keyed pseudonymisation of shopper ids: HMAC-SHA256, truncated, prefixed.

The same raw id and key always give the same pseudonym, so events ingested on different days join up;
without the key, a pseudonym cannot be reversed or recomputed from a guessed id (unlike a plain hash).

Example:
    >>> p = Pseudonymiser(b"k" * 32)
    >>> p("alice") == p("alice"), p("alice") == p("bob"), len(p("alice"))
    (True, False, 22)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

KEY_FILE = "pseudonym.key"


class Pseudonymiser:
    """Maps raw ids to ``u_`` + 20 hex characters (80 bits) of HMAC-SHA256 under a secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key needs at least 16 bytes")
        self._key = key

    def __call__(self, raw_id: str) -> str:
        digest = hmac.new(self._key, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return "u_" + digest[:20]

    def many(self, raw_ids: Iterable[str]) -> list[str]:
        """Pseudonyms of many ids, in order."""
        return [self(r) for r in raw_ids]

    @property
    def fingerprint(self) -> str:
        """A non-secret fingerprint of the key, stored to detect a key change."""
        return hashlib.sha256(b"shelfwise-key-fingerprint" + self._key).hexdigest()[:12]


def load_key(folder: Path | None, env_var: str) -> bytes:
    """The key from ``env_var`` (hex or text), else from ``folder/pseudonym.key``, created (mode 0600) if absent."""
    env = os.environ.get(env_var)
    if env:
        try:
            return bytes.fromhex(env)
        except ValueError:
            return env.encode("utf-8")
    if folder is None:
        raise ValueError(f"pseudonymisation needs a key: set {env_var}")
    path = Path(folder) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())
