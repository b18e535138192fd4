"""Errors a :class:`~shelfwise.storage.base.Store` raises, whatever the backend.

Each carries a message a person can act on (what happened, where, and the fix) and keeps the backend's
error as ``__cause__``. Callers catch :class:`StoreError`; the CLI turns any of them into one line on
stderr and exit code 2.

Example:
    >>> err = StoreFullError("/srv/shop", OSError(28, "No space left on device"))
    >>> isinstance(err, StoreError), "free space" in str(err)
    (True, True)
"""

from __future__ import annotations

import errno


class StoreError(Exception):
    """A store operation failed for a reason outside the caller's data (busy, full, missing, broken)."""


class StoreBusyError(StoreError):
    """Another process held the store longer than this process was willing to wait."""


class StoreFullError(StoreError):
    """The disk holding the store is full: nothing of the failed operation was kept."""

    def __init__(self, location: str, cause: BaseException | None = None) -> None:
        detail = f" ({cause})" if cause is not None else ""
        super().__init__(
            f"the disk holding the store {location} is full{detail}; the operation was rolled back and "
            "the store keeps its previous contents: free space on that disk (or move the store with "
            "--store) and retry"
        )


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store at the given location (and creating one was not asked for)."""


class StoreCorruptError(StoreError):
    """The store file exists but cannot be read as a store."""


_FULL_MARKERS = ("no space left on device", "disk is full", "disk full", "could not write all bytes")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything in its cause chain) says the disk is full (ENOSPC / EDQUOT)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(cur).lower()
        if any(m in text for m in _FULL_MARKERS):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


__all__ = [
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreNotFoundError",
    "is_disk_full",
]
