"""Lazy imports of heavy libraries for the encoders backends (see :mod:`shelfwise._optional`)."""

from __future__ import annotations

from types import ModuleType

from shelfwise._optional import MissingDependencyError
from shelfwise._optional import require as _require

__all__ = ["MissingDependencyError", "require"]


def require(module: str, extra: str = "encoders") -> ModuleType:
    """Import ``module`` or raise an error naming ``pip install 'shelfwise[encoders]'``."""
    return _require(module, extra)
