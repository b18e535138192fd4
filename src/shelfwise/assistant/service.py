"""One assistant turn: understand the message, act through the existing pipelines, reply with what was found.

Needs and refinements go to the search pipeline (the same ranking, query understanding and personalisation as
``/v1/search``), with the conversation's constraints as hard filters; "more like #n" puts the recommender's
similar items that meet the constraints first (the service passes ``similar``), topped up by a search for the
item's title; every list is diversified by a per-brand cap.
Product questions go to :class:`~shelfwise.assistant.evidence.EvidenceIndex`, shop questions to
:class:`~shelfwise.assistant.faq.FaqIndex`, complaints and repeated "I don't know" to a hand-off. The session
(scrubbed text only) lives in a :class:`~shelfwise.assistant.session.SessionStore`.

Example:
    >>> assistant = Assistant(...)  # doctest: +SKIP
    >>> assistant.turn("s1", "I need tape").items[0]["title"]  # doctest: +SKIP
    >>> assistant.turn("s1", "under $10").constraints  # doctest: +SKIP
    {'category': [...], 'price_max': 10.0}
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from shelfwise.assistant import compose, handoff
from shelfwise.assistant.config import AssistantSettings
from shelfwise.assistant.evidence import EvidenceIndex
from shelfwise.assistant.faq import FaqIndex, StoreFaq
from shelfwise.assistant.generative import Phraser, rephrase
from shelfwise.assistant.intents import classify, ordinals
from shelfwise.assistant.parse import apply, read_refinement
from shelfwise.assistant.session import Session, SessionStore
from shelfwise.search.types import SearchRequest, SearchResponse

__all__ = ["Assistant", "Reply", "filters_of", "satisfies"]

log = logging.getLogger(__name__)

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")

SearchFn = Callable[[SearchRequest], tuple[SearchResponse, str | None]]
#: ``similar(item_id, k, exclude) -> (item ids, request id)``: the recommender's "similar items" slot.
SimilarFn = Callable[[str, int, list[str]], tuple[list[str], str | None]]


@dataclass
class Reply:
    """What one turn answers (the ``POST /v1/assistant`` body plus a few extras).

    Attributes:
        reply: the text for the shopper.
        items: suggested or discussed products (``item_id``, ``title``, ``price``, ``brand``, ``category``,
            ``reason``).
        citations: the evidence the reply rests on (``id`` = the ``[n]`` marker, ``source``, ``ref``, ``text``).
        constraints: the conversation's constraints after this turn.
        handoff: a person should take over; ``summary`` says what they need to know.
        act: what the message was read as (``search``, ``question``, ``shop``, ``compare``, ``more_like``,
            ``handoff``).
        request_id: the search request the items were logged under (send it back with click events).
        comparison: rows of a side-by-side, for ``compare``.
        phrasing: whether a generative model phrased the reply and why not.
        timings_ms: where the time went.
    """

    reply: str
    items: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)
    handoff: bool = False
    summary: str | None = None
    act: str = "search"
    request_id: str | None = None
    comparison: list[dict[str, Any]] | None = None
    phrasing: dict[str, Any] = field(default_factory=lambda: {"used": False, "reason": "template"})
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def filters_of(constraints: Mapping[str, Any]) -> dict[str, Any]:
    """Search filters of a constraint set (exclusions of brands are resolved to ids by the caller)."""
    keys = ("price_min", "price_max", "brand", "colour", "colour_exclude")
    return {k: constraints[k] for k in keys if constraints.get(k) not in (None, [])}


def _brand_excluded(catalog: Any, brands: list[str]) -> Callable[[str], bool]:
    """A test ``item_id -> bool``: the item's brand is one of ``brands``, or its title names one ("3M Foil
    Tape" sold by a reseller is still 3M to the shopper who said "not 3M")."""
    names = {b.lower() for b in brands}
    phrases = [frozenset(w.lower() for w in _WORD.findall(b)) for b in brands]
    phrases = [p for p in phrases if p]

    def test(item_id: str) -> bool:
        item = catalog.items.get(item_id)
        if item is None:
            return False
        if item.brand and item.brand.lower() in names:
            return True
        return any(p <= item.words for p in phrases)

    return test


def satisfies(catalog: Any, item_id: str, constraints: Mapping[str, Any]) -> bool:
    """Whether an item meets every constraint (brand exclusions included)."""
    if not catalog.matches(item_id, filters_of(constraints)):
        return False
    excluded = constraints.get("brand_exclude") or []
    return not (excluded and _brand_excluded(catalog, excluded)(item_id))


class Assistant:
    """The shopping assistant over one shop (see the module docstring).

    Args:
        search: runs a :class:`SearchRequest` through the search pipeline (and, in the service, the cache and
            the impression log); returns the response and the request id it was logged under.
        catalog: the search pipeline's :class:`~shelfwise.search.catalog.SearchCatalog` (item facts).
        parse: the search pipeline's query parser (``parse(text) -> ParsedQuery``).
        evidence: product-question answering.
        faq: shop Q&A (None when the shop gave none).
        sessions: where conversations live.
        settings: ``[assistant]``.
        ratings: ``item_id -> (mean stars, count)`` for comparisons.
        phraser: an optional generative model (guarded).
        personalise: whether a shopper's profile may shape their results (consent).
        scrub: removes personal data from a message before it is kept or logged.
        similar: the recommender's "similar items" for "more like #n" (None: search with the item's title).
    """

    def __init__(
        self,
        *,
        search: SearchFn,
        catalog: Any,
        parse: Callable[[str], Any],
        evidence: EvidenceIndex,
        faq: FaqIndex | StoreFaq | None,
        sessions: SessionStore,
        settings: AssistantSettings,
        ratings: Mapping[str, tuple[float, int]] | None = None,
        phraser: Phraser | None = None,
        personalise: Callable[[str | None], bool] | None = None,
        scrub: Callable[[str], str] | None = None,
        similar: SimilarFn | None = None,
    ) -> None:
        self.search = search
        self.catalog = catalog
        self.parse = parse
        self.evidence = evidence
        self.faq = faq
        self.sessions = sessions
        self.settings = settings
        self.ratings = dict(ratings or {})
        self.phraser = phraser
        self.personalise = personalise or (lambda user: user is not None)
        self.scrub = scrub or _scrub
        self.similar = similar

    # -- the turn ----------------------------------------------------------------------------------
    def turn(self, session_id: str, message: str, user_id: str | None = None) -> Reply:
        """Answer one message of a conversation and remember it."""
        start = time.perf_counter()
        text = self.scrub(message.strip())
        session = self.sessions.load(session_id)
        session.add_turn("shopper", text)
        act = classify(text, has_items=bool(session.items)).act
        if act == "handoff":
            reply = Reply(
                "I'm sorry about that. I can't sort out orders or complaints myself, so I'm passing this "
                "conversation to a person who can; they will see what you told me.",
                act=act,
            )
        elif act == "compare":
            reply = self._compare(session, text)
        elif act == "question":
            reply = self._question(session, text)
        elif act == "shop":
            reply = self._shop(session, text)
        else:
            reply = self._suggest(session, text, user_id, like=act == "more_like")
            reply.act = act
        if act in ("question", "shop") and reply.act != "search":
            session.unanswered = 0 if reply.citations else session.unanswered + 1
        reason = handoff.handoff_reason(act, session.unanswered, self.settings.handoff_after_abstentions)
        if reason is not None:
            reply.handoff = True
            reply.summary = handoff.summary(session, reason)
            if reason == handoff.LOW_CONFIDENCE:
                reply.reply += " I'm passing this conversation to a person who can check."
            session.unanswered = 0
        reply.constraints = dict(session.constraints)
        session.add_turn("assistant", reply.reply[:500])
        self.sessions.save(session)
        reply.timings_ms["turn"] = round((time.perf_counter() - start) * 1e3, 3)
        log.info(
            "assistant turn: session %s act %s items %d citations %d handoff %s (%.1f ms)",
            hashlib.sha256(session_id.encode()).hexdigest()[:10], reply.act, len(reply.items),
            len(reply.citations), reply.handoff, reply.timings_ms["turn"],
        )
        return reply

    # -- products ----------------------------------------------------------------------------------
    def _item(self, item_id: str, reason: str) -> dict[str, Any]:
        item = self.catalog.items.get(item_id)
        if item is None:
            return {"item_id": item_id, "title": "", "price": None, "brand": None, "category": None, "reason": reason}
        return {
            "item_id": item_id, "title": item.title, "price": item.price, "brand": item.brand,
            "category": item.category_label or None, "reason": reason,
        }

    def _search_filters(self, constraints: Mapping[str, Any], exclude: list[str]) -> dict[str, Any]:
        filters = filters_of(constraints)
        excluded = constraints.get("brand_exclude") or []
        ids = list(exclude)
        if excluded:
            test = _brand_excluded(self.catalog, excluded)
            ids.extend(i for i in self.catalog.items if test(i))
        if ids:
            filters["exclude_ids"] = ids
        return filters

    def _suggest(self, session: Session, text: str, user_id: str | None, *, like: bool) -> Reply:
        """A need, a refinement or "more like #n": the search pipeline under the session's constraints."""
        query, exclude, reason = session.need, [], ""
        if like:
            picked = self._picked(session, text)
            if picked is None:
                return Reply("Which one? Ask me for products first, then say e.g. 'more like the second one'.")
            query = self.catalog.title(picked) or session.need
            exclude, reason = [picked], f"like {self.catalog.title(picked)[:60]}"
        else:
            change = read_refinement(text, self.parse)
            if not change.new_need and not session.need and not (change.set or change.exclude):
                change.new_need, change.need = True, text
            session.constraints = apply(session.constraints, change)
            if change.new_need:
                session.need, session.focus = change.need, None
            query = session.need
        t = time.perf_counter()
        request = SearchRequest(
            query=query,
            user_id=user_id if self.personalise(user_id) else None,
            k=self.settings.search_depth,
            filters=self._search_filters(session.constraints, exclude),
            personalise=self.personalise(user_id),
            use_query_filters=not like,  # the need's category: a constraint search relaxes first
        )
        response, request_id = self.search(request)
        hits = list(response.results)
        # search keeps weaker items out of its confident list; with nothing confident, offer them as such
        weaker = not hits and bool(getattr(response, "more_results", None))
        if weaker:
            hits = list(response.more_results)
        ranked = [h.item_id for h in hits]
        reasons = {h.item_id: h.reason for h in hits}
        if like and self.similar is not None:  # the recommender's similar items that meet the constraints first
            similar, rec_id = self.similar(exclude[0], self.settings.search_depth, exclude)
            fits = [i for i in similar if satisfies(self.catalog, i, session.constraints)]
            if fits:
                ranked = [*fits, *(i for i in ranked if i not in fits)]
                request_id = rec_id or request_id
        took = (time.perf_counter() - t) * 1e3
        picked_ids = self._diversify(ranked)
        items = [self._item(i, reason or reasons.get(i, "")) for i in picked_ids]
        session.items = picked_ids
        label = f"something {reason}" if like else session.need
        phrased = compose.suggestions_reply(label, session.constraints, items, response.relaxed)
        if weaker and items:
            phrased = "Nothing matches that closely; these are the nearest I found. " + phrased
        out = Reply(
            phrased,
            items=items,
            request_id=request_id,
        )
        out.timings_ms["search"] = round(took, 3)
        return out

    def _diversify(self, ranked: list[str]) -> list[str]:
        """The ranked ids with at most ``per_brand`` of one brand, topped up in rank order when too few."""
        cap, want = self.settings.per_brand, self.settings.items
        counts: dict[str, int] = {}
        out: list[str] = []
        for item_id in ranked:
            item = self.catalog.items.get(item_id)
            brand = (item.brand or "").lower() if item else ""
            if brand and counts.get(brand, 0) >= cap:
                continue
            counts[brand] = counts.get(brand, 0) + 1
            out.append(item_id)
            if len(out) == want:
                return out
        out.extend(i for i in ranked if i not in out)
        return out[:want]

    def _picked(self, session: Session, text: str) -> str | None:
        """The item a message refers to: an ordinal of the last list, else the focus, else the first shown."""
        positions = ordinals(text)
        if positions and session.items:
            pos = positions[0]
            if -len(session.items) <= pos < len(session.items):
                return session.items[pos]
            return None
        return session.focus or (session.items[0] if session.items else None)

    # -- questions ---------------------------------------------------------------------------------
    def _question(self, session: Session, text: str) -> Reply:
        target = self._picked(session, text)
        if target is None:
            if self.faq is not None and self.faq.match(text):
                return self._shop(session, text)
            return Reply("Which product do you mean? Tell me what you're looking for first.", act="question")
        session.focus = target
        t = time.perf_counter()
        answer = self.evidence.answer(target, text, self.settings.citations)
        took = (time.perf_counter() - t) * 1e3
        title = self.catalog.title(target) or target
        item = [self._item(target, "asked about")]
        if not answer.answerable:
            out = Reply(compose.not_answerable_reply(title), items=item, act="question")
        else:
            draft, citations = compose.answer_reply(title, answer)
            phrased, how = rephrase(self.phraser, text, draft, [c["text"] for c in citations])
            out = Reply(phrased, items=item, citations=citations, act="question", phrasing=how)
        out.timings_ms["evidence"] = round(took, 3)
        return out

    def _shop(self, session: Session, text: str) -> Reply:
        match = self.faq.match(text) if self.faq is not None else None
        if match is None:
            if session.items and classify(text, has_items=True).act == "question":
                return self._question(session, text)
            return Reply(
                "I don't know the answer to that from the shop's information. I can hand you to a person.",
                act="shop",
            )
        reply, citations = compose.faq_reply(match.entry)
        return Reply(reply, citations=citations, act="shop")

    def _compare(self, session: Session, text: str) -> Reply:
        positions = ordinals(text) or [0, 1]
        ids = [session.items[p] for p in positions if -len(session.items) <= p < len(session.items)]
        ids = list(dict.fromkeys(ids))
        if len(ids) < 2:
            return Reply("Which two? Ask me for products first, then say e.g. 'compare the first two'.", act="compare")
        rows: list[dict[str, Any]] = []
        citations: list[dict[str, Any]] = []
        for item_id in ids:
            row = self._item(item_id, "compared")
            mean, count = self.ratings.get(item_id, (0.0, 0))
            row.update(rating=round(mean, 2) if count else None, ratings=count,
                       attributes=self._attributes(item_id))
            liked = self.evidence.answer(item_id, "what do people like about it", 1)
            if liked.answerable and liked.cited:
                sentence = liked.cited[0][0]
                row["review"] = sentence.text
                citations.append({"id": len(citations) + 1, "item_id": item_id, "source": sentence.source,
                                  "ref": sentence.ref, "text": sentence.text})
            rows.append(row)
        items = [{k: r[k] for k in ("item_id", "title", "price", "brand", "category", "reason")} for r in rows]
        return Reply(compose.compare_reply(rows), items=items, citations=citations, act="compare", comparison=rows)

    def _attributes(self, item_id: str) -> dict[str, str]:
        row = self.evidence.rows(item_id) or {}
        from shelfwise.encoders.item_text import parse_attributes

        return {str(k): str(v) for k, v in parse_attributes(row.get("attributes")).items()}


def _scrub(text: str) -> str:
    from shelfwise.privacy.pii import scrub

    return scrub(text).text
