"""``shelfwise serve --workers N`` refuses a bad N with one line and exit code 2, before touching the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("workers", ["0", "65"])
def test_a_bad_worker_count_is_one_line_and_exit_2(tmp_path: Path, workers: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "shelfwise", "serve", "--store", str(tmp_path / "none"), "--workers", workers],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--workers {workers}" in lines[0], proc.stderr
    assert not (tmp_path / "none").exists()
