"""Log lines never land inside a tqdm bar's line (issue #20: bars and log lines interleaved)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import logging, time
from tqdm import tqdm
from shelfwise import cli
cli._setup_logging(False)
log = logging.getLogger("shelfwise.test")
for k in tqdm(range(6), desc="encode", mininterval=0, miniters=1):
    log.info("LOGLINE %d", k)
"""


def test_log_lines_start_on_their_own_line_while_a_bar_runs() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "COLUMNS": "120"}
    err = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120, check=True
    ).stderr
    lines = [line for line in err.split("\n") if "LOGLINE" in line]
    assert len(lines) == 6, err
    for line in lines:
        shown = line.split("\r")[-1]  # what a terminal shows of the line: after the last carriage return
        assert "%|" not in shown and shown.lstrip().startswith("INFO"), repr(line)
