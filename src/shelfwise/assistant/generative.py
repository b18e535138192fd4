"""An optional generative model that re-words a grounded draft, and the guard that checks what it wrote.

One interface, :class:`Phraser` (``phrase(system, user) -> str``), two implementations configured by the shop
(``[assistant.generative]``): :class:`OpenAIPhraser` for any OpenAI-compatible chat endpoint (``POST
{base_url}/chat/completions``) and :class:`LlamaCppPhraser` for a local GGUF model through ``llama-cpp-python``.
Neither is needed: without one the template draft is the reply.

The model only sees the draft and its evidence and is asked to re-word it. :func:`guard` then accepts the
re-worded text only when

* every citation marker ``[n]`` of the draft is kept and no other marker appears;
* every number in it occurs in the draft or the evidence;
* every content word (stemmed, stop words and a few phrasing words aside) occurs in the draft, the evidence or
  the question -- a claim whose words the evidence lacks is rejected;
* it adds no negation the draft lacks (a flipped answer).

A rejected or failed phrasing falls back to the draft, and the reply says which was used.

Example:
    >>> draft = 'About Glue, the product information says: "Waterproof polyurethane glue" [1]'
    >>> guard(draft, "Yes, it is a waterproof polyurethane glue [1].", ["Waterproof polyurethane glue"], "is it waterproof")
    (True, 'ok')
    >>> guard(draft, "Yes, waterproof and safe for children [1].", ["Waterproof polyurethane glue"], "is it waterproof")
    (False, 'words not in the evidence: children, safe')
    >>> guard(draft, "Yes, it is waterproof.", ["Waterproof polyurethane glue"], "is it waterproof")
    (False, 'citation [1] dropped')
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from typing import Any, Protocol

from shelfwise.assistant.config import GenerativeSettings

__all__ = ["LlamaCppPhraser", "OpenAIPhraser", "Phraser", "build_phraser", "guard", "rephrase"]

log = logging.getLogger(__name__)

SYSTEM = (
    "You re-word a shop assistant's draft answer so it reads naturally. Use only facts in the draft and the "
    "evidence. Keep every citation marker like [1] exactly, after the fact it supports. Add nothing else."
)
_CITE = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[a-z]+")
_NEGATION = frozenset({"not", "no", "never", "none", "nothing", "cannot", "without", "isn", "doesn", "don",
                       "won", "aren", "wasn", "didn"})
_PHRASING = frozenset(
    ["yes", "yeah", "sure", "according", "reviews", "review", "reviewer", "reviewers", "mention", "mentions", "mentioned", "say", "says", "said", "product", "item", "listing", "details", "information", "describe", "describes", "described", "note", "notes", "customers", "buyers", "people", "based", "also", "overall", "it", "its", "this", "that", "these", "those", "they", "their", "there", "here", "what", "which", "who", "will", "would", "can", "could", "should", "may", "might", "seems", "seem", "appears", "appear", "indeed", "quite", "very", "really"]
)


class Phraser(Protocol):
    """A generative model behind one call."""

    def phrase(self, system: str, user: str) -> str:
        """The model's reply to a system and a user message."""


class OpenAIPhraser:
    """An OpenAI-compatible chat endpoint (``POST {base_url}/chat/completions``)."""

    def __init__(self, settings: GenerativeSettings) -> None:
        import httpx

        if not settings.base_url:
            raise ValueError("assistant.generative.base_url is empty: set the endpoint's URL")
        key = os.environ.get(settings.api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.settings = settings
        self.client = httpx.Client(base_url=settings.base_url.rstrip("/"), headers=headers, timeout=settings.timeout)

    def phrase(self, system: str, user: str) -> str:
        """One chat completion (temperature 0)."""
        body = {
            "model": self.settings.model or "default",
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "max_tokens": self.settings.max_tokens,
        }
        resp = self.client.post("/chat/completions", json=body)
        resp.raise_for_status()
        return str(resp.json()["choices"][0]["message"]["content"])


class LlamaCppPhraser:
    """A local GGUF model through ``llama-cpp-python`` (``pip install 'shelfwise[llm]'``)."""

    def __init__(self, settings: GenerativeSettings) -> None:
        from shelfwise._optional import require

        llama_cpp = require("llama_cpp", "llm")
        if not settings.model or not os.path.isfile(settings.model):
            raise ValueError("assistant.generative.model must be the path of a .gguf file")
        self.settings = settings
        self.llm = llama_cpp.Llama(model_path=settings.model, n_ctx=2048, verbose=False)

    def phrase(self, system: str, user: str) -> str:
        """One chat completion (temperature 0)."""
        out = self.llm.create_chat_completion(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            temperature=0,
            max_tokens=self.settings.max_tokens,
        )
        return str(out["choices"][0]["message"]["content"])


def build_phraser(settings: GenerativeSettings) -> Phraser | None:
    """The configured phraser, or None (``provider = "none"``)."""
    if settings.provider == "openai":
        return OpenAIPhraser(settings)
    if settings.provider == "llama_cpp":
        return LlamaCppPhraser(settings)
    return None


def _stems(text: str) -> set[str]:
    import Stemmer

    stem = Stemmer.Stemmer("english").stemWord
    return {stem(w) for w in _WORD.findall(text.lower()) if len(w) > 2}


def guard(draft: str, text: str, evidence: Sequence[str], question: str) -> tuple[bool, str]:
    """Whether a generated ``text`` keeps the draft's citations and claims nothing the evidence lacks."""
    from bm25s.stopwords import STOPWORDS_EN

    wanted = set(_CITE.findall(draft))
    got = set(_CITE.findall(text))
    for n in sorted(wanted - got, key=int):
        return False, f"citation [{n}] dropped"
    if got - wanted:
        return False, f"unknown citation [{sorted(got - wanted, key=int)[0]}]"
    source = " ".join([draft, *evidence, question])
    numbers = set(_NUMBER.findall(_CITE.sub(" ", source)))
    for number in _NUMBER.findall(_CITE.sub(" ", text)):
        if number not in numbers:
            return False, f"number {number} not in the evidence"
    words = {w for w in _WORD.findall(text.lower())}
    added_negation = (words & _NEGATION) - set(_WORD.findall(draft.lower()))
    if added_negation:
        return False, f"negation not in the draft: {', '.join(sorted(added_negation))}"
    allowed = _stems(source) | _stems(" ".join(_PHRASING)) | _stems(" ".join(STOPWORDS_EN))
    import Stemmer

    stem = Stemmer.Stemmer("english").stemWord
    new = sorted({w for w in words if len(w) > 2 and stem(w) not in allowed and w not in STOPWORDS_EN})
    if new:
        return False, f"words not in the evidence: {', '.join(new)}"
    return True, "ok"


def rephrase(phraser: Phraser | None, question: str, draft: str, evidence: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The phrased reply when the model's text passes :func:`guard`, else the draft; and what happened."""
    if phraser is None:
        return draft, {"used": False, "reason": "no generative model configured"}
    user = "Question: " + question + "\nEvidence:\n" + "\n".join(f"- {e}" for e in evidence) + "\nDraft: " + draft
    try:
        text = phraser.phrase(SYSTEM, user).strip()
    except Exception as exc:  # any failure of an optional model falls back to the grounded draft
        log.warning("generative phrasing failed, using the draft: %s", exc)
        return draft, {"used": False, "reason": f"model failed: {type(exc).__name__}"}
    ok, reason = guard(draft, text, evidence, question)
    if not ok:
        log.info("generative phrasing rejected: %s", reason)
        return draft, {"used": False, "reason": f"rejected: {reason}"}
    return text, {"used": True, "reason": "ok"}
