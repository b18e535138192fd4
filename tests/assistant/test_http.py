"""``POST /v1/assistant`` through real HTTP on the served sample shop: the refinement flow, a question the
evidence cannot answer, shop questions from an ingested Q&A, a hand-off, and what a wrong request gets."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import Live


@pytest.fixture(scope="module")
def reader(live: Live) -> httpx.Client:
    """A client with a read-only key (the scope the route needs)."""
    made = live.admin.post("/v1/keys", json={"name": "assistant-tests", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    return live.client(made.json()["key"])


def _turn(client: httpx.Client, session: str, message: str, **extra: str) -> dict:
    resp = client.post("/v1/assistant", json={"session_id": session, "message": message, **extra})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) >= {"reply", "items", "citations", "constraints", "handoff"}
    for item in body["items"]:
        assert set(item) >= {"item_id", "title", "price", "brand", "category", "reason"}
    return body


def _is_3m(item: dict) -> bool:
    return (item["brand"] or "").lower() == "3m" or "3m" in re.findall(r"\w+", item["title"].lower())


def test_refinement_flow_keeps_and_narrows_the_need(live: Live, reader: httpx.Client) -> None:
    first = _turn(reader, "flow-1", "I need tape")
    assert first["items"] and first["constraints"] == {}
    assert any("tape" in i["title"].lower() for i in first["items"])
    cheaper = _turn(reader, "flow-1", "under $10")
    assert cheaper["constraints"] == {"price_max": 10.0}
    assert cheaper["items"] and all(i["price"] is not None and i["price"] <= 10.0 for i in cheaper["items"])
    assert any("tape" in i["title"].lower() for i in cheaper["items"])
    not_3m = _turn(reader, "flow-1", "not 3M")
    assert not_3m["constraints"] == {"price_max": 10.0, "brand_exclude": ["3M"]}
    assert not_3m["items"] and not any(_is_3m(i) for i in not_3m["items"])
    assert all(i["price"] <= 10.0 for i in not_3m["items"])
    # the items were logged like search results: the reply names the request to attribute clicks to
    assert not_3m["request_id"]
    compared = _turn(reader, "flow-1", "compare the first two")
    assert compared["act"] == "compare"
    assert [i["item_id"] for i in compared["items"]] == [i["item_id"] for i in not_3m["items"][:2]]
    assert "Side by side" in compared["reply"]
    like = _turn(reader, "flow-1", "more like the second one")
    second = not_3m["items"][1]["item_id"]
    assert like["items"] and second not in [i["item_id"] for i in like["items"]]
    assert all(i["price"] <= 10.0 and not _is_3m(i) for i in like["items"])
    # another session starts from nothing
    assert _turn(reader, "flow-2", "under $10")["constraints"] == {"price_max": 10.0}


def test_a_question_the_evidence_cannot_answer_gets_i_dont_know(reader: httpx.Client) -> None:
    _turn(reader, "unanswerable", "I need safety glasses")
    body = _turn(reader, "unanswerable", "does the first one fit a 15 inch laptop?")
    assert body["act"] == "question"
    assert body["citations"] == []
    assert "don't know" in body["reply"]
    assert body["handoff"] is False


def test_an_answerable_question_cites_its_evidence(reader: httpx.Client) -> None:
    listed = _turn(reader, "answerable", "waterproof glue")
    waterproof = next(n for n, i in enumerate(listed["items"]) if "waterproof" in i["title"].lower())
    ordinal = ["first", "second", "third", "fourth", "fifth"][waterproof]
    body = _turn(reader, "answerable", f"is the {ordinal} one waterproof?")
    assert body["citations"], body
    assert any("waterproof" in c["text"].lower() for c in body["citations"])
    for c in body["citations"]:
        assert f"[{c['id']}]" in body["reply"] and c["item_id"] == listed["items"][waterproof]["item_id"]


def test_a_complaint_hands_off_with_a_summary(reader: httpx.Client) -> None:
    _turn(reader, "complaint", "I need tape")
    body = _turn(reader, "complaint", "my order never arrived, call me on +44 20 7946 0958")
    assert body["handoff"] is True
    assert "tape" in body["summary"] and "never arrived" in body["summary"]
    assert "7946" not in body["summary"]  # the phone number was scrubbed before it was kept


def test_repeated_unanswered_questions_hand_off(reader: httpx.Client) -> None:
    _turn(reader, "low-confidence", "I need tape")
    assert _turn(reader, "low-confidence", "is it dishwasher safe?")["handoff"] is False
    body = _turn(reader, "low-confidence", "does it fit a 15 inch laptop?")
    assert body["handoff"] is True and "could not answer" in body["summary"]


def test_shop_questions_come_from_the_ingested_q_and_a(live: Live, reader: httpx.Client) -> None:
    from shelfwise.assistant.faq import save_faq

    before = _turn(reader, "faq-0", "how long does shipping take?")
    assert before["citations"] == []
    save_faq(live.app.state.store, [
        {"id": "ship", "question": "How long does shipping take?", "answer": "Orders arrive in 3-5 business days."},
        {"id": "returns", "question": "What is your return policy?", "answer": "Returns are free within 30 days."},
    ])
    import time

    time.sleep(5.1)  # the Q&A is re-read at most every 5 seconds
    body = _turn(reader, "faq-1", "how many days does delivery take?")
    assert body["act"] == "shop" and "3-5 business days" in body["reply"]
    assert body["citations"][0]["source"] == "faq" and body["citations"][0]["ref"] == "ship"


def test_wrong_requests_say_what_to_fix(live: Live, reader: httpx.Client) -> None:
    assert live.client().post("/v1/assistant", json={"session_id": "x", "message": "hi"}).status_code == 401
    missing = reader.post("/v1/assistant", json={"message": "hi"})
    assert missing.status_code == 422 and "session_id" in missing.text
    bad = reader.post("/v1/assistant", json={"session_id": "a b", "message": "hi"})
    assert bad.status_code == 422
    empty = reader.post("/v1/assistant", json={"session_id": "ok", "message": ""})
    assert empty.status_code == 422


def test_the_storefront_chat_panel_talks_to_the_same_assistant(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=120, follow_redirects=True) as browser:
        page = browser.get("/shop")
        assert page.status_code == 200
        assert 'id="chat"' in page.text and "/web/static/chat.js" in page.text
        assert "<script>" not in page.text  # CSP: no inline scripts
        assert browser.get("/web/static/chat.js").status_code == 200
        assert browser.get("/web/static/chat.css").status_code == 200
        csrf = re.search(r'<meta name="csrf" content="([^"]+)"', page.text).group(1)
        assert browser.post("/shop/assistant", data={"message": "I need tape"}).status_code == 403
        first = browser.post("/shop/assistant", data={"message": "I need tape", "csrf": csrf})
        assert first.status_code == 200, first.text
        assert first.json()["items"] and first.json()["items"][0]["url"].startswith("/shop/product/")
        second = browser.post("/shop/assistant", data={"message": "under $10", "csrf": csrf}).json()
        assert second["constraints"] == {"price_max": 10.0}
        assert all(i["price"] <= 10.0 for i in second["items"])
