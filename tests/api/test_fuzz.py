"""Schemathesis fuzzing of the OpenAPI document against the running app: no input may cause a 5xx.

Every operation of ``/openapi.json`` gets ``SHELFWISE_FUZZ_EXAMPLES`` generated requests (default 12; the
examples are derandomised, so a run is reproducible) sent over HTTP with an admin key. It runs on its own copy
of the sample shop (fuzzed requests create keys, experiments and items) with rate limits off, so that every
request reaches its handler. Errors must be the documented JSON shape.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import ADMIN_KEY, NO_LIMITS, serving

EXAMPLES = int(os.environ.get("SHELFWISE_FUZZ_EXAMPLES", "12"))


def _fuzz(op: Any, failures: list[str], calls: dict[str, int]) -> Any:
    """A hypothesis test of one operation: every generated request, no 5xx, errors in the JSON shape."""
    from hypothesis import HealthCheck, given, settings

    label = f"{op.method.upper()} {op.path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60)
        calls[label] = calls.get(label, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{label} -> {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            body = response.json()
            if not (body.get("error", {}).get("message") and body.get("request_id")):
                failures.append(f"{label} -> {response.status_code} without the error shape: {body}")

    return run


def test_no_input_causes_a_server_error(api_store: Path, tmp_path: Path) -> None:
    schemathesis = pytest.importorskip("schemathesis")

    copy = tmp_path / "shop"
    shutil.copytree(api_store, copy)
    failures: list[str] = []
    calls: dict[str, int] = {}
    with serving(copy, NO_LIMITS) as (server, _):
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        for result in schema.get_all_operations():
            _fuzz(result.ok(), failures, calls)()
    assert len(calls) >= 18 and sum(calls.values()) >= 18 * 3, calls
    assert not failures, "\n".join(failures[:10])
