"""``POST /v1/recommendations`` with ``slot`` ``similar`` / ``bought_together`` and an ``item_id`` (issue #20):
two different lists, each item with a reason that states its evidence; never "you viewed" for the anchor."""

from __future__ import annotations

import re

from tests.api.conftest import Live

ANCHOR = "B000CSS8UE"


def _slot(live: Live, slot: str, user: str | None = None) -> dict:
    r = live.admin.post(
        "/v1/recommendations", json={"slot": slot, "item_id": ANCHOR, "k": 8, "user_id": user}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_two_slots_differ_and_state_their_evidence(live: Live) -> None:
    similar, together = _slot(live, "similar"), _slot(live, "bought_together")
    assert [i["item_id"] for i in similar["items"]] != [i["item_id"] for i in together["items"]]
    assert together["items"] and all(
        re.fullmatch(r"Bought together by \d+ shoppers?", i["reason"]) for i in together["items"]
    )
    assert similar["items"] and all(i["reason"].startswith("Similar: ") for i in similar["items"])
    counts = [i["breakdown"]["claims"][0]["bought"] for i in together["items"]]
    assert counts == sorted(counts, reverse=True) and min(counts) >= 1
    for body in (similar, together, _slot(live, "similar", "someone-new")):
        assert all("you viewed" not in i["reason"] for i in body["items"])
