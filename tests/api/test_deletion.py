"""A deleted shopper stays deleted everywhere: a real ``shelfwise serve``, ``DELETE /v1/users/{id}``, ``kill -9``
right after the acknowledgement, a restart, and a byte search of every file under the store folder.

The shopper is one the recommender was trained on (so the artifacts hold their id and history), with a search
event of a distinctive query text posted after training (so the store, the WAL and the quarantine-free event log
hold it). After the restart: no personalised list, profile 404, and neither the id nor the query text in any file
under the store folder, in UTF-8, UTF-16 or UTF-32 (numpy keeps strings as UTF-32).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.api.test_restart import AUTH, Server, serving

QUERY = "quixotic-zephyr velvet mittens"


def _encodings(text: str) -> list[bytes]:
    return [text.encode(e) for e in ("utf-8", "utf-16-le", "utf-32-le")]


def _files_holding(folder: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if any(enc in data for enc in _encodings(needle)):
                    hits.append(f"{path.relative_to(folder)} holds {needle!r}")
    return hits


def _trained_shopper(store: Path) -> str:
    """A shopper the newest recommender artifact holds, with a long history (read with no server running)."""
    folder = max((store / "artifacts" / "recommender").iterdir())
    ids = np.load(folder / "user_ids.npy", allow_pickle=False)
    offsets = np.load(folder / "history_offsets.npy", allow_pickle=False)
    return str(ids[int(np.argmax(np.diff(offsets)))])


@pytest.fixture()
def store(api_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(api_store, copy)
    return copy


def test_a_deleted_shopper_is_gone_after_kill_9_from_every_file(store: Path, tmp_path: Path) -> None:
    shopper = _trained_shopper(store)
    assert _files_holding(store, [shopper]), "the test needs a shopper the store and artifacts hold"
    log = tmp_path / "serve.log"
    server = Server(store, log, [])
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as c:
            r = c.post(
                "/v1/events", json={"events": [{"user_id": shopper, "type": "search", "query": QUERY}]}
            )
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            rec = c.post("/v1/recommendations", json={"user_id": shopper, "k": 10}).json()
            assert rec["fallback"] is None, "a trained shopper gets a personal list before the deletion"
            r = c.delete(f"/v1/users/{shopper}")
            assert r.status_code == 200, r.text
            receipt = r.json()
        server.kill9()  # right after the acknowledgement: what was promised must still happen
    finally:
        server.stop()
    assert receipt["deleted"] and receipt["store"]["removed"]["events"] > 1
    assert receipt["user_id"] == shopper and receipt["erasure"]["status"] in ("pending", "done")
    assert any(v.get("user_found") for v in receipt["artifacts"]["recommender"]), receipt["artifacts"]

    with (
        serving(store, log) as again,
        httpx.Client(base_url=again.url, headers=AUTH, timeout=60) as c,
    ):
        # ready means the interrupted erasure is complete: look at the files before asking anything (a new
        # request naming the id is a new visit, and is logged as one)
        leftovers = _files_holding(store, [shopper, QUERY])
        rec = c.post("/v1/recommendations", json={"user_id": shopper, "k": 10}).json()
        profile = c.get(f"/v1/users/{shopper}/profile")
    assert not leftovers, leftovers
    assert rec["fallback"] is not None, f"personalised again after the deletion: {rec['items'][:2]}"
    assert profile.status_code == 404, profile.text
