"""The layers import downward only: no lower package imports the harness, the experiments or the front ends.

DESIGN.md ("Who owns which state"): data/storage -> encoded events -> encoders/index -> retrieval/ranking/
models -> recommend/search/rerank/profiles -> api/web/cli; evaluation and experiments sit on top. The check
parses every module with :mod:`ast` (no import, so it is fast and sees imports inside functions too) and
names each offending module and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shelfwise"

LOWER = (
    "data",
    "storage",
    "encoded",
    "metrics",
    "index",
    "encoders",
    "retrieval",
    "ranking",
    "models",
    "recommend",
    "search",
    "profiles",
    "rerank",
)
UPPER = ("evaluation", "experiments", "api", "web", "cli", "cli_serving")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Absolute names an ``import`` / ``from ... import`` node brings in (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            base = node.module or ""
        else:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        # ``from shelfwise import evaluation`` imports the package too
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def upward_imports(root: Path, lower: tuple[str, ...], upper: tuple[str, ...]) -> list[str]:
    """``"path:line: module imports name"`` for every import in ``lower`` packages of a name in ``upper``.

    Args:
        root: the ``shelfwise`` package directory.
        lower: sub-packages that must not import upward.
        upper: sub-packages / modules they must not import.
    """
    forbidden = tuple(f"shelfwise.{u}" for u in upper)
    found: list[str] = []
    for package in lower:
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for name in _imported(node, module, path.name == "__init__.py"):
                    if any(name == f or name.startswith(f + ".") for f in forbidden):
                        found.append(
                            f"{path.relative_to(root.parent)}:{node.lineno}: {module} imports {name}"
                        )
                        break
    return found


def test_lower_layers_never_import_upward() -> None:
    offending = upward_imports(SRC, LOWER, UPPER)
    assert not offending, "upward imports:\n" + "\n".join(offending)


def test_every_lower_package_exists() -> None:
    """A renamed package must be renamed here too, or the check would silently pass on nothing."""
    missing = [p for p in LOWER if not (SRC / p / "__init__.py").is_file()]
    assert not missing, f"listed lower packages not found under {SRC}: {missing}"


@pytest.mark.parametrize(
    ("source", "line", "name"),
    [
        ("from shelfwise.evaluation.runner import run_recommend\n", 3, "shelfwise.evaluation.runner"),
        ("import shelfwise.api.app\n", 3, "shelfwise.api.app"),
        ("def f():\n    from shelfwise import cli\n", 4, "shelfwise.cli"),
        ("def f():\n    from ...evaluation import runner\n", 4, "shelfwise.evaluation"),
    ],
)
def test_the_check_names_module_and_line(tmp_path: Path, source: str, line: int, name: str) -> None:
    root = tmp_path / "shelfwise"
    (root / "retrieval" / "deep").mkdir(parents=True)
    (root / "retrieval" / "__init__.py").write_text("")
    (root / "retrieval" / "deep" / "__init__.py").write_text("")
    (root / "retrieval" / "deep" / "mod.py").write_text("import numpy\n\n" + source)
    # downward imports and look-alike names pass
    (root / "retrieval" / "fine.py").write_text(
        "from shelfwise.encoded import data\nimport shelfwise.evaluationx\nfrom shelfwise import cli_helpers\n"
    )
    found = upward_imports(root, ("retrieval",), UPPER)
    assert found == [f"shelfwise/retrieval/deep/mod.py:{line}: shelfwise.retrieval.deep.mod imports {name}"]


def shared_constant_definitions(root: Path, name: str) -> list[str]:
    """``"path:line"`` of every module-level assignment to ``name`` under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_event_weights_have_one_home() -> None:
    """Search, ranking, retrieval and profiles weigh events alike: only ``data/schema.py`` defines them."""
    found = shared_constant_definitions(SRC, "EVENT_WEIGHTS")
    assert [f.split(":")[0] for f in found] == ["shelfwise/data/schema.py"], found
