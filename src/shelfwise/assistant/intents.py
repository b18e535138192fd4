"""What a shopper's message asks for: a small, readable rule set over the words of the message.

Acts, checked in this order:

* ``handoff``: a complaint, an order problem or a request for a person ("my order never arrived",
  "I want a refund", "talk to a human");
* ``compare``: "compare the first two", "which is better, 1 or 3";
* ``more_like``: "more like the second one", "similar to this";
* ``question``: a question about a product ("is it waterproof?", "does the first one fit a 15 inch laptop",
  "what do people complain about");
* ``shop``: a question about the shop (shipping, returns, payment) -- answered from the shop's Q&A;
* ``search``: anything else is a need or a refinement of it ("I need tape", "under $10", "not 3M").

Ordinals ("the second one", "#2", "the first two") are read by :func:`ordinals`.

Example:
    >>> classify("my order never arrived").act, classify("compare the first two").act
    ('handoff', 'compare')
    >>> classify("is the second one waterproof?").act, ordinals("is the second one waterproof?")
    ('question', [1])
    >>> classify("how long does shipping take?").act, classify("black tape under $10").act
    ('shop', 'search')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Act", "classify", "ordinals"]

_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "last": -1,
}
_COUNTS = {"two": 2, "three": 3, "both": 2}

_HANDOFF = re.compile(
    r"\b(refund|money back|complaint|i (?:want|would like|wish|need) to complain|i'm complaining|broken|damaged|defective|never (?:arrived|came|received)|"
    r"(?:has|have|hasn't|haven't|did ?n[o']t) (?:not )?(?:arrived|received|come)|where is my (?:order|package|parcel)|"
    r"my (?:order|package|parcel|delivery)|order (?:number|#|no\.?)|tracking|wrong (?:item|size|colour|color|product)|"
    r"cancel (?:my|the|an)? ?order|charged twice|double charged|scam|ripped off|"
    r"(?:talk|speak|chat) (?:to|with) (?:a |an |someone|somebody|person|human|agent|manager)|"
    r"real person|human agent|customer service)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(r"\b(compare|comparison|versus|vs\.?|difference between|which (?:one )?is better)\b", re.I)
_MORE_LIKE = re.compile(r"\b(more like|similar to|something like|like the \w+ one|others? like)\b", re.I)
_QUESTION_START = re.compile(
    r"^\s*(is|are|does|do|did|can|could|will|would|should|how|what|which|why|was|were|has|have)\b", re.I
)
_ABOUT_ITEM = re.compile(
    r"\b(it|its|it's|this|that|they|them|these|those|one|item|product|reviews?|people|buyers|customers)\b", re.I
)
_REVIEW_ASK = re.compile(r"\b(complain|complaints|reviews? say|people say|downside|cons|pros|problems?)\b", re.I)
_SHOP = re.compile(
    r"\b(ship|shipping|shipped|deliver|delivery|return|returns|refunds? policy|exchange|payment|pay|paypal|"
    r"credit card|invoice|warranty|guarantee|store hours|open|opening|contact|gift card|coupon|discount code|"
    r"promo|international|customs|pick ?up|track|account|password|sign up|newsletter|privacy)\b",
    re.I,
)
_NEED_CUE = re.compile(r"\b(i need|i want|looking for|show me|find|search|buy|get me|recommend)\b", re.I)


@dataclass(frozen=True)
class Act:
    """The act of a message and the rule that decided it (``rule`` is for logs and tests)."""

    act: str
    rule: str


def ordinals(message: str) -> list[int]:
    """Positions (0-based; -1 = last) the message refers to: "the second one" -> [1], "the first two" ->
    [0, 1], "1 and 3" -> [0, 2] (only after "compare" / "#"), "#2" -> [1]."""
    text = message.lower()
    m = re.search(r"\b(?:first|top) (two|three|both)\b", text)
    if m:
        return list(range(_COUNTS[m.group(1)]))
    if re.search(r"\bboth\b", text):
        return [0, 1]
    found: list[tuple[int, int]] = []
    for word, pos in _ORDINALS.items():
        for hit in re.finditer(rf"\b{re.escape(word)}\b", text):
            found.append((hit.start(), pos))
    for hit in re.finditer(r"(?:#|number |no\. ?|item )(\d{1,2})\b", text):
        found.append((hit.start(), int(hit.group(1)) - 1))
    if not found and _COMPARE.search(text):
        for hit in re.finditer(r"\b(\d)\b", text):
            found.append((hit.start(), int(hit.group(1)) - 1))
    out: list[int] = []
    for _, pos in sorted(found):
        if pos not in out:
            out.append(pos)
    return out


def classify(message: str, *, has_items: bool = False) -> Act:
    """The act of ``message``; ``has_items``: the conversation has shown products (so "it" can refer)."""
    text = message.strip()
    if _HANDOFF.search(text):
        return Act("handoff", "complaint or order problem")
    if _COMPARE.search(text):
        return Act("compare", "compare words")
    if _MORE_LIKE.search(text):
        return Act("more_like", "similarity words")
    is_question = text.endswith("?") or bool(_QUESTION_START.search(text))
    refers = bool(ordinals(text)) or bool(_ABOUT_ITEM.search(text))
    if is_question and _SHOP.search(text) and not ordinals(text):
        return Act("shop", "question about the shop")
    if _REVIEW_ASK.search(text) and (refers or has_items):
        return Act("question", "asks what reviews say")
    if is_question and not _NEED_CUE.search(text) and (refers or has_items):
        return Act("question", "question about a product")
    if is_question and _SHOP.search(text):
        return Act("shop", "question about the shop")
    return Act("search", "a need or a refinement")
