"""Where the service's own secrets live: an environment variable, else a key file OUTSIDE any store.

A key kept beside the data it protects protects nothing (a copy of the store folder carries both), so key files
default to the per-user configuration folder: ``$SHELFWISE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/shelfwise``,
else ``~/.config/shelfwise``. A missing key file is created with 32 random bytes (hex), mode 0600, in a folder
of mode 0700.

Example:
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> key = load_or_create_key(Path(folder) / "k.key", "SHELFWISE_DOCTEST_UNSET_KEY")
    >>> len(key), oct(os.stat(Path(folder) / "k.key").st_mode & 0o777)
    (32, '0o600')
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

__all__ = ["CONFIG_DIR_ENV", "config_dir", "decode_key", "load_or_create_key"]

log = logging.getLogger(__name__)

#: Environment variable naming the folder that holds shelfwise's key files.
CONFIG_DIR_ENV = "SHELFWISE_CONFIG_DIR"


def config_dir() -> Path:
    """The folder of shelfwise's key files (see the module docstring for the order)."""
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "shelfwise"


def decode_key(text: str) -> bytes:
    """A key given as text: hex when it is hex, else its UTF-8 bytes."""
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8")


def load_or_create_key(path: Path, env_var: str | None = None, min_bytes: int = 16) -> bytes:
    """The key from ``$env_var`` when set, else from ``path`` (created with 32 random bytes when absent).

    Args:
        path: the key file (hex text).
        env_var: an environment variable that overrides the file.
        min_bytes: the shortest key accepted.

    Raises:
        ValueError: the key is shorter than ``min_bytes`` (the message names where it came from).
    """
    if env_var and os.environ.get(env_var):
        key, where = decode_key(os.environ[env_var]), f"${env_var}"
    else:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: read theirs
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
                log.info("created the key file %s (mode 0600)", path)
        key, where = decode_key(path.read_text()), str(path)
    if len(key) < min_bytes:
        raise ValueError(
            f"the key in {where} is too short: use at least {min_bytes} bytes (e.g. 64 hex digits)"
        )
    return key
