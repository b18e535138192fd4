"""Keyed pseudonymisation of shopper ids: HMAC-SHA256, truncated, prefixed.

The same raw id and key always give the same pseudonym, so events ingested on different days join up;
without the key, a pseudonym cannot be reversed or recomputed from a guessed id (unlike a plain hash).

Where the key comes from (:func:`load_key`): ``$SHELFWISE_PSEUDONYMISE_KEY`` (the variable named by
``privacy.key_env``; the older ``$SHELFWISE_PSEUDONYM_KEY`` is still read), else the key file
``pseudonymise.key`` in the configuration folder (:func:`shelfwise.privacy.secrets.config_dir`, outside every
store), created when absent. A store made before keys moved out keeps its ``pseudonym.key`` working, with one
warning per process asking to move it.

Example:
    >>> p = Pseudonymiser(b"k" * 32)
    >>> p("alice") == p("alice"), p("alice") == p("bob"), len(p("alice"))
    (True, False, 22)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from shelfwise.privacy.secrets import config_dir, decode_key, load_or_create_key

log = logging.getLogger(__name__)

#: The key file a store kept inside itself before keys moved out (still read, with a warning).
KEY_FILE = "pseudonym.key"
#: The key file in the configuration folder.
CONFIG_KEY_FILE = "pseudonymise.key"
#: The variable read when ``privacy.key_env`` (default ``SHELFWISE_PSEUDONYMISE_KEY``) is unset.
LEGACY_ENV = "SHELFWISE_PSEUDONYM_KEY"

_warned: set[str] = set()


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


def load_key(folder: Path | None, env_var: str, key_file: Path | None = None) -> bytes:
    """The pseudonymisation key of the store in ``folder``.

    Order: ``$env_var``; ``$SHELFWISE_PSEUDONYM_KEY`` (the older name); ``folder/pseudonym.key`` when an existing
    store has one (warns once per process: the key should not live beside the data); else ``key_file``
    (default ``<config dir>/pseudonymise.key``), created (mode 0600) when absent.
    """
    for name in (env_var, LEGACY_ENV):
        if os.environ.get(name):
            return decode_key(os.environ[name])
    if folder is not None:
        inside = Path(folder) / KEY_FILE
        if inside.exists():
            if str(inside) not in _warned:
                _warned.add(str(inside))
                log.warning(
                    "the pseudonymisation key is stored inside the store (%s): anyone with a copy of the store "
                    "can re-identify shoppers. Move it out: set $%s to its contents (or move the file to %s) "
                    "and delete it from the store.",
                    inside,
                    env_var,
                    key_file or config_dir() / CONFIG_KEY_FILE,
                )
            return bytes.fromhex(inside.read_text().strip())
    return load_or_create_key(key_file or config_dir() / CONFIG_KEY_FILE)
