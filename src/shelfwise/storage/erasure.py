"""Physical erasure: rewrite a DuckDB file so that deleted rows leave the disk files, not only the tables.

``DELETE`` + ``CHECKPOINT`` marks blocks free but leaves their old bytes in the ``.duckdb`` file (and, before
the checkpoint, in the ``.wal``). The only way to make the bytes go is to write a new file holding just the
live rows and swap it in:

1. ``CHECKPOINT`` (the WAL's content is now in the main file, so the old file alone is complete);
2. ``ATTACH`` a fresh file and ``COPY FROM DATABASE`` into it; drop the "erasure pending" marker there;
3. close, ``fsync`` the new file, remove the old WAL, ``os.replace`` the new file over the old one, ``fsync``
   the folder; remove DuckDB's spill folder (``<file>.tmp``) and any leftover of an interrupted rewrite.

A crash at any point leaves either the old complete file with its marker (the next open rewrites again) or
the new file without it: erasure is idempotent and never loses a row. All of this runs while the caller
holds the store's cross-process lock with the only open connection.

Measured on amazon-beauty (198,502 events, 22,363 users, 12,101 items, 6.0 MB): a median 1.48 s per rewrite
on this loaded 2-core machine (0.4-0.7 s when quiet; ``benchmarks/bench_store_processes.py``) against 33 ms
for a plain ``CHECKPOINT``, which is why the store batches deletions (see
:mod:`shelfwise.storage.duckdb_store`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import duckdb

PENDING_KEY = "erasure_pending"
_TARGET = "_shelfwise_erase_target"


def rewrite_suffix() -> str:
    """Suffix of the file a rewrite is written to before it replaces the store file."""
    return ".rewrite"


def leftovers(db_path: Path) -> list[Path]:
    """Files beside ``db_path`` a finished (or interrupted) rewrite must not leave behind."""
    rewrite = db_path.with_name(db_path.name + rewrite_suffix())
    return [
        rewrite,
        rewrite.with_name(rewrite.name + ".wal"),
        db_path.with_name(db_path.name + ".tmp"),
    ]


def remove_leftovers(db_path: Path, *, spill: bool = True) -> None:
    """Delete an interrupted rewrite and (``spill``: only while no connection is open) DuckDB's spill folder."""
    for path in leftovers(db_path) if spill else leftovers(db_path)[:2]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_live_rows(con: duckdb.DuckDBPyConnection, db_path: Path) -> Path:
    """Steps 1-2: checkpoint and copy every live row of the open database into a fresh file.

    Returns:
        the path of the fresh file (complete and checkpointed, without the pending marker).
    """
    target = db_path.with_name(db_path.name + rewrite_suffix())
    remove_leftovers(db_path, spill=False)
    con.execute("CHECKPOINT")
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f"ATTACH '{target}' AS {_TARGET}")
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO {_TARGET}')
        con.execute(f"DELETE FROM {_TARGET}.meta WHERE key = ?", [PENDING_KEY])
        con.execute(f"CHECKPOINT {_TARGET}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DETACH {_TARGET}")
        remove_leftovers(db_path, spill=False)  # a half-written copy only takes room (e.g. on a full disk)
        raise
    con.execute(f"DETACH {_TARGET}")
    return target


def swap_in(db_path: Path, fresh: Path) -> None:
    """Step 3 (the connection to ``db_path`` must be closed): make ``fresh`` the store file, durably."""
    _fsync(fresh)
    wal = db_path.with_name(db_path.name + ".wal")
    with contextlib.suppress(FileNotFoundError):
        wal.unlink()  # checkpointed before the copy: nothing in it is missing from the old file
    os.replace(fresh, db_path)
    _fsync(db_path.parent, directory=True)
    remove_leftovers(db_path)
