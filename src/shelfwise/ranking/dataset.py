"""Training data of the ranker: (request, candidate) rows with labels, built from a split without leakage.

The ranker learns on the **validation period** and is applied on the test period:

1. :func:`validation_view` turns a split into the data as it stood before the validation events: train =
   train, held-out targets = the validation events, and the test events are in no part at all. Sources and
   the feature state fitted on the view (``fit`` reads ``train_valid``, which is the train part here) have
   never seen a validation or test event.
2. :func:`generate_requests` asks every source for its top-k for each held-out user (history = what the
   view allows), merges them and labels a candidate 1 when it is one of the user's held-out items.
3. :func:`build_frame` computes the features of every candidate (the same :class:`FeatureSet` call as
   serving) and keeps, per request, the positives and a seeded sample of negatives.

At test time the sources and the state are refitted on the original data (train + valid) and the trained
ranker orders their candidates for the test users. The view keeps the table and therefore the dense ids,
so a model fitted on either speaks the same indices.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise.encoded.data import RecommendData
from shelfwise.encoded.interactions import RankingData
from shelfwise.encoded.splits import LeakageError, Split
from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.config import FeatureConfig
from shelfwise.ranking.events import EventBatch
from shelfwise.ranking.features import FeatureRequest, FeatureSet
from shelfwise.ranking.merge import MergedCandidates, merge_candidates
from shelfwise.ranking.sources import top_k_candidates
from shelfwise.ranking.state import FeatureState
from shelfwise.retrieval.base import CandidateSource, UserContext

__all__ = [
    "RankingFrame",
    "RequestSet",
    "build_frame",
    "contexts_for",
    "fit_state",
    "generate_requests",
    "validation_view",
]

log = logging.getLogger(__name__)


def validation_view(data: RecommendData) -> RecommendData:
    """The data as of the end of the training period: held-out targets = the validation events.

    Raises:
        LeakageError: if the parts of the view share an event, or the view uses a test event.
    """
    split = data.split
    view = Split(
        name=f"{split.name}|validation-view",
        table=split.table,
        train=split.train,
        valid=np.zeros(0, dtype=np.int64),
        test=split.valid,
        key=split.key,
        meta={**split.meta, "view_of": split.name, "test_rows_excluded": int(split.test.size)},
    )
    view.check_disjoint()
    used = np.concatenate([view.train, view.valid, view.test])
    if np.intersect1d(used, split.test).size:
        raise LeakageError(f"the validation view of {split.name!r} uses test events")
    return RecommendData(view, RankingData.from_split(view), data.items, dict(data.meta))


def fit_state(data: RecommendData, config: FeatureConfig | None = None) -> FeatureState:
    """The feature state of everything a model fitted on ``data`` may see (the train and valid parts)."""
    rows = np.sort(np.concatenate([data.split.train, data.split.valid]))
    batch = EventBatch.from_table(data.split.table, data.ranking.users, data.ranking.items, rows)
    attributes = ItemAttributes.from_table(data.items)
    return FeatureState.from_batch(batch, attributes, data.n_users, config)


def contexts_for(data: RecommendData, users: np.ndarray) -> list[UserContext]:
    """Request contexts of ``users``: history = their train + valid items in time order (the view: train)."""
    seqs = data.train_valid_sequences
    return [UserContext(user_index=int(u), history=seqs[int(u)]) for u in np.asarray(users)]


@dataclass(frozen=True, eq=False)
class RequestSet:
    """Merged candidates of many requests with their labels.

    Attributes:
        contexts: one per request.
        merged: the merged candidates of each request.
        labels: float32 per candidate (1 = a held-out item of the user).
        n_requests: requests asked, including those dropped for having no positive.
    """

    contexts: list[UserContext]
    merged: list[MergedCandidates]
    labels: list[np.ndarray]
    n_requests: int

    @property
    def recall(self) -> float:
        """Share of the asked requests whose held-out item is among the candidates."""
        hit = sum(bool(y.max(initial=0) > 0) for y in self.labels)
        return hit / max(self.n_requests, 1)


def generate_requests(
    sources: Sequence[CandidateSource],
    contexts: Sequence[UserContext],
    targets: np.ndarray,
    k: int,
    *,
    only_with_positive: bool = True,
    seed: int = 0,
    chunk: int = 2048,
) -> RequestSet:
    """Candidates of every source for every context, merged and labelled.

    Args:
        sources: fitted candidate sources (their names give the score columns, in this order).
        contexts: one per user.
        targets: ``(n,)`` held-out item per context, or ``(n, m)`` padded with ``-1``.
        k: candidates per source.
        only_with_positive: drop requests whose held-out items are not among the candidates (they carry no
            ranking signal); they still count in ``n_requests``.
        seed: seed of the sources' random tie-break.
        chunk: contexts per batch.
    """
    tgt = np.asarray(targets, dtype=np.int64)
    tgt = tgt[:, None] if tgt.ndim == 1 else tgt
    names = [s.name for s in sources]
    kept_ctx: list[UserContext] = []
    kept_merged: list[MergedCandidates] = []
    kept_labels: list[np.ndarray] = []
    for start in tqdm(range(0, len(contexts), chunk), desc="candidates", disable=len(contexts) <= chunk):
        batch = list(contexts[start : start + chunk])
        per_source = [top_k_candidates(s, batch, k, seed=seed) for s in sources]
        for r, ctx in enumerate(batch):
            merged = merge_candidates([cands[r] for cands in per_source], names)
            t = tgt[start + r]
            labels = np.isin(merged.items, t[t >= 0]).astype(np.float32)
            if only_with_positive and not labels.any():
                continue
            kept_ctx.append(ctx)
            kept_merged.append(merged)
            kept_labels.append(labels)
    return RequestSet(kept_ctx, kept_merged, kept_labels, len(contexts))


@dataclass(frozen=True, eq=False)
class RankingFrame:
    """Feature rows grouped by request (rows of one request are contiguous).

    Attributes:
        features: float32 ``(n_rows, n_features)``.
        labels: float32 ``(n_rows,)``.
        group_sizes: int32 rows per request, in order.
        users: int32 user index of each request.
        items: int32 candidate item of each row.
        feature_names: column names.
        meta: how the frame was made.
    """

    features: np.ndarray
    labels: np.ndarray
    group_sizes: np.ndarray
    users: np.ndarray
    items: np.ndarray
    feature_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def group_ids(self) -> np.ndarray:
        """int32 request number of each row."""
        return np.repeat(np.arange(self.group_sizes.size, dtype=np.int32), self.group_sizes)

    def take_groups(self, mask: np.ndarray) -> RankingFrame:
        """The requests where ``mask`` (one bool per request) is true."""
        rows = np.asarray(mask, dtype=bool)[self.group_ids]
        return RankingFrame(
            self.features[rows],
            self.labels[rows],
            self.group_sizes[mask],
            self.users[mask],
            self.items[rows],
            self.feature_names,
            dict(self.meta),
        )

    def split_by_user(self, fraction: float, seed: int = 0) -> tuple[RankingFrame, RankingFrame]:
        """``(fit, held_out)``: about ``fraction`` of the users (all their requests) held out, seeded."""
        users = np.unique(self.users)
        rng = np.random.default_rng(seed)
        held = rng.choice(users, size=max(1, round(fraction * users.size)), replace=False)
        mask = np.isin(self.users, held)
        return self.take_groups(~mask), self.take_groups(mask)


def build_frame(
    requests: RequestSet,
    features: FeatureSet,
    state: FeatureState,
    *,
    negatives_per_group: int | None = None,
    seed: int = 0,
) -> RankingFrame:
    """Features of every request's candidates, with positives and (a sample of) negatives kept.

    Features are computed on the full candidate set (per-request normalisations see every candidate, as
    when serving) before rows are sampled.
    """
    rng = np.random.default_rng(seed)
    blocks: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    items: list[np.ndarray] = []
    sizes: list[int] = []
    for ctx, merged, y in tqdm(
        zip(requests.contexts, requests.merged, requests.labels, strict=True),
        total=len(requests.merged),
        desc="features",
        disable=len(requests.merged) < 2000,
    ):
        x = features.compute(FeatureRequest(ctx, merged), state)
        keep = np.arange(len(merged))
        if negatives_per_group is not None:
            neg = np.flatnonzero(y == 0)
            if neg.size > negatives_per_group:
                neg = np.sort(rng.choice(neg, negatives_per_group, replace=False))
            keep = np.sort(np.concatenate([np.flatnonzero(y > 0), neg]))
        blocks.append(x[keep])
        labels.append(y[keep])
        items.append(merged.items[keep])
        sizes.append(keep.size)
    n_feat = len(features.names)
    return RankingFrame(
        np.concatenate(blocks) if blocks else np.zeros((0, n_feat), np.float32),
        np.concatenate(labels) if labels else np.zeros(0, np.float32),
        np.asarray(sizes, dtype=np.int32),
        np.asarray([c.user_index for c in requests.contexts], dtype=np.int32),
        np.concatenate(items) if items else np.zeros(0, np.int32),
        features.names,
        {
            "requests": requests.n_requests,
            "groups": len(sizes),
            "candidate_recall": requests.recall,
            "negatives_per_group": negatives_per_group,
        },
    )
