"""Settings of the shopping assistant (``[assistant]`` in ``shelfwise.toml``).

Example:
    >>> s = AssistantSettings()
    >>> s.items, s.per_brand, s.generative.provider
    (5, 2, 'none')
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shelfwise.config_base import Section

__all__ = ["AssistantSettings", "GenerativeSettings"]


class GenerativeSettings(Section):
    """An optional generative model that re-phrases grounded answers (never the facts)."""

    provider: Literal["none", "openai", "llama_cpp"] = Field(
        "none", description="none: answers are phrased from the evidence by template; openai: an "
        "OpenAI-compatible chat endpoint; llama_cpp: a local GGUF model through llama-cpp-python"
    )
    base_url: str = Field("", description="openai: the endpoint's base URL, e.g. http://127.0.0.1:8080/v1")
    model: str = Field("", description="openai: the model name; llama_cpp: the path of the .gguf file")
    api_key_env: str = Field("SHELFWISE_LLM_KEY", description="environment variable holding the endpoint's key")
    timeout: float = Field(5.0, gt=0, description="seconds to wait for a phrasing before using the template")
    max_tokens: int = Field(200, ge=16, description="longest phrasing asked for")


class AssistantSettings(Section):
    """The shopping assistant: conversation, evidence answers, shop Q&A, hand-off."""

    items: int = Field(5, ge=1, le=20, description="products suggested per reply")
    per_brand: int = Field(2, ge=1, description="at most this many suggestions of one brand (diversity)")
    search_depth: int = Field(30, ge=5, description="search results read before diversifying")
    session_ttl: float = Field(1800.0, gt=0, description="seconds a conversation is kept after its last turn")
    evidence_threshold: float | None = Field(
        None, description="abstain below this evidence score; None: the value chosen on held-out questions "
        "by `shelfwise assistant-train` (artifact), else the built-in default measured on the labelled set"
    )
    faq_threshold: float = Field(
        0.4, description="a shop question needs this cosine to a known question + answer (on the hand-written "
        "set, held-out paraphrases of known questions mostly scored 0.45-0.9, product messages at most 0.2)"
    )
    citations: int = Field(3, ge=1, le=10, description="evidence sentences cited per answer")
    handoff_after_abstentions: int = Field(
        2, ge=1, description="hand off after this many unanswered questions in a row"
    )
    generative: GenerativeSettings = Field(default_factory=GenerativeSettings)
