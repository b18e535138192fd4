"""The public API: ``__all__`` is what the package exports, and the docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import shelfwise.ranking as ranking

MODULES = sorted(m.name for m in pkgutil.iter_modules(ranking.__path__))


def test_all_names_exist_and_are_sorted_by_kind() -> None:
    assert all(hasattr(ranking, name) for name in ranking.__all__)
    public = {
        n for n in vars(ranking) if not n.startswith("_") and n[0].isupper() and n not in ranking.__all__
    }
    assert public == set(), public  # every public class the package re-exports is listed


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"shelfwise.ranking.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    assert module.__doc__ and hasattr(module, "__all__"), name
