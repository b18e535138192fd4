"""The generative path: a tiny OpenAI-compatible chat server made by the test, and the guard on what it says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from shelfwise.assistant.config import GenerativeSettings
from shelfwise.assistant.generative import OpenAIPhraser, build_phraser, guard, rephrase

DRAFT = 'About Gorilla Glue, the product information says: "Waterproof Polyurethane Glue" [1] "8 ounce Bottle" [2]'
EVIDENCE = ["Waterproof Polyurethane Glue", "8 ounce Bottle"]


class _Model:
    """What the tiny model answers next, and what it was asked."""

    reply = ""
    requests: ClassVar[list[dict]] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Model.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if _Model.reply == "FAIL":
            self.send_response(500)
            self.end_headers()
            return
        out = json.dumps({"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": _Model.reply}, "finish_reason": "stop"}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode())

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def phraser(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> OpenAIPhraser:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    p = build_phraser(GenerativeSettings(provider="openai", base_url=endpoint, model="tiny",
                                         api_key_env="TEST_LLM_KEY", timeout=5))
    assert isinstance(p, OpenAIPhraser)
    return p


def test_a_grounded_phrasing_is_used(phraser: OpenAIPhraser) -> None:
    _Model.reply = "Yes: it is a waterproof polyurethane glue [1], in an 8 ounce bottle [2]."
    text, how = rephrase(phraser, "is it waterproof?", DRAFT, EVIDENCE)
    assert how == {"used": True, "reason": "ok"} and text == _Model.reply
    sent = _Model.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-test"
    assert sent["body"]["model"] == "tiny" and DRAFT in sent["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Yes, it is a waterproof glue, safe for children [1] [2].", "words not in the evidence"),
        ("Yes, it is waterproof polyurethane glue.", "citation [1] dropped"),
        ("It is waterproof [1] and comes in a 16 ounce bottle [2].", "number 16"),
        ("It is not waterproof [1], 8 ounce bottle [2].", "negation"),
        ("Waterproof polyurethane glue [1], 8 ounce bottle [2] [3].", "unknown citation [3]"),
        ("FAIL", "model failed"),
    ],
)
def test_an_ungrounded_or_failed_phrasing_falls_back_to_the_draft(
    phraser: OpenAIPhraser, reply: str, reason: str
) -> None:
    _Model.reply = reply
    text, how = rephrase(phraser, "is it waterproof?", DRAFT, EVIDENCE)
    assert text == DRAFT and how["used"] is False
    assert reason in how["reason"]


def test_no_model_means_the_draft() -> None:
    assert build_phraser(GenerativeSettings()) is None
    assert rephrase(None, "q", DRAFT, EVIDENCE) == (DRAFT, {"used": False, "reason": "no generative model configured"})


def test_guard_accepts_reordered_facts_with_citations() -> None:
    ok, reason = guard(DRAFT, "An 8 ounce bottle [2] of waterproof polyurethane glue [1].", EVIDENCE, "size?")
    assert ok, reason


def test_llama_cpp_needs_its_library_or_a_model_file() -> None:
    from shelfwise.assistant.generative import LlamaCppPhraser

    with pytest.raises((ValueError, ImportError)):
        LlamaCppPhraser(GenerativeSettings(provider="llama_cpp", model="/nonexistent.gguf"))
