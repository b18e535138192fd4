"""The first build says exporting / quantising the encoder is a one-time step, and onnxruntime's quantiser
advice goes to debug instead of showing as warnings (issue #20)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest


def test_first_export_says_one_time_and_hides_quantiser_warnings(
    tiny_bert: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from shelfwise.encoders.onnx import ensure_exported

    caplog.set_level(logging.DEBUG)
    first = ensure_exported(str(tiny_bert), tmp_path / "onnx")
    said = [r.getMessage() for r in caplog.records if r.name == "shelfwise.encoders.onnx"]
    assert any(m.startswith("one-time step: exporting the encoder") for m in said), said
    assert any("not repeated" in m for m in said), said
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING and not r.name.startswith("shelfwise")]
    assert not shown, [(r.name, r.getMessage()) for r in shown]
    # onnxruntime gives its pre-processing advice once per process (an earlier quantisation in the same test
    # run has used it up): when it comes, it is at debug level
    advice = [r for r in caplog.records if "pre-process" in r.getMessage()]
    assert all(r.levelno == logging.DEBUG for r in advice), [(r.levelname, r.getMessage()) for r in advice]
    caplog.clear()
    assert ensure_exported(str(tiny_bert), tmp_path / "onnx") == first  # reused: nothing said
    assert not [r for r in caplog.records if "one-time" in r.getMessage()]
