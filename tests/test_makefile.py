"""``make demo PORT=8123`` serves the demo on the port asked for (issue #20: ``make demo`` could not pick one)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = Path(sys.executable).parents[1]  # an existing venv: the dry run shows the recipe, runs nothing
    out = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "demo", f"VENV={venv}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout


def test_make_demo_passes_the_port() -> None:
    assert "shelfwise demo --port 8123" in _dry_run("PORT=8123")
    assert "shelfwise demo --port 8000" in _dry_run()
