"""Import heavy optional libraries lazily, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingDependencyError(ImportError):
    """An optional library needed by the chosen backend is not installed."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise an error naming ``pip install 'shelfwise[extra]'``.

    Args:
        module: dotted module name, e.g. ``"faiss"`` or ``"onnxruntime"``.
        extra: the shelfwise extra that provides it.

    Raises:
        MissingDependencyError: when the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            f"{module} is required for this feature; install it with: pip install 'shelfwise[{extra}]'"
        ) from exc
