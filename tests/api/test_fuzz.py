"""Schemathesis fuzzing of the OpenAPI document against the running app: no input may cause a 5xx.

Every operation of ``/openapi.json`` gets ``SHELFWISE_FUZZ_EXAMPLES`` generated requests (default 100; the
examples are derandomised, so a run is reproducible) sent over HTTP three times: with an admin key, with a
read-only key, and with no key. It runs on its own copy of the sample shop (fuzzed requests create keys,
experiments and items) with rate limits off, so that every request reaches its handler. Errors must be the
documented JSON shape, and a request the document allows must not be refused field by field (a 422 with
``problems``): schema and route agree.

The regressions the fuzzer found are pinned below by name: brands with no matchable word, ``k`` above
``api.max_k``, a boolean sent as a number.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_KEY, NO_LIMITS, serving

EXAMPLES = int(os.environ.get("SHELFWISE_FUZZ_EXAMPLES", "100"))
#: Failed authentications are limited per address too: off here, or the no-key run would test only 429.
FUZZ_LIMITS = [*NO_LIMITS, "api.rate_limit.failed_auth_per_minute=0"]


def _fuzz(op: Any, headers: dict[str, str], failures: list[str], calls: dict[str, int]) -> Any:
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
        response = case.call(headers=headers, timeout=60)
        calls[label] = calls.get(label, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{label} -> {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            body = response.json()
            if not (body.get("error", {}).get("message") and body.get("request_id")):
                failures.append(f"{label} -> {response.status_code} without the error shape: {body}")
            elif response.status_code == 422 and body["error"].get("problems"):
                # the cases follow the document; a field-level 422 means the route's own validation refuses
                # what its schema allows (e.g. a bound the document does not state)
                failures.append(
                    f"{label} -> 422 for a request its schema allows: {body['error']['problems'][:2]}"
                )

    return run


@pytest.fixture(scope="module")
def fuzzed(api_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A served copy of the sample shop for fuzzing; yields (server, app)."""
    copy = tmp_path_factory.mktemp("fuzz") / "shop"
    shutil.copytree(api_store, copy)
    with serving(copy, FUZZ_LIMITS) as (server, app):
        yield server, app


@pytest.mark.parametrize("who", ["admin", "read", "none"])
def test_no_input_causes_a_server_error(fuzzed: tuple[Any, Any], who: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    server, app = fuzzed
    if who == "admin":
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    elif who == "read":
        headers = {"X-API-Key": app.state.keys.create("fuzz-read", ["read"])[0]}
    else:
        headers = {}
    failures: list[str] = []
    calls: dict[str, int] = {}
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    for result in schema.get_all_operations():
        _fuzz(result.ok(), headers, failures, calls)()
    assert len(calls) >= 18 and sum(calls.values()) >= 18 * min(EXAMPLES, 3), calls
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("brand", ["-", ":", "__", "\u0098", "ß", "  "])
def test_an_item_whose_brand_has_no_matchable_word_reaches_store_and_index(
    fuzzed: tuple[Any, Any], brand: str
) -> None:
    server, app = fuzzed
    item_id = f"fuzz-brand-{ord(brand.strip()[:1] or ' ')}"
    r = httpx.post(
        f"{server.url}/v1/items",
        json={"items": [{"item_id": item_id, "title": "Plain test widget", "brand": brand, "price": 3.5}]},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert app.state.store.read_items(["item_id"], item_ids=[item_id]).num_rows == 1
    assert item_id in app.state.search.catalog  # the store and the search index agree


def test_the_document_states_the_limits_the_routes_enforce(fuzzed: tuple[Any, Any]) -> None:
    server, app = fuzzed
    max_k = app.state.settings.api.max_k
    schemas = httpx.get(f"{server.url}/openapi.json", timeout=30).json()["components"]["schemas"]
    assert schemas["RecommendIn"]["properties"]["k"]["maximum"] == max_k
    assert schemas["SearchIn"]["properties"]["k"]["maximum"] == max_k
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for body in (
        {"query": "tape", "k": max_k + 1},
        {"query": "tape", "personalise": 0},
        {"query": "t", "k": "5"},
    ):
        r = httpx.post(f"{server.url}/v1/search", json=body, headers=auth, timeout=60)
        assert r.status_code == 422, (body, r.text[:300])
    ok = httpx.post(f"{server.url}/v1/search", json={"query": "tape", "k": max_k}, headers=auth, timeout=60)
    assert ok.status_code == 200
