"""Helper processes for tests that need a second real process (a store holder, a writer)."""

from __future__ import annotations

import subprocess
import sys


def start_helper(script: str, *args: str, expect: str) -> subprocess.Popen[str]:
    """Run ``python -c script args...`` and wait for its first stdout line to be ``expect`` (it is ready)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != expect:
        proc.kill()
        raise AssertionError(f"helper said {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc
