"""Evidence answers and shop Q&A with the real text encoder (the search encoder's ONNX MiniLM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.assistant.evidence import (
    EvidenceIndex,
    choose_threshold,
    item_sentences,
    review_sentences,
    split_sentences,
)
from shelfwise.assistant.faq import FaqIndex, StoreFaq, load_faq_file, read_faq_rows, save_faq

CACHE = Path.home() / ".cache" / "shelfwise"
ROWS = {
    "glue": {"title": "Gorilla Glue, Waterproof Polyurethane Glue, 8 ounce Bottle, Brown",
             "attributes": '{"material": "polyurethane"}', "description": "Expands to fill gaps. Dries in 2 hours."},
    "soap": {"title": "Goat milk soap"},
}
REVIEWS = review_sentences(
    [{"asin": "soap", "summary": "Lovely", "reviewText": "Smells like lavender. Mail me at jo@example.com please."},
     {"asin": "soap", "reviewText": "Terrible, it left my skin dry. The bar broke in a week."}],
    lambda t: t.replace("jo@example.com", "[EMAIL]"),
)


@pytest.fixture(scope="module")
def encoder():
    from shelfwise.encoders.base import EncoderConfig
    from shelfwise.encoders.registry import build_encoder

    return build_encoder(EncoderConfig(cache_dir=CACHE, show_progress=False))


@pytest.fixture(scope="module")
def index(encoder) -> EvidenceIndex:
    return EvidenceIndex(ROWS.get, REVIEWS, encoder)


def test_sentences_of_an_item() -> None:
    got = item_sentences(ROWS["glue"])
    assert [s.source for s in got].count("title") == 4  # the title and its 3 comma facts after the name
    assert any(s.text == "material: polyurethane" for s in got)
    assert [s.text for s in got if s.source == "description"] == ["Expands to fill gaps.", "Dries in 2 hours."]
    assert split_sentences("") == []


def test_review_sentences_are_scrubbed_and_referenced() -> None:
    assert "soap" in REVIEWS
    assert all("jo@example.com" not in s for s in REVIEWS["soap"])
    assert REVIEWS["soap"][0].startswith("[review:0] ")
    texts = [s.text for s in item_sentences({}, REVIEWS["soap"])]
    assert "The bar broke in a week." in texts


def test_an_answerable_question_cites_the_sentence_that_answers(index: EvidenceIndex) -> None:
    answer = index.answer("glue", "is it waterproof?")
    assert answer.answerable
    assert "Waterproof" in answer.cited[0][0].text
    drying = index.answer("glue", "how long does it take to dry?")
    assert drying.answerable and any("Dries in 2 hours" in s.text for s, _ in drying.cited)


def test_an_unanswerable_question_abstains(index: EvidenceIndex) -> None:
    answer = index.answer("glue", "does it fit a 15 inch laptop?")
    assert not answer.answerable and answer.cited == ()
    assert not index.answer("unknown-item", "is it waterproof?").answerable


def test_complaints_come_from_negative_review_sentences(index: EvidenceIndex) -> None:
    answer = index.answer("soap", "what do people complain about?")
    assert answer.mode == "complaints" and answer.answerable
    assert {s.text for s, _ in answer.cited} == {"Terrible, it left my skin dry.", "The bar broke in a week."}
    assert all("lavender" not in s.text for s, _ in answer.cited)


def test_choose_threshold_prefers_precise_abstention() -> None:
    scores = [0.9, 0.7, 0.35, 0.3, 0.2, 0.1]
    labels = [True, True, True, False, False, False]
    t = choose_threshold(scores, labels, 0.9)
    assert 0.3 < t <= 0.35
    assert choose_threshold([0.5], [True]) > 0  # one class only: the default


def test_faq_rows_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="row 2"):
        read_faq_rows([{"question": "a", "answer": "b"}, {"question": "c"}])
    with pytest.raises(ValueError, match="used twice"):
        read_faq_rows([{"id": "x", "question": "a", "answer": "b"}, {"id": "x", "question": "c", "answer": "d"}])
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nDo you ship abroad?,Yes to the EU.\n", encoding="utf-8")
    assert load_faq_file(path) == [{"id": "faq-1", "question": "Do you ship abroad?", "answer": "Yes to the EU."}]
    with pytest.raises(ValueError, match="csv"):
        load_faq_file(tmp_path / "faq.txt")


def test_faq_matches_paraphrases_and_refuses_strangers(encoder) -> None:
    entries = read_faq_rows([
        {"id": "ship", "question": "How long does shipping take?", "answer": "3-5 days."},
        {"id": "pay", "question": "What payment methods do you accept?", "answer": "Cards and PayPal."},
    ])
    faq = FaqIndex(entries, encoder, threshold=0.4)
    assert faq.match("how many days until delivery").entry["id"] == "ship"
    assert faq.match("can I pay with paypal").entry["id"] == "pay"
    assert faq.match("is the red lipstick matte") is None


def test_store_faq_follows_the_store(tmp_path: Path, encoder) -> None:
    from shelfwise.storage import open_store

    with open_store(tmp_path / "shop") as st:
        live = StoreFaq(st, encoder, 0.4, refresh_seconds=0)
        assert live.match("how long does shipping take") is None
        save_faq(st, [{"id": "ship", "question": "How long does shipping take?", "answer": "3-5 days."}])
        assert live.match("how long does shipping take").entry["answer"] == "3-5 days."
