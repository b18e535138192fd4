"""Training the search re-ranker from graded judgements: candidates, cross-fitted cross-encoders, LightGBM.

For each training query the rows are its judged items plus its best ``train_negatives`` unjudged hybrid
candidates (gain 0, as the retrieval protocol counts them); with ``judged_groups`` (default) the judged items
also form a second group of their own, so the graded order among judged items is learned without the
unjudged rows, which are only presumed irrelevant (on CrowdFlower: re-ranking NDCG@10 0.891 -> 0.896, see
``benchmarks/results/evaluate_crowdflower_search_shelfwise.md``). With a cross-encoder, the training queries are
dealt into ``cross_fit_folds`` parts; one cross-encoder is fine-tuned per part on the *other* parts and
scores that part's rows, so LightGBM learns from cross-encoder scores of pairs the cross-encoder never
saw (as at request time). The part models are kept and averaged at request time.

Example:
    >>> ranker = train_ranker(pipe, {"red shoe": {"sku-1": 3.0, "sku-2": 0.0}})  # doctest: +SKIP
    >>> pipe.ranker = ranker  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise.search.config import CrossEncoderConfig, RankerConfig
from shelfwise.search.ranker import SearchRanker
from shelfwise.search.retrieve import Candidates, LinearFusion

log = logging.getLogger(__name__)

#: Gains of the judgements run 0..MAX_GAIN (CrowdFlower: relevance 1..4 -> 0..3).
MAX_GAIN = 3.0


def candidates_for(pipe: Any, text: str, item_ids: Sequence[str] | None = None, extra: int = 0) -> Candidates:
    """Retrieval evidence of ``item_ids`` for ``text`` (plus the ``extra`` best other candidates).

    Items outside both retrieval lists get lexical score 0 and an absent rank; their dense cosine comes
    from the stored vectors. ``item_ids=None`` returns the fused candidate list itself.
    """
    run = pipe.retriever.candidates(text)
    if item_ids is None:
        return run
    wanted = list(dict.fromkeys(str(i) for i in item_ids if str(i) in pipe.catalog))
    if extra:
        seen = set(wanted)
        wanted += [run.ids[i] for i in run.order() if run.ids[i] not in seen][:extra]
    pos = {i: n for n, i in enumerate(run.ids)}
    depth = pipe.retriever.depth
    lexical = np.zeros(len(wanted), np.float32)
    lex_rank = np.zeros(len(wanted), np.int64)
    dense_rank = np.zeros(len(wanted), np.int64)
    for n, item in enumerate(wanted):
        if (p := pos.get(item)) is not None:
            lexical[n] = run.lexical[p]
            lex_rank[n] = run.lexical_rank[p] if run.lexical_rank[p] <= depth else 0
            dense_rank[n] = run.dense_rank[p] if run.dense_rank[p] <= depth else 0
    qv = pipe.retriever.encode([text])[0]
    dense = pipe.retriever.vector_index.get_vectors(wanted) @ qv if wanted else np.zeros(0, np.float32)
    out = Candidates.build(
        wanted, lexical, lex_rank, dense, dense_rank, depth=depth, rrf_k=pipe.retriever.rrf_k
    )
    if pipe.retriever.fusion is not None:
        out.fused = pipe.retriever.fusion.score(out)
    return out


def _ce_pairs(
    pipe: Any,
    texts: Sequence[str],
    groups: Sequence[tuple[Candidates, np.ndarray]],
    negatives: int,
    max_judged: int | None = None,
    seed: int = 0,
) -> list[tuple[str, str, float]]:
    """(query, title, gain / MAX_GAIN): the judged rows (at most ``max_judged`` per query, sampled) plus
    the best ``negatives`` unjudged rows."""
    rng = np.random.default_rng(seed)
    pairs = []
    for text, (cands, gains) in zip(texts, groups, strict=True):
        judged = np.isfinite(gains)
        neg = [i for i in cands.order() if not judged[i]][:negatives]
        pos = np.flatnonzero(judged)
        if max_judged is not None and len(pos) > max_judged:
            pos = np.sort(rng.choice(pos, max_judged, replace=False))
        for i in [*pos, *neg]:
            g = gains[i] if judged[i] else 0.0
            pairs.append((text, pipe.catalog.title(cands.ids[i]), float(np.clip(g / MAX_GAIN, 0.0, 1.0))))
    return pairs


def train_ranker(
    pipe: Any,
    judged: Mapping[str, Mapping[str, float]],
    config: RankerConfig | None = None,
    ce_config: CrossEncoderConfig | None = None,
    *,
    use_cross_encoder: bool = True,
) -> SearchRanker:
    """Fit a :class:`SearchRanker` for ``pipe`` on ``{query: {item_id: gain}}`` judgements.

    Args:
        pipe: the search pipeline (its retriever, catalogue and text matcher).
        judged: graded judgements of the training queries (gain 0..3).
        config: ranker settings (default: the pipeline's).
        ce_config: cross-encoder settings (default: the pipeline's).
        use_cross_encoder: fine-tune cross-encoders (else LightGBM over the cheap features only).
    """
    config = config or pipe.config.ranker
    ce_config = ce_config or pipe.config.cross_encoder
    t0 = time.perf_counter()
    queries = sorted(judged)
    texts = [pipe.retrieval_text(q, pipe.parse(q)) for q in queries]
    groups: list[tuple[Candidates, np.ndarray]] = []
    for q, text in tqdm(list(zip(queries, texts, strict=True)), desc="ranker candidates", mininterval=5):
        cands = candidates_for(pipe, text, list(judged[q]), extra=config.train_negatives)
        gains = np.array([judged[q].get(i, np.nan) for i in cands.ids], np.float64)
        groups.append((cands, gains))
    fusion_weights = None
    if pipe.config.fusion == "linear":
        fusion = LinearFusion(rrf_k=pipe.retriever.rrf_k).fit(
            [(c, np.nan_to_num(g, nan=0.0)) for c, g in groups]
        )
        pipe.retriever.fusion = fusion
        for cands, _ in groups:
            cands.fused = fusion.score(cands)
        fusion_weights = fusion.weights.tolist()
    if not config.enabled:
        return SearchRanker(config, ce_config, fusion_weights=fusion_weights)
    ces: list[Any] = []
    ce_scores: list[np.ndarray | None] = [None] * len(groups)
    scorer = SearchRanker(config, ce_config)
    if use_cross_encoder and ce_config.enabled:
        from shelfwise.search.cross_encoder import CrossEncoder

        k = max(2, config.cross_fit_folds)
        part = np.random.default_rng(config.seed).permutation(len(groups)) % k
        for p in range(k):
            train_idx = np.flatnonzero(part != p)
            pairs = _ce_pairs(
                pipe,
                [texts[i] for i in train_idx],
                [groups[i] for i in train_idx],
                ce_config.negatives_per_query,
                ce_config.max_judged_per_query,
                ce_config.seed + p,
            )
            log.info("cross-encoder %d/%d: %d training pairs", p + 1, k, len(pairs))
            ce = CrossEncoder.pretrained(ce_config).fit(pairs)
            if ce_config.quantize:
                ce.quantize()
            for i in tqdm(np.flatnonzero(part == p), desc=f"cross-encoder {p + 1} scores", mininterval=5):
                cands, gains = groups[i]  # as served: the top `depth` by fused score, plus every judged row
                top = np.zeros(len(cands), bool)
                top[cands.order()[: ce_config.depth]] = True
                rows = np.flatnonzero(top | np.isfinite(gains))
                ce_scores[i] = scorer.cross_scores(pipe, texts[i], cands, [ce], positions=rows)
            ces.append(ce)
    train_rows: list[tuple[np.ndarray, np.ndarray]] = []
    owners: list[str] = []
    for i, (cands, gains) in enumerate(groups):
        parsed = pipe.parse(queries[i])
        x = scorer.features(
            pipe, texts[i], parsed, cands, np.zeros((len(cands), 3), np.float32), ce_scores[i]
        )
        train_rows.append((x, np.nan_to_num(gains, nan=0.0)))
        owners.append(queries[i])
        judged_rows = np.isfinite(gains)
        if config.judged_groups and 1 < judged_rows.sum() < len(gains):
            train_rows.append(
                (x[judged_rows], gains[judged_rows])
            )  # the graded order among judged items alone
            owners.append(queries[i])
    ranker = SearchRanker(config, ce_config, cross_encoders=ces).fit(train_rows, owners)
    log.info(
        "search ranker: %d queries, %d rows, %d cross-encoders, %.0fs; top features %s",
        len(queries),
        sum(len(r[0]) for r in train_rows),
        len(ces),
        time.perf_counter() - t0,
        list(ranker.importance())[:6],
    )
    return ranker


def train_search_ranker(
    store: Any, settings: Any, *, use_cross_encoder: bool | None = None
) -> dict[str, Any]:
    """Train the re-ranker on every judgement in ``store`` and save it as the ``search-ranker`` artifact.

    Needs ``shelfwise build`` first (the pipeline it re-ranks for). Returns a JSON-ready report.

    Raises:
        ValueError: the store has no search judgements.
    """
    from shelfwise.encoded.judgements import merged_judgements
    from shelfwise.search.pipeline import SEARCH_RANKER, SearchPipeline

    t0 = time.perf_counter()
    table = merged_judgements(store)
    judged: dict[str, dict[str, float]] = {}
    for q, i, g in zip(*(table.column(c).to_pylist() for c in ("query", "item_id", "gain")), strict=True):
        judged.setdefault(q, {})[str(i)] = float(g)
    pipe = SearchPipeline.load(store, settings)
    if pipe.matcher is None:
        from shelfwise.build import _encoder_settings
        from shelfwise.encoders import build_encoder

        rows = store.read_items(["item_id", "title", "description"]).to_pylist()
        pipe.build_matcher(rows, settings, encoder=build_encoder(_encoder_settings(settings, store)))
    cfg = settings.search.pipeline
    use_ce = cfg.cross_encoder.enabled if use_cross_encoder is None else use_cross_encoder
    ce_config = cfg.cross_encoder.model_copy(update={"enabled": use_ce})
    ranker = train_ranker(pipe, judged, ce_config=ce_config, use_cross_encoder=use_ce)
    with store.artifacts.writer(
        SEARCH_RANKER, config=cfg.model_dump(mode="json"), queries=len(judged), judgements=table.num_rows
    ) as d:
        ranker.save(d)
    return {
        "artifact": SEARCH_RANKER,
        "queries": len(judged),
        "judgements": table.num_rows,
        "cross_encoders": len(ranker.cross_encoders),
        "top_features": list(ranker.importance())[:8],
        "seconds": round(time.perf_counter() - t0, 1),
    }
