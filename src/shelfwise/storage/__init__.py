"""Storage: the :class:`Store` interface, its DuckDB default, and versioned artifacts.

Open a store by folder or URL::

    >>> store = open_store("shelfwise-data")            # doctest: +SKIP
    >>> store = open_store("duckdb:///srv/shop")        # doctest: +SKIP

Backends are registered by URL scheme in :data:`BACKENDS`; adding one (e.g. ``postgres://``) is one module and
one line here, and it must pass the shared contract suite in ``tests/storage/contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shelfwise.storage.artifacts import (
    Artifact,
    ArtifactLocation,
    ArtifactNotFoundError,
    ArtifactStore,
    open_artifacts,
)
from shelfwise.storage.base import DeletionReport, ErasureReport, Store, ValidatedBatch, WriteResult
from shelfwise.storage.errors import (
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreNotFoundError,
)


def _open_duckdb(location: str, create: bool, read_only: bool) -> Store:
    from shelfwise.storage.duckdb_store import DuckDBStore

    return DuckDBStore(Path(location), create=create, read_only=read_only)


def _open_postgres(location: str, create: bool, read_only: bool) -> Store:
    from shelfwise.storage.postgres_store import PostgresStore

    return PostgresStore(f"postgresql://{location}", create=create, read_only=read_only)


#: URL scheme -> opener(location, create, read_only)
BACKENDS: dict[str, Callable[[str, bool, bool], Store]] = {"duckdb": _open_duckdb}
BACKENDS.update(postgresql=_open_postgres, postgres=_open_postgres)


def open_store(
    url: str | Path, *, create: bool = True, read_only: bool = False, artifacts: str | Path | None = None
) -> Store:
    """Open (and by default create) the store at ``url``: a folder path or ``scheme://location``.

    ``artifacts`` (a folder or ``file://`` URL, ``--artifacts``) overrides where the store's artifacts live
    (default: ``<folder>/artifacts``, or the PostgreSQL URL's ``artifacts=``)."""
    text = str(url)
    scheme, sep, location = text.partition("://")
    if not sep:
        scheme, location = "duckdb", text
    try:
        opener = BACKENDS[scheme]
    except KeyError:
        raise ValueError(
            f"unknown store scheme {scheme!r} in {text!r}; known: {', '.join(sorted(BACKENDS))}"
        ) from None
    store = opener(location, create, read_only)
    if artifacts is not None and str(artifacts):
        try:
            store.use_artifacts(open_artifacts(artifacts))
        except BaseException:
            store.close()
            raise
    return store


__all__ = [
    "BACKENDS",
    "Artifact",
    "ArtifactLocation",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "DeletionReport",
    "ErasureReport",
    "Store",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreNotFoundError",
    "ValidatedBatch",
    "WriteResult",
    "open_artifacts",
    "open_store",
]
