"""Searches run in parallel threads without a lock and return exactly the serial answers
(demo shop, real indexes and encoder)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shelfwise.search import SearchPipeline, SearchRequest
from shelfwise.storage import open_store
from tests.search.conftest import search_settings

THREADS = 8


@pytest.fixture(scope="module")
def pipe(demo_store: Path) -> SearchPipeline:
    with open_store(demo_store, create=False) as st:
        return SearchPipeline.load(st, search_settings())


def _requests(pipe: SearchPipeline) -> list[SearchRequest]:
    users = sorted(pipe.profiles.states)[:6] if pipe.profiles is not None else []
    queries = [
        "gorilla glue under 20",
        "duct tape",
        "red lipstick",
        "transfer pipettes 3ml",
        "stainles steel pan",  # a typo to correct
        "",  # browse
    ]
    out = []
    for n, q in enumerate(queries):
        out.append(SearchRequest(q, k=10))
        out.append(SearchRequest(q, k=5, offset=5, filters={"in_stock": True}))
        out.append(SearchRequest(q, k=10, user_id=users[n % len(users)] if users else None))
        out.append(SearchRequest(q, k=8, use_query_filters=False, filters={"price_max": 30.0}))
    return out


def _answer(pipe: SearchPipeline, req: SearchRequest) -> tuple[Any, ...]:
    r = pipe.search(req)
    return (
        [(h.item_id, round(float(h.score), 9), h.reason) for h in r.results],
        r.total,
        r.relaxed,
        r.facets,
        r.applied_filters,
        [(h.item_id, round(float(h.score), 9)) for h in r.more_results],
    )


def test_parallel_searches_return_the_serial_answers(pipe: SearchPipeline) -> None:
    requests = _requests(pipe)
    serial = [_answer(pipe, r) for r in requests]
    assert sum(bool(a[0] or a[5]) for a in serial) >= len(requests) - 2  # confident or weaker matches
    suggest_serial = [pipe.suggest(p) for p in ("gor", "tap", "pip", "lip")]

    def walk(start: int) -> list[tuple[int, Any]]:
        order = [(start * 7 + j) % len(requests) for j in range(len(requests))]
        return [(j, _answer(pipe, requests[j])) for j in order]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(walk, range(THREADS)))
        suggested = list(pool.map(pipe.suggest, ["gor", "tap", "pip", "lip"] * THREADS))
    for per_thread in results:
        for j, got in per_thread:
            assert got == serial[j], requests[j]
    assert suggested == suggest_serial * THREADS


def test_searches_keep_answering_while_the_catalogue_changes(pipe: SearchPipeline) -> None:
    """A writer adds and removes items while 8 threads search (browse included): no request fails and
    every hit is an item of the catalogue."""
    import threading

    rows = [
        {"item_id": f"FLIP-{n}", "title": f"Flipflop duct tape roll {n}", "brand": "Flipco", "price": 5.0 + n}
        for n in range(4)
    ]
    requests = [r for r in _requests(pipe) if not r.user_id][:12]
    requests += [SearchRequest("", k=10), SearchRequest("", k=5, filters={"price_max": 20.0})] * 10
    stop = threading.Event()
    errors: list[BaseException] = []

    def flip() -> None:
        try:
            while not stop.is_set():
                pipe.upsert_items(rows)
                pipe.delete_items([r["item_id"] for r in rows])
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=flip)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: races show up in a short test
    writer.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for _ in range(3):
                for resp in pool.map(pipe.search, requests * 2):
                    for hit in resp.results:
                        assert hit.item_id.startswith("FLIP-") or hit.item_id in pipe.catalog.items
    finally:
        stop.set()
        writer.join()
        sys.setswitchinterval(interval)
    assert not errors, errors


def test_catalogue_changes_are_copy_on_write() -> None:
    """A search that took the catalogue mapping keeps iterating that one: writers swap in a new mapping
    (changing the one being iterated would raise "dictionary changed size during iteration")."""
    from shelfwise.search.catalog import SearchCatalog

    cat = SearchCatalog.from_items([{"item_id": "a", "title": "red pan"}, {"item_id": "b", "title": "pot"}])
    seen = cat.items
    it = iter(seen)
    next(it)
    cat.upsert([{"item_id": "c", "title": "new lid"}])
    cat.delete(["a"])
    assert list(it) == ["b"]  # the iteration goes on over the old mapping
    assert sorted(seen) == ["a", "b"] and sorted(cat.items) == ["b", "c"]
