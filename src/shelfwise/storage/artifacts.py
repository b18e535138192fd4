"""Versioned artifact directories: trained models and indexes, each with a manifest.

Layout under the artifact root::

    <name>/v0001/manifest.json     name, version, created, shelfwise version, config, config hash, files
    <name>/v0001/...               whatever the writer put there (JSON, .npy, safetensors — never pickle)
    <name>/LATEST                  the newest complete version

A version is written into a hidden temporary folder and renamed into place only when the writer returned,
so a crash leaves no half-written version behind, and ``LATEST`` is replaced atomically.

Example:
    >>> import tempfile, numpy as np
    >>> store = ArtifactStore(Path(tempfile.mkdtemp()))
    >>> with store.writer("popularity", config={"k": 10}) as d:
    ...     np.save(d / "scores.npy", np.ones(3, dtype=np.float32))
    >>> store.latest("popularity").version
    1
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shelfwise import __version__


class ArtifactNotFoundError(LookupError):
    """No artifact of that name (or version) exists."""


@dataclass(frozen=True)
class Artifact:
    """A complete, versioned artifact directory and its manifest."""

    name: str
    version: int
    path: Path
    manifest: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The configuration the artifact was built with."""
        return dict(self.manifest.get("config", {}))


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable configuration."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactStore:
    """Versioned directories under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"artifact name {name!r} must be a plain folder name")
        return self.root / name

    def versions(self, name: str) -> list[int]:
        """Complete versions of ``name``, oldest first."""
        folder = self._dir(name)
        if not folder.is_dir():
            return []
        found = []
        for child in folder.iterdir():
            if child.name.startswith("v") and child.name[1:].isdigit() and (child / "manifest.json").exists():
                found.append(int(child.name[1:]))
        return sorted(found)

    def names(self) -> list[str]:
        """Names that have at least one complete version."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def get(self, name: str, version: int) -> Artifact:
        """Load the manifest of one version."""
        path = self._dir(name) / f"v{version:04d}"
        manifest_path = path / "manifest.json"
        if not manifest_path.exists():
            raise ArtifactNotFoundError(f"artifact {name!r} has no version {version} under {self.root}")
        return Artifact(name, version, path, json.loads(manifest_path.read_text(encoding="utf-8")))

    def latest(self, name: str) -> Artifact:
        """The newest complete version; raises :class:`ArtifactNotFoundError` naming what to run."""
        pointer = self._dir(name) / "LATEST"
        if pointer.exists():
            return self.get(name, int(pointer.read_text().strip()))
        versions = self.versions(name)
        if not versions:
            raise ArtifactNotFoundError(
                f"no artifact {name!r} under {self.root}; build it first (e.g. `shelfwise train`)"
            )
        return self.get(name, versions[-1])

    @contextmanager
    def writer(self, name: str, *, config: dict[str, Any] | None = None, **info: Any) -> Iterator[Path]:
        """Yield a temporary folder to write into; on success it becomes the next version.

        Args:
            name: artifact name, e.g. ``"sasrec"``.
            config: the configuration used to build it (kept in the manifest with its hash).
            **info: further JSON-serialisable facts for the manifest (metrics, data counts...).
        """
        folder = self._dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            yield tmp
            existing = self.versions(name)
            version = (existing[-1] + 1) if existing else 1
            files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            manifest = {
                "name": name,
                "version": version,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "shelfwise_version": __version__,
                "config": config or {},
                "config_hash": config_hash(config or {}),
                "files": files,
                **info,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
            final = folder / f"v{version:04d}"
            os.replace(tmp, final)
            pointer_tmp = folder / ".LATEST.tmp"
            pointer_tmp.write_text(str(version))
            os.replace(pointer_tmp, folder / "LATEST")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def verify(self, artifact: Artifact) -> list[str]:
        """Files whose checksum no longer matches the manifest (empty when intact)."""
        bad = []
        for rel, digest in artifact.manifest.get("files", {}).items():
            path = artifact.path / rel
            if not path.exists() or _sha256(path) != digest:
                bad.append(rel)
        return bad
