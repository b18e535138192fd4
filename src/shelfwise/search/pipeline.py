"""The search pipeline: one object the CLI, the evaluation harness and the HTTP API all call.

A request goes through:

1. **query understanding** (:class:`~shelfwise.search.query.QueryParser`): corrected text, extracted
   brand / category / colour / size / price constraints, intent;
2. **constraints**: hard filters are the request's explicit ``filters`` (chips, facet clicks) and an
   explicit price limit in the text ("under $10"; ``config.query_filters``); category, price, stock and
   exclusions are applied inside both indexes, brand, colour and size on the candidates
   (:class:`~shelfwise.search.catalog.SearchCatalog`). Every other reading of the text (brand, category
   and its neighbours, colour, size) is *evidence* with a confidence (:mod:`~shelfwise.search.evidence`),
   and the shop's synonyms (:mod:`~shelfwise.search.rules`) widen the words;
3. **hybrid retrieval** (:class:`~shelfwise.search.retrieve.HybridRetriever`): lexical and dense top
   lists, fused (RRF or learned linear);
4. **relaxation**: while nothing matches, the constraints are dropped one at a time in
   ``config.relax_order`` (extracted ones before explicit ones), each with a message in ``relaxed``;
5. **facets** over the matching set;
6. **learned re-ranking** of the top candidates when a ranker is loaded
   (:class:`~shelfwise.search.ranker.SearchRanker`);
7. **personalisation** from the shopper's profile, which never lifts a result above a strong textual
   match (:mod:`~shelfwise.search.personal`);
8. **calibrated relevance** (:mod:`~shelfwise.search.relevance`): only confident matches are counted and
   listed; weaker ones go to ``more_results``; then sort, page, facets and reasons
   (:mod:`~shelfwise.search.answer`).

Example:
    >>> pipe = SearchPipeline.load(store, settings)  # doctest: +SKIP
    >>> resp = pipe.search(SearchRequest("red running shoes under 50", k=10))  # doctest: +SKIP
    >>> [(h.item_id, h.reason) for h in resp.results][:1], resp.parsed["filters"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from shelfwise.data.schema import EVENT_WEIGHTS
from shelfwise.privacy.consent import drop_withheld
from shelfwise.recommend.applied import AppliedEvents
from shelfwise.search.answer import answer, hard_filters_from_query
from shelfwise.search.catalog import SearchCatalog
from shelfwise.search.config import SearchPipelineConfig
from shelfwise.search.constraints import LABELS, POST_KEYS, constraint_groups, describe, merge
from shelfwise.search.evidence import read_query
from shelfwise.search.following import catch_up
from shelfwise.search.personal import UserAffinity, affinity_parts, personalised_order
from shelfwise.search.query import CatalogueVocabulary, ParsedQuery, QueryParser
from shelfwise.search.relevance import Calibration, any_confident
from shelfwise.search.retrieve import Candidates, HybridRetriever, LinearFusion, index_filter
from shelfwise.search.rules import SearchRules, load_rules
from shelfwise.search.suggest import Suggester
from shelfwise.search.types import SearchRequest, SearchResponse

if TYPE_CHECKING:
    from shelfwise.config import Settings
    from shelfwise.storage import Store

log = logging.getLogger(__name__)

#: Artifact holding the trained re-ranker (LightGBM + cross-encoder) of a store.
SEARCH_RANKER = "search-ranker"


class SearchPipeline:
    """Product search over one catalogue (see the module docstring for the stages).

    Build it with :meth:`load` (a store after ``shelfwise build``) or :meth:`from_items` (in memory).
    Searching is thread-safe; catalogue changes and observed events take a lock.

    Args:
        catalog: item facts.
        retriever: indexes + encoder.
        vocabulary: the catalogue vocabulary of the query parser.
        config: pipeline settings.
        profiles: a :class:`~shelfwise.profiles.service.ProfileService` for personalisation, or ``None``.
        ranker: a trained :class:`~shelfwise.search.ranker.SearchRanker`, or ``None``.
        item_template: renders item rows to the text the encoder embeds (for :meth:`upsert_items`).
    """

    #: consent (privacy/consent.py): whether a shopper's live events may feed suggestions and popularity
    #: (training consent); None = everyone
    trainable: Callable[[str], bool] | None = None

    def __init__(
        self,
        catalog: SearchCatalog,
        retriever: HybridRetriever,
        vocabulary: CatalogueVocabulary,
        config: SearchPipelineConfig | None = None,
        *,
        profiles: Any = None,
        ranker: Any = None,
        item_template: Any = None,
    ) -> None:
        self.config = config or SearchPipelineConfig()
        self.catalog = catalog
        self.retriever = retriever
        self.vocabulary = vocabulary
        self.parser = QueryParser(vocabulary)
        self.suggester = Suggester.from_vocabulary(vocabulary)
        self.profiles = profiles
        self.ranker = ranker
        self.item_template = item_template
        self.matcher: Any = None  # TextMatcher, built when a ranker needs text-match features
        self.title_index: Any = None  # title vectors (an exact index), built with the matcher
        self._lock = threading.Lock()  # serialises writers; searches never take it
        self._catch_up_lock = threading.Lock()
        self._applied = AppliedEvents(None)
        self._catalogue_seq = 0
        self._deletion_seq = 0
        self.rules = SearchRules()  # the shop's synonyms and redirects (store meta, re-read on catch_up)
        self.rules_max_age = 2.0  # seconds between re-reads of the rules by refresh_rules
        self._rules_read = time.monotonic()

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def load(cls, store: Store, settings: Settings, *, catch_up: bool = True) -> SearchPipeline:
        """Open the artifacts of ``shelfwise build`` (and the trained ranker and profiles when present),
        then (by default) :meth:`catch_up` with the catalogue changes stored since the build.

        Raises:
            ArtifactNotFoundError: the store has no item artifacts; the message says to run ``shelfwise build``.
        """
        from shelfwise.build import _ITEM_COLUMNS, _encoder_settings, load_item_artifacts
        from shelfwise.encoders import ItemTextTemplate, build_encoder
        from shelfwise.storage import ArtifactNotFoundError

        t0 = time.perf_counter()
        art = load_item_artifacts(store)
        enc_cfg = _encoder_settings(settings, store)
        encoder = build_encoder(enc_cfg, use_cache=False)
        cfg = settings.search.pipeline
        retriever = HybridRetriever(
            art.lexical_index, art.vector_index, encoder, depth=cfg.depth, rrf_k=settings.search.rrf_k
        )
        catalogue_seq = art.catalogue_seq if art.catalogue_seq is not None else 0
        rows = store.read_items([*_ITEM_COLUMNS, "updated_at"]).to_pylist()
        catalog = SearchCatalog.from_items(rows)
        events = store.read_events(["user_id", "item_id", "type", "value", "seq"])
        event_seq = int(max(events.column("seq").to_pylist())) if events.num_rows else 0
        # popularity is an aggregate: without the shoppers who withhold training consent
        events = drop_withheld(events, store, "training", settings.privacy.default_consent)
        if events.num_rows:
            counts: defaultdict[str, float] = defaultdict(float)
            for item, kind in zip(*(events.column(c).to_pylist() for c in ("item_id", "type")), strict=True):
                if item is not None:
                    counts[item] += EVENT_WEIGHTS.get(kind, 0.5)
            catalog.add_popularity(counts)
            catalog.add_ratings(_ratings(events.to_pylist()))
        ranker = None
        try:
            ranker_dir = store.artifacts.latest(SEARCH_RANKER).path
        except ArtifactNotFoundError:
            log.info("no %s artifact: results are ordered by hybrid fusion", SEARCH_RANKER)
        else:
            from shelfwise.search.ranker import SearchRanker

            ranker = SearchRanker.load(ranker_dir)
            if ranker.fusion_weights is not None:
                retriever.fusion = LinearFusion(ranker.fusion_weights, settings.search.rrf_k)
        profiles = None
        try:
            from shelfwise.profiles.pipeline import load_profiles

            profiles = load_profiles(store, settings, until_seq=event_seq)
        except Exception as exc:  # personalisation is optional; search must still work
            log.warning("profiles unavailable for personalisation: %s", exc)
        pipe = cls(
            catalog,
            retriever,
            art.vocabulary,
            cfg,
            profiles=profiles,
            ranker=ranker,
            item_template=ItemTextTemplate(settings.search.item_text),
        )
        if ranker is not None:
            pipe.build_matcher(rows, settings, encoder=build_encoder(enc_cfg))  # titles cached in the store
        pipe._applied = AppliedEvents(event_seq)  # popularity and profiles above hold every event read
        pipe._catalogue_seq = catalogue_seq  # the indexes and vocabulary hold the catalogue built
        pipe._deletion_seq = int(store.deletion_seq())  # profiles were read after the store deleted
        pipe.rules = load_rules(store)
        if catch_up:
            report = pipe.catch_up(store)
            if report["items_applied"]:
                log.info(
                    "search caught up with %d catalogue changes since the build", report["items_applied"]
                )
        pipe.warm_up()
        log.info("search pipeline loaded in %.2fs (%d items)", time.perf_counter() - t0, len(catalog))
        return pipe

    def warm_up(self) -> SearchPipeline:
        """Build the lazy parts now (spelling index, jieba, the encoder session), so no shopper's first
        query pays for them (~1 s). Returns ``self``."""
        self.parser.warm_up()
        self.retriever.encode(["warm up"])
        return self

    @classmethod
    def from_items(
        cls,
        items: Sequence[Mapping[str, Any]],
        settings: Settings,
        *,
        encoder: Any = None,
        vectors: np.ndarray | None = None,
        title_vectors: np.ndarray | None = None,
    ) -> SearchPipeline:
        """Build every index in memory from item rows (tests, evaluation, benchmarks).

        Args:
            items: item rows (``item_id``, ``title``, ``description``, ``brand``, ``category``, ``price``...).
            settings: the settings tree.
            encoder: the text encoder (default: the configured one).
            vectors: precomputed item vectors aligned with ``items`` (default: encode them).
            title_vectors: precomputed title vectors (default: encode the titles).
        """
        from shelfwise.encoders import ItemTextTemplate, build_encoder
        from shelfwise.index.registry import build_lexical_index, build_vector_index

        encoder = encoder or build_encoder(settings.search.encoder)
        template = ItemTextTemplate(settings.search.item_text)
        ids = [str(i["item_id"]) for i in items]
        if vectors is None:
            vectors = encoder.encode_documents([template.render(i) for i in items], show_progress=True)
        vindex = build_vector_index(int(vectors.shape[1]), settings.search.vector)
        vindex.add(ids, np.asarray(vectors, np.float32), list(items))
        lindex = build_lexical_index(settings.search.lexical)
        lindex.add(list(items))
        cfg = settings.search.pipeline
        retriever = HybridRetriever(lindex, vindex, encoder, depth=cfg.depth, rrf_k=settings.search.rrf_k)
        vocab = CatalogueVocabulary.build(list(items))
        pipe = cls(SearchCatalog.from_items(items), retriever, vocab, cfg, item_template=template)
        pipe.build_matcher(items, settings, title_vectors)
        return pipe

    def build_matcher(
        self,
        items: Sequence[Mapping[str, Any]],
        settings: Settings,
        title_vectors: np.ndarray | None = None,
        encoder: Any = None,
    ) -> None:
        """Build what the learned ranker's features read besides the indexes: text-match statistics and
        the title vectors (encoded with ``encoder``, default the retriever's, unless given)."""
        from shelfwise.index.vector_exact import ExactVectorIndex
        from shelfwise.search.features import TextMatcher

        self.matcher = TextMatcher.build(items, settings.search.lexical.tokenizer)
        if title_vectors is None:
            enc = encoder or self.retriever.encoder
            title_vectors = enc.encode_documents(
                [str(i.get("title") or "") for i in items], show_progress=True
            )
        self.title_index = ExactVectorIndex(int(title_vectors.shape[1]))
        self.title_index.add([str(i["item_id"]) for i in items], np.asarray(title_vectors, np.float32))

    # -- searching -----------------------------------------------------------------------------------
    def parse(self, query: str) -> ParsedQuery:
        """The parsed query."""
        return self.parser.parse(query)

    def retrieval_text(self, query: str, parsed: ParsedQuery | None) -> str:
        """What the indexes search for ``query``."""
        if parsed is None or self.config.retrieval_text == "original":
            return query
        return parsed.search_text or parsed.corrected or query

    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer one request (see the module docstring)."""
        timings: dict[str, float] = {}
        t = time.perf_counter()
        rules = self.rules
        parsed = self.parser.parse(request.query) if request.query.strip() else None
        evidence = (
            read_query(parsed, rules.synonyms, hard_price="price" in self.config.query_filters)
            if parsed is not None and request.use_query_filters
            else None
        )
        timings["parse"] = (time.perf_counter() - t) * 1e3
        text = self.retrieval_text(request.query, parsed)
        if evidence is not None and evidence.expansions:
            text = " ".join(dict.fromkeys([*text.split(), *evidence.expansions]))
        extracted = hard_filters_from_query(parsed) if request.use_query_filters else {}
        from_query = {g: v for g, v in constraint_groups(extracted).items() if g in self.config.query_filters}
        explicit = constraint_groups(request.filters)
        qv = None
        if text.strip():
            t = time.perf_counter()
            qv = self.retriever.encode([text])
            timings["encode"] = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        enough = None
        if evidence is not None and evidence.concepts:
            cal = Calibration(*self.config.calibration)
            enough = partial(any_confident, evidence, self.catalog, cal, self.config.relevance_floor)
        cands, applied, relaxed = self._match(text, qv, from_query, explicit, enough)
        timings["retrieve"] = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        order, scores, parts = self._rank(text, parsed, cands, request, qv)
        timings["rank"] = (time.perf_counter() - t) * 1e3
        return answer(
            self,
            request,
            parsed,
            evidence if text.strip() else None,
            (cands, order, scores, parts),
            applied,
            relaxed,
            timings,
            redirect=rules.redirect_for(request.query),
        )

    def _candidates(self, text: str, qv: np.ndarray | None, filters: Mapping[str, Any]) -> Candidates:
        post = {k: v for k, v in filters.items() if k in POST_KEYS}
        if not text.strip():  # browse: every item passing the filters, most popular first
            test = self.catalog.predicate(filters)
            items = self.catalog.items  # one snapshot (writers swap the mapping whole)
            ids = [i for i in items if test(i)]
            pop = np.array([items[i].popularity for i in ids], np.float32)
            zeros = np.zeros(len(ids))
            c = Candidates.build(ids, zeros, zeros, zeros, zeros, depth=0, rrf_k=1)
            c.fused = pop
            return c
        depth = self.retriever.depth * (3 if post else 1)
        c = self.retriever.candidates(text, index_filter(filters), depth, qv)
        if post:
            test = self.catalog.predicate(post)
            c = c.subset(np.array([test(i) for i in c.ids], dtype=bool))
        return c

    def _match(
        self,
        text: str,
        qv: np.ndarray | None,
        from_query: dict[str, dict[str, Any]],
        explicit: dict[str, dict[str, Any]],
        enough: Callable[[Candidates], bool] | None = None,
    ) -> tuple[Candidates, dict[str, Any], list[str]]:
        """Candidates under the constraints, relaxing them in order while nothing matches (``enough``:
        while none is a confident match; if relaxing everything finds none either, nothing is relaxed)."""
        relaxed: list[str] = []
        first: tuple[Candidates, dict[str, Any]] | None = None
        order = [*self.config.relax_order, *(g for g in ("in_stock",) if g not in self.config.relax_order)]
        steps = [("query", g) for g in order if g in from_query]
        steps += [("request", g) for g in order if g in explicit]
        while True:
            applied = merge([from_query, explicit])
            cands = self._candidates(text, qv, applied)
            first = first or (cands, applied)
            if enough is None and (len(cands) or not steps):
                return cands, applied, relaxed
            if enough is not None and enough(cands):
                return cands, applied, relaxed
            if not steps:
                return (*first, []) if len(first[0]) or not len(cands) else (cands, applied, relaxed)
            source, group = steps.pop(0)
            pool = from_query if source == "query" else explicit
            values = pool.pop(group)
            shown = describe(values)
            relaxed.append(
                f"no results with {LABELS.get(group, group)} {shown}"
                f"{' (from the query)' if source == 'query' else ''}: showing results without it"
            )

    def _rank(
        self,
        text: str,
        parsed: ParsedQuery | None,
        cands: Candidates,
        request: SearchRequest,
        qv: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Final order of the candidates, their scores and per-candidate score parts."""
        order = cands.order()
        scores = cands.fused.astype(np.float64).copy()
        parts: dict[str, np.ndarray] = {}
        affinity = self._affinity(request.user_id) if request.personalise else None
        ranker = self.ranker if self.ranker is not None and self.ranker.model is not None else None
        if ranker is not None and request.rerank and text.strip() and len(cands):
            top = order[: ranker.config.depth]
            sub = cands.subset(top)
            aff = self._affinity_parts(affinity, sub)
            learned, extra = ranker.score(self, text, parsed, sub, aff)
            scores = np.full(len(cands), -np.inf)
            scores[top] = learned
            low = float(learned.min()) if len(learned) else 0.0
            rest = order[len(top) :]
            scores[rest] = low - 1.0 - np.arange(len(rest)) * 1e-6  # keep fused order below the re-ranked
            for name, values in extra.items():
                parts[name] = np.zeros(len(cands))
                parts[name][top] = values
            order = np.argsort(-scores, kind="stable")
        if affinity is not None and not affinity.empty and len(cands):
            top = order[: max(self.config.ranker.depth, 10)]
            aff = self._affinity_parts(affinity, cands.subset(top)).mean(axis=1)
            sub_order, final = personalised_order(
                scores[top], aff, self.config.personal_weight, self.config.strong_match
            )
            parts["personal"] = np.zeros(len(cands))
            parts["personal"][top] = aff
            new_scores = scores.copy()
            new_scores[top] = final + (float(scores[top].max()) if len(top) else 0.0)
            order = np.concatenate([top[sub_order], order[len(top) :]])
            scores = new_scores
        return order, scores, parts

    def _affinity(self, user_id: str | None) -> UserAffinity | None:
        if user_id is None or self.profiles is None or user_id not in self.profiles.states:
            return None
        prof = self.profiles.profile(user_id)
        vec = self.profiles.interest_vector(user_id)
        return UserAffinity(
            vector=None if vec is None else np.asarray(vec, np.float32),
            brands={b.lower(): float(s) for b, s in prof.brands},
            categories={
                " > ".join(p.strip().lower() for p in c.split(">")): float(s) for c, s in prof.categories
            },
        )

    def _affinity_parts(self, affinity: UserAffinity | None, cands: Candidates) -> np.ndarray:
        if affinity is None or affinity.empty or not len(cands):
            return np.zeros((len(cands), 3), np.float32)
        vectors = self.retriever.vector_index.get_vectors(cands.ids) if affinity.vector is not None else None
        if vectors is not None and affinity.vector is not None and vectors.shape[1] != len(affinity.vector):
            vectors = None
        return affinity_parts(affinity, cands.ids, vectors, self.catalog)

    # -- autocomplete, events, catalogue changes ------------------------------------------------------
    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Completions of ``prefix`` from past queries and the catalogue vocabulary."""
        return self.suggester.suggest(prefix, k)

    def refresh_rules(self, store: Store, *, force: bool = False) -> SearchRules:
        """Re-read the shop's rules from ``store`` when the copy held is older than :attr:`rules_max_age`
        seconds (another process may have changed them); returns the rules in force."""
        now = time.monotonic()
        if force or now - self._rules_read >= self.rules_max_age:
            self.rules = load_rules(store)
            self._rules_read = now
        return self.rules

    def suggest_products(self, prefix: str, k: int = 4) -> list[dict[str, Any]]:
        """Products for search-as-you-type: the confident matches of ``prefix`` as a query (its last word
        completed to the best word suggestion when it is a partial word), as ``item_id`` / ``title`` /
        ``price`` / ``brand`` dicts."""
        text = prefix.strip()
        if not text or k <= 0:
            return []
        words = self.suggester.suggest(text, 1)
        if words and words[0].lower().startswith(text.lower()):
            text = words[0]
        resp = self.search(SearchRequest(text, k=k, personalise=False, rerank=False))
        return [
            {"item_id": h.item_id, "title": h.title, "price": h.price, "brand": h.brand} for h in resp.results
        ]

    def observe(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Feed events: ``search`` events with a ``query`` become autocomplete history; item events add to
        popularity and update the shopper's profile. Returns the number of events used.

        Each event: ``user_id``, ``type``, optional ``item_id``, ``query``, ``timestamp`` (Unix seconds
        or a datetime) and ``value``; with ``event_id`` / ``seq`` an event already applied is skipped.
        """
        n = 0
        pop: defaultdict[str, float] = defaultdict(float)
        ratings: list[tuple[str, float]] = []
        with self._lock:
            for e in events:
                if self._applied.is_applied(e):  # applied on write and handed over again by a follower
                    continue
                self._applied.mark(e)
                kind = str(e.get("type", ""))
                query = e.get("query")
                user = e.get("user_id")
                # suggestions and popularity are shared aggregates: training consent (privacy/consent.py)
                counted = self.trainable is None or user is None or self.trainable(str(user))
                if query and counted and kind in ("search", "click", "add_to_cart", "purchase"):
                    self.suggester.observe([str(query)])
                item = e.get("item_id")
                if item is not None and counted and kind in EVENT_WEIGHTS:
                    pop[str(item)] += EVENT_WEIGHTS[kind]
                if counted:  # ratings are a shared aggregate too
                    ratings += _ratings([e])
                if self.profiles is not None and user is not None and (item is not None or kind == "search"):
                    try:
                        self.profiles.apply_event(
                            str(user),
                            None if item is None else str(item),
                            kind,
                            _seconds(e.get("timestamp")),
                            value=e.get("value"),
                        )
                    except (KeyError, ValueError) as exc:  # unknown item or event type: skip, keep serving
                        log.debug("profile update skipped: %s", exc)
                n += 1
            self.catalog.add_popularity(pop)
            self.catalog.add_ratings(ratings)
        return n

    def upsert_items(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Add or replace items in both indexes, the catalogue and the query vocabulary (no restart);
        returns how many.

        The parser and autocomplete learn the new items' brands, categories and words (a new brand is
        recognised in queries and suggested at once); past queries stay in the suggester. Each call
        rebuilds the parser's spelling index (0.25-0.35 s on CrowdFlower's 9,913 items), so send
        catalogue changes in batches.
        """
        rows = [dict(r) for r in rows]
        if not rows:
            return 0
        template = self.item_template
        if template is None:
            from shelfwise.encoders import ItemTextTemplate

            template = self.item_template = ItemTextTemplate()
        ids = [str(r["item_id"]) for r in rows]
        encode = self.retriever.encoder.encode_documents
        vectors = encode([template.render(r) for r in rows])  # the slow parts, outside the lock
        titles = encode([str(r.get("title") or "") for r in rows]) if self.title_index is not None else None
        with self._lock:  # one writer at a time: two upserts must not extend the same old vocabulary
            vocabulary = self.vocabulary.extended(rows)  # first: if it fails, nothing has changed
            parser = QueryParser(vocabulary, self.parser.config).warm_up()
            suggester = Suggester.from_vocabulary(vocabulary)
            suggester.queries = self.suggester.queries
            self.catalog.upsert(rows)  # first: an index never returns an id the catalogue lacks
            self.retriever.vector_index.add(ids, vectors, rows)
            self.retriever.lexical_index.add(rows)
            if self.matcher is not None:
                self.matcher.upsert(rows)
            if self.title_index is not None:
                self.title_index.add(ids, titles)
            self.vocabulary, self.parser, self.suggester = vocabulary, parser, suggester
        return len(rows)

    def delete_items(self, item_ids: Sequence[str]) -> int:
        """Remove items from both indexes and the catalogue; returns how many were present."""
        ids = [str(i) for i in item_ids]
        with self._lock:
            self.retriever.vector_index.delete(ids)
            self.retriever.lexical_index.delete(ids)
            if self.matcher is not None:
                self.matcher.delete(ids)
            if self.title_index is not None:
                self.title_index.delete(ids)
            return self.catalog.delete(ids)

    # -- catching up with the store, forgetting a shopper ----------------------------------------------
    def catch_up(self, store: Store) -> dict[str, int]:
        """Bring the loaded pipeline up to date with ``store``.

        Catalogue changes after the built (or last caught-up) ``catalogue_seq`` reach both indexes, the
        query vocabulary, autocomplete and the catalogue through :meth:`upsert_items` / :meth:`delete_items`
        (an id gone from the store is deleted); stored events after the event cursor go through
        :meth:`observe` (popularity, autocomplete, profiles; idempotent); shoppers in the deletion log are
        forgotten. Safe to call repeatedly.

        Returns:
            ``{"event_seq", "catalogue_seq", "events_applied", "items_applied", "deletion_seq",
            "users_forgotten"}``.
        """
        return catch_up(self, store)

    def forget_user(self, user_key: str) -> dict[str, Any]:
        """Drop a shopper's personalisation state (their live profile). Autocomplete keeps only query
        counts (no user ids) and popularity only item totals, so nothing else names them.

        Returns:
            ``{"profile": bool}``: whether a live profile was dropped (part of the deletion receipt).
        """
        dropped = self.profiles.forget(user_key) if self.profiles is not None else False
        return {"profile": bool(dropped)}


def _ratings(events: Iterable[Mapping[str, Any]]) -> list[tuple[str, float]]:
    """``(item_id, value)`` of rating / review events that carry a value."""
    return [
        (str(e["item_id"]), float(e["value"]))
        for e in events
        if e.get("type") in ("rating", "review")
        and e.get("value") is not None
        and e.get("item_id") is not None
    ]


def _seconds(value: Any) -> float:
    """Unix seconds of a timestamp given as a number, a datetime or ``None`` (now)."""
    if value is None or value == "":
        return time.time()
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
