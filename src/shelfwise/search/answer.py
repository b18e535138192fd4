"""The last stage of a search: judge the ranked candidates, sort, page, facet and explain them.

The confident matches (:mod:`~shelfwise.search.relevance`) come first and are the only ones counted in
``total``; a page is cut from *confident + weaker*, and the weaker part of it is returned as
``more_results`` (its own heading), so paging walks past the last confident match into the weaker ones
without mixing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from shelfwise.search.evidence import QueryEvidence
from shelfwise.search.facets import facet_counts
from shelfwise.search.query import ParsedQuery
from shelfwise.search.reasons import build_hit
from shelfwise.search.relevance import Calibration, judge
from shelfwise.search.retrieve import Candidates
from shelfwise.search.sorting import sort_ids
from shelfwise.search.types import SearchRequest, SearchResponse

if TYPE_CHECKING:
    from shelfwise.search.pipeline import SearchPipeline


def hard_filters_from_query(parsed: ParsedQuery | None) -> dict[str, Any]:
    """The readings of the query that *may* become filters: an explicit price limit ("under $10"), and the
    brand / category / colour / size readings (filters only when ``query_filters`` names them). A price
    band ("cheap") is never a filter."""
    if parsed is None:
        return {}
    out = {k: v for k, v in parsed.filters().items() if k not in ("price_band", "price_min", "price_max")}
    if parsed.price_min is not None:
        out["price_min"] = parsed.price_min
    if parsed.price_max is not None:
        out["price_max"] = parsed.price_max
    if parsed.price_min is None and parsed.price_max is None:
        out.pop("currency", None)
    return out


def answer(
    pipe: SearchPipeline,
    request: SearchRequest,
    parsed: ParsedQuery | None,
    evidence: QueryEvidence | None,
    ranked: tuple[Candidates, np.ndarray, np.ndarray, dict[str, np.ndarray]],
    applied: Mapping[str, Any],
    relaxed: list[str],
    timings: dict[str, float],
    redirect: str | None = None,
) -> SearchResponse:
    """The response for ``request`` from its ranked candidates ``(cands, order, scores, parts)``."""
    import time

    cands, order, scores, parts = ranked
    cfg = pipe.config
    t = time.perf_counter()
    judged = None
    if evidence is not None and len(cands) and evidence.concepts:
        judged = judge(
            evidence, pipe.catalog, cands, order, Calibration(*cfg.calibration), cfg.relevance_floor
        )
        positions, n_conf = judged.order, judged.confident
        parts = {**parts, "relevance": judged.relevance, "coverage": judged.coverage}
    else:
        positions, n_conf = order, len(cands)
    confident = [int(p) for p in positions[:n_conf]]
    weaker = [int(p) for p in positions[n_conf:]]
    if request.sort != "relevance":
        at = {cands.ids[p]: p for p in confident}
        confident = [at[i] for i in sort_ids([cands.ids[p] for p in confident], pipe.catalog, request.sort)]
    timings["judge"] = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    facet_ids = [cands.ids[p] for p in confident] or cands.ids
    facets = facet_counts(pipe.catalog, facet_ids, cfg.facet_limit, cfg.price_buckets)
    timings["facets"] = (time.perf_counter() - t) * 1e3
    window = (confident + weaker)[request.offset : request.offset + request.k]

    def hit(p: int, is_confident: bool) -> Any:
        return build_hit(
            pipe.catalog,
            p,
            float(judged.key[p] if judged is not None else scores[p]),
            cands,
            parts,
            evidence,
            applied,
            matched=judged.matched[p] if judged else None,
            met=judged.met[p] if judged else None,
            confident=is_confident,
        )

    n_page = max(0, min(len(confident) - request.offset, request.k))
    out = parsed.to_dict() if parsed else {}
    if parsed is not None:
        out["constraints"] = [c.to_dict() for c in evidence.constraints] if evidence else []
    return SearchResponse(
        results=[hit(p, True) for p in window[:n_page]],
        parsed=out,
        facets=facets,
        relaxed=relaxed,
        total=n_conf,
        applied_filters=dict(applied),
        timings_ms={k: round(v, 3) for k, v in timings.items()},
        more_results=[hit(p, False) for p in window[n_page:]],
        more_total=len(weaker),
        did_you_mean=parsed.corrected if parsed is not None and parsed.corrections else None,
        redirect=redirect,
        offset=request.offset,
        sort=request.sort,
    )
