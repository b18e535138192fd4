"""``shelfwise assistant`` (a conversation kept across processes in the store), ``ingest --kind faq`` and
``assistant-train`` on a copy of the built sample shop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shelfwise.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("assistant-cli") / "shop"
    shutil.copytree(shop, copy)
    return copy


def _run(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_second_message_with_the_same_session_refines_the_first(store: Path) -> None:
    first = _run("assistant", "I need tape", "--store", str(store), "--session", "cli-a")
    assert first["items"] and first["constraints"] == {}
    second = _run("assistant", "under $10", "--store", str(store), "--session", "cli-a")
    assert second["constraints"] == {"price_max": 10.0}
    assert second["items"] and all(i["price"] <= 10.0 for i in second["items"])
    other = _run("assistant", "not 3M", "--store", str(store), "--session", "cli-b")
    assert other["constraints"] == {"brand_exclude": ["3M"]}


def test_ingest_faq_then_a_shop_question_is_answered(store: Path) -> None:
    faq = REPO / "benchmarks" / "data" / "assistant" / "faq.csv"
    stored = _run("ingest", str(faq), "--kind", "faq", "--store", str(store))
    assert stored["entries"] == 20
    reply = _run("assistant", "do you take paypal?", "--store", str(store), "--session", "cli-faq")
    assert reply["act"] == "shop" and "PayPal" in reply["reply"]
    assert reply["citations"][0]["ref"] == "pay-methods"


def test_errors_are_one_line_exit_2(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "faq.csv"
    bad.write_text("question,answer\nno answer here,\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(bad), "--kind", "faq", "--store", str(store)])
    assert result.exit_code == 2 and "row 1" in result.output
    result = CliRunner().invoke(app, ["assistant", "", "--store", str(store)])
    assert result.exit_code == 2 and "MESSAGE" in result.output


def test_assistant_train_keeps_scrubbed_review_evidence_and_chooses_a_threshold(store: Path, tmp_path: Path) -> None:
    item = _run("assistant", "I need waterproof glue", "--store", str(store), "--session", "cli-t")["items"][0]
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text("\n".join(json.dumps(r) for r in [
        {"asin": item["item_id"], "summary": "Holds well", "reviewText": "It survived a week of rain outside. "
         "Email me at someone@example.com for photos."},
        {"asin": item["item_id"], "reviewText": "The nozzle clogs after a few uses."},
    ]), encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in [
        {"item_id": item["item_id"], "question": "does it survive rain?", "answerable": True},
        {"item_id": item["item_id"], "question": "does the nozzle clog?", "answerable": True},
        {"item_id": item["item_id"], "question": "does it fit a 15 inch laptop?", "answerable": False},
        {"item_id": item["item_id"], "question": "is it safe for pets?", "answerable": False},
    ]), encoding="utf-8")
    report = _run("assistant-train", "--reviews", str(reviews), "--labels", str(labels), "--store", str(store))
    assert report["review_items"] == 1 and report["version"] >= 1 and "threshold" in report
    from shelfwise.assistant.build import read_artifact
    from shelfwise.storage import open_store

    with open_store(store, read_only=True) as st:
        kept, threshold, adapter = read_artifact(st)
    text = " ".join(kept[item["item_id"]])
    assert "someone@example.com" not in text and "rain" in text
    assert threshold == report["threshold"] and adapter is None
    answer = _run("assistant", "does the nozzle of the first one clog?", "--store", str(store), "--session", "cli-t")
    assert any("clogs" in c["text"] for c in answer["citations"])
