"""The shopping assistant (智能客服): a conversation that finds products and answers questions, grounded.

Modules, one job each: :mod:`~shelfwise.assistant.session` (conversation state with a TTL),
:mod:`~shelfwise.assistant.intents` / :mod:`~shelfwise.assistant.parse` (what a message asks),
:mod:`~shelfwise.assistant.evidence` (answers from an item's sentences, or "I don't know"),
:mod:`~shelfwise.assistant.faq` (the shop's Q&A), :mod:`~shelfwise.assistant.tune` (LoRA on past questions),
:mod:`~shelfwise.assistant.compose` (replies with citations), :mod:`~shelfwise.assistant.generative`
(an optional, guarded model), :mod:`~shelfwise.assistant.handoff`, :mod:`~shelfwise.assistant.service`
(one turn) and :mod:`~shelfwise.assistant.build` (an assistant for a store).
"""

from __future__ import annotations

from shelfwise.assistant.config import AssistantSettings, GenerativeSettings

# the service is imported from its module (``shelfwise.assistant.service``): importing it here would make
# ``shelfwise.config`` (which needs the settings above) import the search pipeline
__all__ = ["AssistantSettings", "GenerativeSettings"]
