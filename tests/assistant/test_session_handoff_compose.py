"""Session state (online state and store metadata, with TTLs), hand-off summaries, reply composition."""

from __future__ import annotations

import time
from pathlib import Path

from shelfwise.assistant import compose, handoff
from shelfwise.assistant.evidence import Answer, Sentence
from shelfwise.assistant.session import MetaSessions, OnlineSessions, Session
from shelfwise.online import open_online_state


def test_online_sessions_round_trip_and_expire() -> None:
    sessions = OnlineSessions(open_online_state("memory://"), ttl=0.2)
    s = sessions.load("a")
    s.need, s.constraints, s.items = "tape", {"price_max": 10.0}, ["x", "y"]
    sessions.save(s)
    back = sessions.load("a")
    assert (back.need, back.constraints, back.items) == ("tape", {"price_max": 10.0}, ["x", "y"])
    assert sessions.load("b").need == ""
    time.sleep(0.3)
    assert sessions.load("a").need == ""


def test_meta_sessions_survive_reopening_the_store(tmp_path: Path) -> None:
    from shelfwise.storage import open_store

    with open_store(tmp_path / "shop") as st:
        s = Session("cli-1", need="glue")
        MetaSessions(st, ttl=60).save(s)
    with open_store(tmp_path / "shop") as st:
        assert MetaSessions(st, ttl=60).load("cli-1").need == "glue"
        expired = MetaSessions(st, ttl=-1)
        expired.save(Session("old", need="x"))
        assert expired.load("old").need == ""


def test_turns_are_capped() -> None:
    s = Session("a")
    for n in range(50):
        s.add_turn("shopper", str(n))
    assert len(s.turns) == 20 and s.turns[-1]["text"] == "49"


def test_handoff_reasons_and_summary() -> None:
    assert handoff.handoff_reason("handoff", 0, 2) == handoff.COMPLAINT
    assert handoff.handoff_reason("question", 2, 2) == handoff.LOW_CONFIDENCE
    assert handoff.handoff_reason("question", 1, 2) is None
    s = Session("a", need="tape", constraints={"brand_exclude": ["3M"]}, items=["i1"])
    s.add_turn("shopper", "I need tape")
    s.add_turn("shopper", "it arrived broken")
    text = handoff.summary(s, handoff.COMPLAINT)
    assert "tape" in text and "not 3M" in text and "i1" in text and "arrived broken" in text


def test_answer_reply_cites_every_quoted_sentence() -> None:
    answer = Answer("i1", ((Sentence("Waterproof glue", "title", "title:1"), 0.8),
                           (Sentence("Holds in rain.", "review", "review:3"), 0.6)), 0.8, True)
    text, citations = compose.answer_reply("Glue", answer)
    assert "[1]" in text and "[2]" in text
    assert [c["ref"] for c in citations] == ["title:1", "review:3"]
    assert all(c["text"] in text for c in citations)


def test_suggestions_reply_names_constraints_and_relaxations() -> None:
    items = [{"item_id": "a", "title": "Tape", "brand": "X", "price": 5.0}]
    text = compose.suggestions_reply("tape", {"price_max": 10.0}, items, ["no results with brand Y"])
    assert "under 10" in text and "Tape by X, 5.00" in text and "no results with brand Y" in text
    assert "nothing" in compose.suggestions_reply("tape", {}, [], [])
