"""Lazy imports of heavy libraries for the index backends (see :mod:`shelfwise._optional`)."""

from __future__ import annotations

from types import ModuleType

from shelfwise._optional import MissingDependencyError
from shelfwise._optional import require as _require

__all__ = ["MissingDependencyError", "require"]


def require(module: str, extra: str = "index") -> ModuleType:
    """Import ``module`` or raise an error naming ``pip install 'shelfwise[index]'``."""
    return _require(module, extra)
