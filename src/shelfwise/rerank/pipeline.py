"""The re-ranking pipeline: session filter -> business rules -> diversity method (under caps) -> exploration.

One :class:`RerankPipeline` per configuration; ``rerank(candidates)`` is a pure function of the
candidates, the configuration and the request seed. Steps:

1. Relevance is scaled to ``[0, 1]`` over the candidates (:func:`scale_relevance`: min-max of the scores,
   ``rank ** -power`` or ``exp((s - max) / T)``). Items already shown in the session (and, with
   ``exclude_history``, history items) are removed.
2. Rules (:mod:`.rules`): exclude, boost, bury, pin.
3. Slots: pinned positions are fixed; exploration positions are reserved; the diversity method fills
   the rest greedily under the caps / quotas, with pins counted as already selected. With
   ``order="relevance"`` the items it chose fill those positions most relevant first (the set is the
   method's, the order relevance's: set metrics such as ILD, coverage and calibration are unchanged,
   and the most likely items are shown first).
4. Exploration (:mod:`.exploration`) fills its slots; a slot nobody qualifies for goes to the next
   diversity pick.
5. With ``explain=True``, every result gets a breakdown and a reason (:mod:`.explain`). "Variety" is
   judged against the same pipeline with ``method="none"`` (same rules, caps, pins and slots): an item
   the diversity method placed that this relevance list would not contain is "added for variety";
   one it moved is recorded as "moved from relevance position X to Y for variety".

Exposure across shoppers (method ``coverage``, or ``coverage > 0`` with another method) is read from an
:class:`~shelfwise.rerank.exposure.ExposureCounter` given to the pipeline or to the call; the caller
records what it served (:func:`~shelfwise.rerank.batch.rerank_top_items` does, for offline batches).

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank.base import CandidateList, ItemCatalog
    >>> emb = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    >>> cands = CandidateList(np.array([0, 1, 2]), np.array([3.0, 2.9, 1.0]), ItemCatalog(embeddings=emb))
    >>> RerankPipeline(RerankConfig(method="mmr", diversity=0.5, k=2)).rerank(cands).indices().tolist()
    [0, 2]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shelfwise.rerank.base import CandidateList, RankedItem, RankedList, RemovedItem, Reranker
from shelfwise.rerank.config import RerankConfig
from shelfwise.rerank.explain import claims_for, render
from shelfwise.rerank.exploration import ExplorationPick, Explorer
from shelfwise.rerank.exposure import ExposureCounter
from shelfwise.rerank.fair import BrandLedger, fair_problem
from shelfwise.rerank.greedy import RelevanceOrder, Selection, SelectionProblem
from shelfwise.rerank.quotas import SlotConstraints
from shelfwise.rerank.registry import build_diversifier
from shelfwise.rerank.rules import RuleOutcome, apply_rules

__all__ = ["RerankPipeline", "normalise_scores", "scale_relevance"]

log = logging.getLogger(__name__)


def normalise_scores(scores: np.ndarray) -> np.ndarray:
    """Min-max normalise to ``[0, 1]`` (float64); a constant list maps to all ones."""
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return s
    lo, hi = s.min(), s.max()
    return (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)


def scale_relevance(scores: np.ndarray, config: RerankConfig) -> np.ndarray:
    """Relevance in ``[0, 1]`` (float64) as ``config.relevance`` says.

    ``minmax``: :func:`normalise_scores`. ``rank``: ``r ** -config.relevance_power`` with ``r`` the 1-based
    rank by score (tied scores share the best rank), so the top item is 1 and the tail is near 0 whatever
    the scores' scale. ``softmax``: ``exp((s - max s) / config.relevance_temperature)``: with log-odds
    scores (a learned ranker's), each candidate's probability relative to the best one, per request.

    Example:
        >>> scale_relevance(np.array([0.3, 0.9, 0.3]), RerankConfig(relevance="rank")).tolist()
        [0.5, 1.0, 0.5]
    """
    if config.relevance == "minmax":
        return normalise_scores(scores)
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return s
    if config.relevance == "softmax":
        return np.asarray(np.exp((s - s.max()) / config.relevance_temperature), dtype=np.float64)
    desc = np.sort(-s)
    rank = np.searchsorted(desc, -s, side="left") + 1.0
    return np.asarray(rank**-config.relevance_power, dtype=np.float64)


@dataclass
class _Plan:
    """Where each list position's item came from (candidate positions into the working arrays)."""

    slots: dict[int, tuple[int, str]]  # position -> (candidate, "pin" | "exploration" | "fill")
    explored: dict[int, ExplorationPick]  # candidate -> its exploration pick
    selection: Selection


class RerankPipeline(Reranker):
    """Rules -> diversity -> exploration, configured by one :class:`RerankConfig`.

    Args:
        config: the configuration (default: no re-ranking, 10 items).
    """

    name = "rerank"

    def __init__(
        self, config: RerankConfig | None = None, exposure: ExposureCounter | BrandLedger | None = None
    ) -> None:
        self.config = config or RerankConfig()
        self.exposure = exposure

    def rerank(
        self,
        candidates: CandidateList,
        k: int | None = None,
        *,
        explain: bool = True,
        config: RerankConfig | None = None,
        exposure: ExposureCounter | BrandLedger | None = None,
    ) -> RankedList:
        """Re-rank one candidate list.

        Args:
            candidates: the ranker's output for one request.
            k: list length (default ``config.k``).
            explain: build reasons and breakdowns (``False``: only items, scores and positions).
            config: a per-request configuration (e.g. ``self.config.with_knob(diversity=0.5)``).
            exposure: exposure counts across shoppers (default: the pipeline's own, if any).

        Returns:
            The final list with its provenance.
        """
        cfg = config or self.config
        k = int(k or cfg.k)
        cat, user = candidates.catalog, candidates.user
        rel = scale_relevance(candidates.scores, cfg)
        keep = np.ones(len(candidates), dtype=bool)
        removed: list[RemovedItem] = []
        blocked: list[np.ndarray] = []
        for stage, drop, why in (
            ("session", user.session_shown, "already shown in this session"),
            ("history", user.history if cfg.exclude_history else None, "in the shopper's history"),
        ):
            if drop is not None and drop.size:
                blocked.append(drop)
                hit = np.isin(candidates.items, drop) & keep
                keep &= ~hit
                removed += [RemovedItem(int(i), stage, why) for i in candidates.items[hit]]
        if cfg.rules:
            never = np.concatenate(blocked) if blocked else None
            ro = apply_rules(cfg.rules, candidates.items, rel, keep, cat, k, blocked=never)
        else:
            ro = RuleOutcome(items=candidates.items, relevance=rel, keep=keep)
        removed += ro.removed
        items = ro.items
        needs_mix = cfg.method in ("calibrated", "xquad") or cfg.exploration.slots > 0
        mix = user.mix(cat) if needs_mix else None
        vectors = None
        if cfg.method in ("mmr", "dpp") and cat.embeddings is not None:
            vectors = cat.embeddings[items]
        problem = SelectionProblem(
            relevance=ro.relevance.astype(np.float32),
            vectors=vectors,
            categories=cat.category_of(items),
            user_mix=mix,
            calibration_alpha=cfg.calibration_alpha,
            dpp_epsilon=cfg.dpp_epsilon,
            mmr_redundancy=cfg.mmr_redundancy,
            **self._exposure_terms(cfg, exposure or self.exposure, items),
        )
        if cfg.method == "fair_exposure":  # brand exposure vs merit across requests (shelfwise.rerank.fair)
            problem = fair_problem(
                problem,
                cfg.fairness,
                exposure or self.exposure,
                items,
                cat,
                k,
                cfg.fairness_merit,
                cfg.fairness_tail,
            )
        diversifier = build_diversifier(cfg.method, cfg.diversity)
        plan = self._plan(cfg, diversifier, problem, ro, candidates, k, mix)
        notes = [*ro.notes, *plan.selection.notes]
        order = sorted(plan.slots)
        if len(order) < k:
            notes.append(f"only {len(order)} of {k} slots could be filled")
        if not explain:
            ranked = tuple(
                RankedItem(int(items[j]), float(ro.relevance[j]), pos)
                for pos, (j, _) in enumerate((plan.slots[p] for p in order), start=1)
            )
        else:
            baseline = (
                plan
                if cfg.method == "none"
                else self._plan(
                    cfg,
                    RelevanceOrder(),
                    replace(problem, exposure_weight=0.0),
                    ro,
                    candidates,
                    k,
                    mix,
                    explored=plan.explored,
                )
            )
            ranked = self._explain(candidates, ro, problem, plan, baseline, cfg)
            removed += self._skipped_by_caps(cfg, ro, baseline, k)
        return RankedList(
            items=ranked,
            method=cfg.method,
            diversity=cfg.diversity,
            trade_off=cfg.trade_off(),
            removed=tuple(removed),
            notes=tuple(notes),
            config=cfg.model_dump(),
        )

    @staticmethod
    def uses_exposure(cfg: RerankConfig) -> bool:
        """Whether ``cfg`` reads exposure counts (method ``coverage``, or a ``coverage`` weight), with the
        knob above 0."""
        if cfg.method == "fair_exposure":
            return cfg.fairness > 0 or cfg.fairness_tail > 0
        uses = cfg.method == "coverage" or (cfg.method != "none" and cfg.coverage > 0)
        return uses and cfg.diversity > 0

    @staticmethod
    def _exposure_terms(
        cfg: RerankConfig, counter: ExposureCounter | BrandLedger | None, items: np.ndarray
    ) -> dict[str, Any]:
        """The exposure fields of the selection problem (none unless a method uses them)."""
        if not isinstance(counter, ExposureCounter) or not RerankPipeline.uses_exposure(cfg):
            return {}
        weight = 0.0 if cfg.method == "coverage" else cfg.diversity * cfg.coverage
        return {"exposure_bonus": counter.bonus(items), "exposure_weight": weight}

    # ------------------------------------------------------------------ slot planning

    def _constraints(
        self,
        cfg: RerankConfig,
        problem: SelectionProblem,
        candidates: CandidateList,
        ro: RuleOutcome,
        slots: int,
    ) -> SlotConstraints | None:
        if not cfg.caps.active():
            return None
        cat, items = candidates.catalog, ro.items
        groups: dict[str, np.ndarray] = {"category": np.asarray(problem.categories)}
        if cat.brands is not None:
            groups["brand"] = cat.brands[items]
        if cat.sellers is not None:
            groups["seller"] = cat.sellers[items]
        caps = {
            "category": cfg.caps.max_per_category,
            "brand": cfg.caps.max_per_brand,
            "seller": cfg.caps.max_per_seller,
        }
        cons = SlotConstraints(groups, caps, cfg.caps.min_per_category, slots=slots)
        for j in ro.pins:
            cons.take(j, forced=True)
        return cons

    def _plan(
        self,
        cfg: RerankConfig,
        diversifier: Any,
        problem: SelectionProblem,
        ro: RuleOutcome,
        candidates: CandidateList,
        k: int,
        mix: np.ndarray | None,
        explored: dict[int, ExplorationPick] | None = None,
    ) -> _Plan:
        """Fill ``k`` positions: pins, then diversity picks, then exploration (or the given picks)."""
        pinned = {pos: j for j, pos in ro.pins.items()}
        explorer = Explorer(cfg.exploration)
        explore_pos = explorer.positions(k, set(pinned))
        n_free = k - len(pinned)
        n_main = max(n_free - len(explore_pos), 0)
        cons = self._constraints(cfg, problem, candidates, ro, n_main)
        available = ro.keep.copy()
        sel = diversifier.select(
            problem, n_free, preselected=list(ro.pins), constraint=cons, available=available
        )
        main = [int(j) for j in sel.order[:n_main]]
        in_list = np.zeros(ro.items.size, dtype=bool)
        in_list[list(ro.pins)] = True
        in_list[main] = True
        check = self._constraints(cfg, problem, candidates, ro, n_main)
        for j in main:
            if check is not None:
                check.take(j)
        picks: dict[int, ExplorationPick] = {}
        if explored is not None:  # the baseline keeps the real list's exploration picks
            for j, given in explored.items():
                picks[j] = given
                if not in_list[j] and check is not None:
                    check.take(j)
                in_list[j] = True
        elif explore_pos:
            in_history = np.isin(ro.items, candidates.user.history)
            eligible, share = explorer.eligible(np.asarray(problem.categories), mix, in_history)
            eligible &= ro.keep
            rng = explorer.rng(candidates.user.seed)
            for pos in explore_pos:
                pool = eligible & ~in_list
                if check is not None:
                    pool &= check.allowed(in_list)
                pick = explorer.draw(problem.relevance, pool, share, pos, rng, known_mix=mix is not None)
                if pick is None:
                    continue
                picks[pick.candidate] = pick
                in_list[pick.candidate] = True
                if check is not None:
                    check.take(pick.candidate)
        slots: dict[int, tuple[int, str]] = {pos: (j, "pin") for pos, j in pinned.items()}
        slots.update({p.position: (j, "exploration") for j, p in picks.items()})
        fill = [j for j in main if j not in picks]
        for j in (int(j) for j in sel.order[n_main:]):
            if not in_list[j] and (check is None or check.can_take(j)):
                fill.append(j)
                in_list[j] = True
                if check is not None:
                    check.take(j)
        free_positions = [p for p in range(1, k + 1) if p not in slots]
        fill = fill[: len(free_positions)]
        if cfg.order == "relevance":  # the diversified set, shown most relevant first
            fill.sort(key=lambda j: -float(ro.relevance[j]))
        for pos, j in zip(free_positions, fill, strict=False):
            slots[pos] = (j, "fill")
        compact = {new: slots[old] for new, old in enumerate(sorted(slots), start=1)}
        return _Plan(slots=compact, explored=picks, selection=sel)

    # ------------------------------------------------------------------ explanations

    def _explain(
        self,
        candidates: CandidateList,
        ro: RuleOutcome,
        problem: SelectionProblem,
        plan: _Plan,
        baseline: _Plan,
        cfg: RerankConfig,
    ) -> tuple[RankedItem, ...]:
        cat, user = candidates.catalog, candidates.user
        items = ro.items
        history = frozenset(int(i) for i in user.history)
        base_pos = {j: pos for pos, (j, _) in baseline.slots.items()}
        order_of = {int(j): t for t, j in enumerate(plan.selection.order)}
        rank = np.empty(items.size, dtype=np.int64)
        eligible = np.flatnonzero(ro.keep)
        rank[eligible[np.argsort(-ro.relevance[eligible], kind="stable")]] = np.arange(1, eligible.size + 1)
        filter_hits = [(f.label, f.matches(cat, items)) for f in user.filters]
        n_orig = len(candidates)
        norm = np.append(scale_relevance(candidates.scores, cfg), np.zeros(items.size - n_orig))
        out: list[RankedItem] = []
        for pos in sorted(plan.slots):
            j, how = plan.slots[pos]
            bd: dict[str, Any] = {
                "sources": self._sources(candidates, j, n_orig),
                "score_parts": {
                    "relevance": float(candidates.scores[j]) if j < n_orig else None,
                    "normalised": float(norm[j]),
                    "rules": float(ro.relevance[j] - norm[j]),
                    "adjusted": float(ro.relevance[j]),
                },
                "rules": list(ro.effects[j]) if ro.effects else [],
                "relevance_rank": int(rank[j]),
                "relevance_position": base_pos.get(j),
                "filters_matched": [label for label, hit in filter_hits if hit[j]],
            }
            if how == "pin":
                bd["placed_by"] = "pin"
            elif how == "exploration":
                pick = plan.explored[j]
                bd["placed_by"] = "exploration"
                bd["exploration"] = pick.to_dict()
            else:
                t = order_of.get(j)
                if t is not None and t < len(plan.selection.terms):
                    bd["score_parts"].update(
                        {f"{plan.selection.method}_{key}": v for key, v in plan.selection.terms[t].items()}
                    )
                before = base_pos.get(j)
                if before == pos:
                    bd["placed_by"] = "relevance"
                else:
                    bd["placed_by"] = "diversity"
                    bd["added_for_variety"] = before is None
                    bd["diversity"] = {
                        "method": plan.selection.method,
                        "from": before,
                        "to": pos,
                        "note": (
                            f"added for variety at position {pos} (not in the relevance list)"
                            if before is None
                            else f"moved from relevance position {before} to {pos} for variety"
                        ),
                    }
            claims = claims_for(bd, history, user.query)
            bd["claims"] = claims
            reason = render(claims, cat.item_name)
            out.append(RankedItem(int(items[j]), float(ro.relevance[j]), pos, reason, bd))
        return tuple(out)

    @staticmethod
    def _sources(candidates: CandidateList, j: int, n_orig: int) -> list[dict[str, Any]]:
        if j >= n_orig:
            return [{"name": "rule:pin", "kind": "rule", "score": 0.0}]
        if candidates.sources is None:
            return []
        return [s.to_dict() for s in candidates.sources[j]]

    @staticmethod
    def _skipped_by_caps(cfg: RerankConfig, ro: RuleOutcome, baseline: _Plan, k: int) -> list[RemovedItem]:
        """Items relevance order would have listed but the caps kept out."""
        if not cfg.caps.active():
            return []
        listed = {j for j, _ in baseline.slots.values()}
        mask = ro.keep.copy()
        mask[[*baseline.explored, *ro.pins]] = False
        eligible = np.flatnonzero(mask)
        n_fill = max(k - len(ro.pins) - len(baseline.explored), 0)
        top = eligible[np.argsort(-ro.relevance[eligible], kind="stable")][:n_fill]
        return [
            RemovedItem(int(ro.items[j]), "caps", "skipped: a cap or quota was reached")
            for j in top
            if int(j) not in listed
        ]
