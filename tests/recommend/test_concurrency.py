"""Requests run in parallel threads without a lock and return exactly the serial answers; a writer
swapping the live state meanwhile never shows a request half of a change (on the demo shop)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.recommend import Recommender, RecommendRequest, train_recommender
from shelfwise.storage import open_store

OVERRIDES = [
    'recommend.sources=["als", "itemknn", "item2item", "popular"]',
    "recommend.ranker_max_users=400",
    "models.als.factors=32",
    "models.als.iterations=5",
]
THREADS = 8


def _settings() -> Settings:
    return load_settings(overrides=OVERRIDES, environ={})


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    from shelfwise.demo import run_demo

    path: Path = tmp_path_factory.mktemp("conc") / "store"
    run_demo(path)
    with open_store(path) as st:
        train_recommender(st, _settings(), show_progress=False)
        return Recommender.load(st, _settings())


def _requests(rec: Recommender) -> list[RecommendRequest]:
    users = [u for u, k in rec.users.items() if len(rec.histories[k]) >= 2][:24]
    anchors = [rec.catalog.ids[int(rec.histories[rec.users[u]][-1])] for u in users]
    out: list[RecommendRequest] = []
    for n, (u, a) in enumerate(zip(users, anchors, strict=True)):
        out += [
            RecommendRequest(user_id=u, k=10),
            RecommendRequest(user_id=u, slot="cart", cart=[anchors[(n + 1) % len(anchors)]], k=8),
            RecommendRequest(slot="similar", item_id=a, k=6),
            RecommendRequest(slot="bought_together", item_id=a, k=6),
            RecommendRequest(user_id=None, cart=[a], k=5),
            RecommendRequest(user_id=f"nobody-{n}", k=5),
        ]
    return out


def _answer(rec: Recommender, req: RecommendRequest) -> list[tuple[str, float, str]]:
    return [(i.item_id, i.score, i.reason) for i in rec.recommend(req).items]


def test_parallel_requests_return_the_serial_answers(rec: Recommender) -> None:
    requests = _requests(rec)
    assert len(requests) >= 100
    serial = [_answer(rec, r) for r in requests]
    assert all(serial)

    # every thread walks the whole list from a different start, so the same request runs concurrently
    # with different others
    def walk(start: int) -> list[tuple[int, list[tuple[str, float, str]]]]:
        order = [(start * 17 + j) % len(requests) for j in range(len(requests))]
        return [(j, _answer(rec, requests[j])) for j in order]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(walk, range(THREADS)))
    for per_thread in results:
        for j, got in per_thread:
            assert got == serial[j], requests[j]


def test_requests_see_whole_catalogue_changes_only(rec: Recommender) -> None:
    """A writer flips a block of items out of stock and back while readers run: each answer is one of
    the two serial answers (never a mix of the old and the new catalogue)."""
    requests = _requests(rec)[:60:6]  # personal home lists
    plain = [_answer(rec, r) for r in requests]
    block = sorted({i for ans in plain for i, _, _ in ans[:3]})
    rec.upsert_items([{"item_id": i, "available": False} for i in block])
    hidden = [_answer(rec, r) for r in requests]
    rec.upsert_items([{"item_id": i, "available": True} for i in block])
    assert [_answer(rec, r) for r in requests] == plain and hidden != plain
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            rec.upsert_items([{"item_id": i, "available": False} for i in block])
            rec.upsert_items([{"item_id": i, "available": True} for i in block])

    writer = threading.Thread(target=flip)
    writer.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for _ in range(3):
                got = list(pool.map(lambda r: _answer(rec, r), requests))
                for j, ans in enumerate(got):
                    assert ans in (plain[j], hidden[j]), requests[j]
    finally:
        stop.set()
        writer.join()
