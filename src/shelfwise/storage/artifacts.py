"""Versioned artifact directories: trained models and indexes, each with a manifest.

Layout under the artifact root::

    <name>/v0001/manifest.json     name, version, created, shelfwise version, config, config hash, files
    <name>/v0001/...               whatever the writer put there (JSON, .npy, safetensors — never pickle)
    <name>/LATEST                  the newest complete version
    CURRENT.json                   the location's manifest: every name's current version, the store
                                   cursors each was built from, and a serial that grows with every change

A version is written into a hidden temporary folder and renamed into place only when the writer returned,
so a crash leaves no half-written version behind, and ``LATEST`` and ``CURRENT.json`` are replaced
atomically. ``CURRENT.json`` is what serving replicas poll to move to a new version without a restart
(:mod:`shelfwise.api.artifact_watch`): one small file read per poll, wherever the folder is shared.

Where the artifacts live is an :class:`ArtifactLocation` (``--artifacts DIR`` or ``file:///DIR``); a folder is
the one kind implemented, and :data:`LOCATIONS` is the seam where an object store would plug in.

Example:
    >>> import tempfile, numpy as np
    >>> store = ArtifactStore(Path(tempfile.mkdtemp()))
    >>> with store.writer("popularity", config={"k": 10}) as d:
    ...     np.save(d / "scores.npy", np.ones(3, dtype=np.float32))
    >>> store.latest("popularity").version
    1
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shelfwise import __version__

#: The location's manifest file (under the artifact root).
CURRENT = "CURRENT.json"
#: Manifest fields copied into ``CURRENT.json`` per name: the store cursors a version was built from.
_CURSOR_FIELDS = ("catalogue_seq", "event_seq", "deletion_seq")


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


def file_sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file, read in 1 MiB chunks (the manifests' per-file checksums)."""
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
            files = {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
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
            self._record_current(name, version, manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # -- the location's manifest -------------------------------------------------------------------
    def current(self) -> dict[str, Any]:
        """The location's manifest: ``{"serial", "updated", "versions": {name: version}, "cursors": {name:
        {catalogue_seq, event_seq, ...}}}``. A location written before the manifest existed gets one
        computed from the ``LATEST`` pointers (serial 0)."""
        path = self.root / CURRENT
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            pass
        except json.JSONDecodeError:  # never half-written (atomic replace); a foreign edit: recompute
            pass
        versions = {}
        for name in self.names():
            try:
                versions[name] = self.latest(name).version
            except ArtifactNotFoundError:  # removed meanwhile
                continue
        return {"serial": 0, "updated": None, "versions": versions, "cursors": {}}

    def current_versions(self) -> dict[str, int]:
        """``{name: current version}`` from :meth:`current`."""
        return {str(k): int(v) for k, v in self.current().get("versions", {}).items()}

    def _record_current(self, name: str, version: int, manifest: dict[str, Any]) -> None:
        """Name ``version`` as current in ``CURRENT.json`` (read-modify-write under a lock on the folder,
        so two writers, e.g. ``build`` and ``train``, never lose each other's entry)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".current.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                doc = self.current()
                doc.setdefault("versions", {})[name] = version
                doc.setdefault("cursors", {})[name] = {
                    k: manifest[k] for k in _CURSOR_FIELDS if manifest.get(k) is not None
                }
                doc["serial"] = int(doc.get("serial") or 0) + 1
                doc["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                tmp = self.root / f".{CURRENT}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps(doc, indent=2, sort_keys=True), encoding="utf-8")
                os.replace(tmp, self.root / CURRENT)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def verify(self, artifact: Artifact) -> list[str]:
        """Files whose checksum no longer matches the manifest (empty when intact)."""
        bad = []
        for rel, digest in artifact.manifest.get("files", {}).items():
            path = artifact.path / rel
            if not path.exists() or file_sha256(path) != digest:
                bad.append(rel)
        return bad


@dataclass(frozen=True)
class ArtifactLocation:
    """Where a shop's artifacts live: ``--artifacts DIR``, ``file:///DIR`` (a folder every replica can read:
    local, NFS, a mounted volume). Other schemes are the seam for an object store: add an opener to
    :data:`LOCATIONS` that returns an :class:`ArtifactStore`-compatible object.

    Example:
        >>> ArtifactLocation.parse("file:///srv/shop-artifacts").path
        PosixPath('/srv/shop-artifacts')
    """

    scheme: str
    path: Path

    @classmethod
    def parse(cls, text: str | Path) -> ArtifactLocation:
        """A location from a folder path or a URL; raises ``ValueError`` naming the schemes understood."""
        raw = str(text).strip()
        if not raw:
            raise ValueError("--artifacts needs a folder or a file:// URL")
        scheme, sep, _ = raw.partition("://")
        if not sep:
            return cls("file", Path(raw).expanduser())
        if scheme not in LOCATIONS:
            raise ValueError(
                f"artifact location {raw!r}: scheme {scheme!r} is not supported; "
                f"use a folder path or {', '.join(s + '://' for s in sorted(LOCATIONS))}"
            )
        parts = urlsplit(raw)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"artifact location {raw!r}: a file:// URL names a local path (file:///DIR)")
        return cls(scheme, Path(unquote(parts.path)))

    def open(self) -> ArtifactStore:
        """The artifact store at this location."""
        return LOCATIONS[self.scheme](self)

    def __str__(self) -> str:
        return str(self.path) if self.scheme == "file" else f"{self.scheme}://{self.path}"


#: Openers per location scheme (``file`` = a folder); the seam where an object store would be added.
LOCATIONS: dict[str, Callable[[ArtifactLocation], ArtifactStore]] = {
    "file": lambda loc: ArtifactStore(loc.path),
}


def open_artifacts(location: str | Path) -> ArtifactStore:
    """The artifact store at ``location`` (a folder or a URL, see :class:`ArtifactLocation`)."""
    return ArtifactLocation.parse(location).open()
