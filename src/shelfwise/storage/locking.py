"""A cross-process lock on a store folder: processes queue for the store instead of failing.

Two small files in the store folder, both created on first use and never holding shop data:

``shop.lock``
    ``flock(LOCK_EX)`` on it is the right to open the DuckDB file. While held it contains one JSON line
    naming the holder (pid, command line, since when), so a waiter that gives up can say who is in the
    way; it is emptied on release.
``shop.lock.waiting``
    A waiter holds ``flock(LOCK_SH)`` on it while it waits. The holder tests it with a non-blocking
    ``LOCK_EX`` between operations (one syscall) and hands the store over when someone is waiting.

The kernel drops both locks when a process dies, ``kill -9`` included, so a crashed holder never blocks
the others. Locks belong to an open file description: a forked child must open its own
(:meth:`StoreLock.reopen`).

Example:
    >>> import tempfile, pathlib
    >>> lock = StoreLock(pathlib.Path(tempfile.mkdtemp()))
    >>> lock.acquire(timeout=1.0); lock.held, lock.others_waiting()
    (True, False)
    >>> lock.release(); lock.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import sys
import time
from pathlib import Path

from shelfwise.storage.errors import StoreBusyError

log = logging.getLogger(__name__)

LOCK_FILE = "shop.lock"
WAITING_FILE = "shop.lock.waiting"
ENV_TIMEOUT = "SHELFWISE_STORE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 30.0

#: how long a process that just handed the store over stays out of the race for it, so that the waiter it
#: yielded to gets it (flock is not a fair queue)
_YIELD_GRACE = 0.05


def default_timeout() -> float:
    """Seconds a process waits for the store: ``$SHELFWISE_STORE_LOCK_TIMEOUT`` or 30."""
    text = os.environ.get(ENV_TIMEOUT, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"${ENV_TIMEOUT}={text!r} must be a number of seconds, e.g. 30") from None
    if value < 0:
        raise ValueError(f"${ENV_TIMEOUT}={text!r} must not be negative")
    return value


def _command_line() -> str:
    try:
        raw = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
        text = " ".join(p.decode("utf-8", "replace") for p in raw.split(b"\0") if p)
    except OSError:
        text = " ".join(sys.argv)
    return text[:300]


class StoreLock:
    """The exclusive right to open one store folder's database, shared fairly between processes.

    Not thread-safe by itself: the store calls it under its own in-process lock.

    Args:
        folder: the store folder (must exist).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.waiting_path = self.folder / WAITING_FILE
        self.held = False
        self.since: float | None = None
        self._yielded_at = 0.0
        self._fd = -1
        self._wfd = -1
        self.reopen()

    def reopen(self) -> None:
        """Open fresh file descriptions (after a fork the inherited ones share the parent's locks)."""
        self.held = False
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self._wfd = os.open(self.waiting_path, os.O_RDWR | os.O_CREAT, 0o644)

    def close(self) -> None:
        """Release (if held) and close the files."""
        if self.held:
            self.release()
        for fd in (self._fd, self._wfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._wfd = -1

    # -- acquire / release -------------------------------------------------------------------------
    def acquire(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) for the store, announcing the wait to the holder.

        Raises:
            StoreBusyError: another process kept it for the whole ``timeout``; names that process.
        """
        if self.held:
            return
        start = time.monotonic()
        deadline = start + timeout
        # a process that just handed the store over lets the waiter have it first
        while time.monotonic() - self._yielded_at < _YIELD_GRACE and self.others_waiting():
            time.sleep(0.002)
        if self._try_lock():
            return
        fcntl.flock(self._wfd, fcntl.LOCK_SH)  # announce: the holder hands over after its operation
        try:
            pause = 0.0005
            while not self._try_lock():
                now = time.monotonic()
                if now >= deadline:
                    raise StoreBusyError(self._busy_message(now - start))
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, 0.01)
        finally:
            fcntl.flock(self._wfd, fcntl.LOCK_UN)
        waited = time.monotonic() - start
        if waited > 1.0:
            log.info("waited %.1f s for the store %s", waited, self.folder)

    def _try_lock(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        self.since = time.time()
        info = {
            "pid": os.getpid(),
            "command": _command_line(),
            "since": dt.datetime.fromtimestamp(self.since, dt.UTC).isoformat(timespec="seconds"),
        }
        with contextlib.suppress(OSError):  # the note is a courtesy: a full disk must not stop the lock
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, (json.dumps(info) + "\n").encode(), 0)
        return True

    def release(self, *, yielded: bool = False) -> None:
        """Give the store up; ``yielded`` when handing it to a waiter (stay out of the race briefly)."""
        if not self.held:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.held = False
        self.since = None
        if yielded:
            self._yielded_at = time.monotonic()

    def others_waiting(self) -> bool:
        """Whether another process is waiting for the store (one non-blocking syscall)."""
        try:
            fcntl.flock(self._wfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._wfd, fcntl.LOCK_UN)
        return False

    # -- diagnostics -------------------------------------------------------------------------------
    def holder(self) -> dict[str, object] | None:
        """What the current holder wrote about itself (pid, command, since), if anything."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            return json.loads(text) if text else None
        except (OSError, ValueError):
            return None

    def _busy_message(self, waited: float) -> str:
        info = self.holder()
        who = (
            f"process {info.get('pid')} ({info.get('command')!s}, holding it since {info.get('since')})"
            if info
            else "another process"
        )
        return (
            f"the store {self.folder} is busy: {who} kept it for the {waited:.1f} s this command waited; "
            f"retry when it is done, or wait longer with ${ENV_TIMEOUT}=<seconds>"
        )
