"""save(dir) / load(dir) of fitted sources: a JSON manifest plus raw ``.npy`` arrays, never pickle.

Layout::

    <dir>/manifest.json   {"kind", "format", "shelfwise", "config", "config_hash", "extra", "arrays"}
    <dir>/<name>.npy      one file per array (loaded with allow_pickle=False, memory-mappable)

Sparse matrices are stored as three arrays ``<name>.indptr``, ``<name>.indices``, ``<name>.data`` plus
their shape in ``extra``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["csr_arrays", "csr_from_arrays", "load_state", "save_state"]

FORMAT = 1


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("shelfwise")
    except Exception:  # pragma: no cover - editable installs without metadata
        return "unknown"


def save_state(
    folder: Path,
    kind: str,
    config: dict[str, Any],
    arrays: dict[str, np.ndarray],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a fitted source into ``folder``.

    Args:
        folder: directory (created).
        kind: the source class name, checked on load.
        config: the source's JSON-ready configuration.
        arrays: name -> array (numeric dtypes only).
        extra: other JSON-ready facts (shapes, counts).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        np.save(folder / f"{name}.npy", np.asarray(arr), allow_pickle=False)
    blob = json.dumps(config, sort_keys=True, default=str)
    manifest = {
        "kind": kind,
        "format": FORMAT,
        "shelfwise": _version(),
        "config": config,
        "config_hash": hashlib.sha256(blob.encode()).hexdigest()[:16],
        "extra": extra or {},
        "arrays": sorted(arrays),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))


def load_state(folder: Path, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read what :func:`save_state` wrote.

    Returns:
        ``(manifest, arrays)``.

    Raises:
        ValueError: the folder holds another kind of source or an unknown format.
    """
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("kind") != kind:
        raise ValueError(f"{folder} holds a {manifest.get('kind')!r}, not a {kind!r}")
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{folder}: unknown format {manifest.get('format')!r}")
    arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in manifest["arrays"]}
    return manifest, arrays


def csr_arrays(name: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """The three arrays of a CSR matrix, named for :func:`save_state`."""
    return {f"{name}.indptr": m.indptr, f"{name}.indices": m.indices, f"{name}.data": m.data}


def csr_from_arrays(name: str, arrays: dict[str, np.ndarray], shape: tuple[int, int]) -> sp.csr_matrix:
    """Rebuild the CSR matrix :func:`csr_arrays` split up."""
    return sp.csr_matrix(
        (arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]), shape=tuple(shape)
    )
