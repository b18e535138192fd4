"""The public API of query understanding: ``__all__`` is what the packages export, and docstrings run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import shelfwise.search
import shelfwise.search.query

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(shelfwise.search.query.__path__, "shelfwise.search.query.")
)


@pytest.mark.parametrize("package", [shelfwise.search, shelfwise.search.query])
def test_all_matches_public_names(package: object) -> None:
    public = {n for n in vars(package) if not n.startswith("_") and n not in {"annotations", "query"}}
    public = {n for n in public if not isinstance(getattr(package, n), type(shelfwise))}
    assert set(package.__all__) == public  # type: ignore[attr-defined]


#: Search modules whose docstrings carry examples (the query package's are all listed above).
SEARCH_MODULES = [
    f"shelfwise.search.{m}"
    for m in ("evidence", "relevance", "reasons", "rules", "sorting", "facets", "types")
]


@pytest.mark.parametrize("name", ["shelfwise.search.query", *MODULES, *SEARCH_MODULES])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
