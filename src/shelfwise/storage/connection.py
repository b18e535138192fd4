"""One DuckDB file shared by many processes: a connection held on a short lease under a cross-process lock.

DuckDB lets one process open a file read-write, and several read-only only while no writer has it. A
server that kept its connection for its whole life (the first release) locked every CLI command out. So a
:class:`LeasedConnection` opens the file only while it holds the folder's :class:`StoreLock`, and gives
both up

* as soon as another process announces that it waits (checked after every operation and every 10 ms
  while idle), so a waiter gets the store after at most the operation in progress;
* after ``idle_release`` seconds without an operation, so an idle server leaves the file closed;
* when the store is closed or its process dies (the kernel drops the lock).

Within a lease consecutive operations reuse the open connection: opening costs ~20 ms here, an
operation on an open connection well under 1 ms, so a busy process pays the open once per lease, not
once per call. In-process, one re-entrant lock serialises operations (DuckDB connections are not safe to
share between threads mid-query), so temporary tables and transactions of one operation live within one
connection session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from shelfwise.storage.errors import (
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    is_disk_full,
)
from shelfwise.storage.locking import StoreLock

log = logging.getLogger(__name__)

_POLL = 0.01  # seconds between checks for waiters while a lease is held and idle
_RETRY = 1.0  # seconds before a scheduled job that found the store busy tries again


def translate(exc: BaseException, location: str) -> StoreError | None:
    """The store error a DuckDB / OS error stands for, or None when it is not about the store itself."""
    if is_disk_full(exc):
        return StoreFullError(location, exc)
    text = str(exc)
    if "Could not set lock on file" in text or "Conflicting lock" in text:
        return StoreBusyError(
            f"the store {location} is open in a program that does not queue for it ({text.splitlines()[0]}); "
            "close that program (shelfwise processes share the store by themselves) and retry"
        )
    if "not a valid DuckDB database" in text or "Corrupt database file" in text:
        return StoreCorruptError(
            f"the store file in {location} is not a readable DuckDB database ({text.splitlines()[0]}); "
            "restore it from a backup, or move it away and re-ingest"
        )
    if "database has been invalidated" in text or "FATAL Error" in text:
        return StoreError(
            f"the store {location} stopped after an earlier failure ({text.splitlines()[0]}); nothing "
            "uncommitted was kept: retry (the store reopens from its last commit)"
        )
    return None


class LeasedConnection:
    """The DuckDB connection of one store in one process, opened on demand and released when others wait.

    Args:
        db_path: the DuckDB file.
        read_only: open it read-only (it still takes the lock, briefly).
        timeout: seconds to wait for another process before :class:`StoreBusyError`.
        idle_release: seconds without an operation after which the lease ends.
        quantum: seconds a lease lasts at least before it is handed to a waiter (amortises the ~20-40 ms
            of closing and reopening the file over several operations under contention).
        on_connect: called with every new connection while the lock is held (set-up, checks).
    """

    def __init__(
        self,
        db_path: Path,
        *,
        read_only: bool,
        timeout: float,
        idle_release: float,
        quantum: float = 0.0,
        on_connect: Callable[[duckdb.DuckDBPyConnection], None],
    ) -> None:
        self.db_path = Path(db_path)
        self.read_only = read_only
        self.timeout = timeout
        self.idle_release = idle_release
        self.quantum = quantum
        self._on_connect = on_connect
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._flock = StoreLock(self.db_path.parent)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._depth = 0
        self._last_used = time.monotonic()
        self._pid = os.getpid()
        self._closed = False
        self._job: tuple[float, Callable[[], None]] | None = None
        self.leases = 0  # connections opened so far (for tests and benchmarks)
        self._thread = threading.Thread(target=self._run, name="shelfwise-store-lease", daemon=True)
        self._thread.start()

    @property
    def location(self) -> str:
        return str(self.db_path.parent)

    @property
    def connected(self) -> bool:
        """Whether this process holds the store right now."""
        return self._flock.held

    # -- sessions ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The open connection for one operation; waits for other processes first when needed.

        Raises:
            StoreBusyError: another process kept the store for ``timeout`` seconds.
            StoreFullError: the disk is full (the connection is reset; the store keeps its last commit).
        """
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.location} was closed by this program; open it again")
            if os.getpid() != self._pid:
                self._after_fork()
            con = self._connect()
            self._depth += 1
            try:
                yield con
            except duckdb.Error as exc:
                err = translate(exc, self.location)
                if err is not None:
                    self._disconnect()  # a failed write may leave DuckDB invalidated: reopen from the WAL
                    raise err from exc
                raise
            except OSError as exc:
                if is_disk_full(exc):
                    self._disconnect()
                    raise StoreFullError(self.location, exc) from exc
                raise
            finally:
                self._depth -= 1
                self._last_used = time.monotonic()
                if self._depth == 0 and self._should_yield():
                    self._disconnect(yielded=True)
                self._wake.notify()

    def restart(self, between: Callable[[], None]) -> None:
        """Close the connection but keep the lock, run ``between`` (e.g. swap the file), reopen lazily.

        Must be called inside :meth:`session`.
        """
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            between()

    def schedule(self, delay: float, job: Callable[[], None]) -> None:
        """Run ``job`` (with the store held) after ``delay`` seconds unless an earlier job is scheduled."""
        with self._lock:
            at = time.monotonic() + max(0.0, delay)
            if self._job is None or at < self._job[0]:
                self._job = (at, job)
            self._wake.notify()

    def unschedule(self) -> None:
        """Forget the scheduled job (it was done another way)."""
        with self._lock:
            self._job = None

    def close(self) -> None:
        """End the lease and stop the lease thread; the store stays valid on disk."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._job = None
            if os.getpid() == self._pid:
                self._disconnect()
                self._flock.close()
            self._wake.notify()
        if self._thread is not threading.current_thread() and os.getpid() == self._pid:
            self._thread.join(timeout=5)

    # -- internals ---------------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._con is not None:
            return self._con
        self._flock.acquire(self.timeout)
        try:
            con = duckdb.connect(str(self.db_path), read_only=self.read_only)
        except duckdb.Error as exc:
            self._flock.release()
            err = translate(exc, self.location)
            if err is not None:
                raise err from exc
            raise
        try:
            con.execute("SET TimeZone='UTC'")
            self._on_connect(con)
        except BaseException:
            con.close()
            self._flock.release()
            raise
        self._con = con
        self.leases += 1
        return con

    def _disconnect(self, *, yielded: bool = False) -> None:
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            self._con = None
        self._flock.release(yielded=yielded)

    def _after_fork(self) -> None:
        """A forked child inherited the parent's connection and lock files: start afresh."""
        self._con = None  # the parent's; never close it from here
        self._pid = os.getpid()
        self._flock.reopen()
        self._thread = threading.Thread(target=self._run, name="shelfwise-store-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = os.getpid()
        with self._lock:
            while not self._closed and os.getpid() == me:
                self._wake.wait(self._next_wake())
                if self._closed or os.getpid() != me or self._depth:
                    continue
                self._tick()

    def _next_wake(self) -> float | None:
        if self._flock.held:
            return _POLL
        if self._job is not None:
            return max(0.0, self._job[0] - time.monotonic())
        return None

    def _tick(self) -> None:
        now = time.monotonic()
        if self._job is not None and now >= self._job[0]:
            _, job = self._job
            self._job = None
            try:
                job()
            except StoreBusyError:
                self.schedule(_RETRY, job)
            except Exception:
                log.exception("scheduled store maintenance failed on %s; retrying later", self.location)
                self.schedule(_RETRY * 30, job)
        if self._flock.held and (now - self._last_used >= self.idle_release or self._should_yield()):
            self._disconnect(yielded=True)

    def _should_yield(self) -> bool:
        """Held for at least a quantum, and another process waits."""
        since = self._flock.since
        if not self._flock.held or since is None or time.time() - since < self.quantum:
            return False
        return self._flock.others_waiting()
