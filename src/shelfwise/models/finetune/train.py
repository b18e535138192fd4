"""Contrastive LoRA training of the shared text tower on (history text -> next item text) pairs.

Each step encodes a batch of history texts (query side) and the distinct items of the batch — every
pair's target plus, per pair, its ``history_negatives`` most recent history items — (document side),
both through the same tower, and minimises the softmax cross-entropy of each history against the
batch's items at temperature ``temperature``: the other pairs' targets are in-batch negatives, and the
history items teach the model whether this shop's shoppers re-buy. Items are deduplicated, so an item
never appears as its own negative.

Early stopping: validation NDCG@10 of the held-out last items (ranked among a fixed seeded pool of
``valid_pool`` items, the targets and the validation users' history items) at step 0 — the frozen encoder, since LoRA's ``B`` starts at zero —
and every ``eval_every`` steps; the best adapters are restored at the end, so training never returns a
model worse than the frozen one on validation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shelfwise._optional import require
from shelfwise.models.finetune.data import Pair, PairSampler
from shelfwise.models.finetune.text import HistoryRenderer
from shelfwise.models.finetune.tower import TextTower

__all__ = ["TrainReport", "train_tower", "validation_ndcg"]

log = logging.getLogger(__name__)


@dataclass
class TrainReport:
    """What training did (JSON-ready through :meth:`as_dict`).

    Attributes:
        steps: optimiser steps taken.
        pairs: training pairs seen.
        train_users: users training pairs were drawn from.
        seconds: wall time of training, validation included.
        valid_seconds: wall time of the validation evaluations.
        best_step: step of the restored adapters (0 = the frozen encoder).
        best_valid: validation NDCG@10 of the restored adapters.
        valid: ``[{"step", "ndcg@10", "loss"}]`` per evaluation.
        stopped: why training ended (``"epochs"``, ``"max_steps"``, ``"time"``, ``"patience"``).
    """

    steps: int = 0
    pairs: int = 0
    train_users: int = 0
    seconds: float = 0.0
    valid_seconds: float = 0.0
    best_step: int = 0
    best_valid: float = 0.0
    valid: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "epochs"

    def as_dict(self) -> dict[str, Any]:
        """The report as a dict."""
        return asdict(self)


def _ndcg_at_10(ranks: np.ndarray) -> float:
    hit = ranks < 10
    return float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if ranks.size else 0.0


def validation_ndcg(
    tower: TextTower,
    renderer: HistoryRenderer,
    documents: list[str],
    sampler: PairSampler,
    pool: np.ndarray,
) -> float:
    """NDCG@10 of the held-out pairs, each target ranked among ``pool``, all targets and the validation
    users' history items (ties count against the target).

    History items are in: under the default protocol (history rankable) they compete with the target, and
    a text tower is drawn to them (a history text is most similar to its own items).
    """
    if not sampler.valid:
        return 0.0
    cfg = tower.config
    targets = np.array([t for _, _, t in sampler.valid], dtype=np.int64)
    histories = [sampler.history(p) for p in sampler.valid]
    items = np.union1d(np.union1d(pool, targets), np.concatenate(histories))
    users = tower.encode(renderer.render_many(histories), cfg.user_max_tokens)
    vectors = tower.encode([documents[i] for i in items], cfg.item_max_tokens)
    scores = users @ vectors.T
    own = scores[np.arange(targets.size), np.searchsorted(items, targets)]
    ranks = (scores >= own[:, None]).sum(axis=1) - 1
    return _ndcg_at_10(ranks)


def _batch_loss(
    tower: TextTower, renderer: HistoryRenderer, documents: list[str], sampler: PairSampler, batch: list[Pair]
) -> Any:
    torch = require("torch", "finetune")
    cfg = tower.config
    histories = [sampler.history(p) for p in batch]
    cols = [t for _, _, t in batch]
    for h in histories:
        cols.extend(renderer.recent(h)[: cfg.history_negatives])
    items = np.unique(np.asarray(cols, dtype=np.int64))
    labels = torch.from_numpy(np.searchsorted(items, [t for _, _, t in batch]))
    users = tower.forward(renderer.render_many(histories), cfg.user_max_tokens)
    vectors = tower.forward([documents[i] for i in items], cfg.item_max_tokens)
    logits = users @ vectors.T / cfg.temperature
    return torch.nn.functional.cross_entropy(logits, labels)


def train_tower(
    tower: TextTower,
    sequences: list[np.ndarray],
    documents: list[str],
    renderer: HistoryRenderer,
    *,
    show_progress: bool = True,
) -> TrainReport:
    """Train the tower's adapters in place (see the module doc); returns the report.

    Args:
        tower: a tower built with ``config.train`` (fresh adapters).
        sequences: per user index, training item indices oldest first.
        documents: item text per item index.
        renderer: history -> text.
        show_progress: tqdm bar over steps.
    """
    torch = require("torch", "finetune")
    from tqdm.auto import tqdm

    cfg = tower.config
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    sampler = PairSampler(
        sequences,
        valid_users=cfg.valid_users,
        max_train_users=cfg.max_train_users,
        pairs_per_user=cfg.pairs_per_user,
        seed=cfg.seed,
    )
    rng = np.random.default_rng(cfg.seed)
    pool = np.sort(rng.choice(len(documents), min(cfg.valid_pool, len(documents)), replace=False))
    params = tower.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    report = TrainReport(train_users=int(sampler.train_users.size))
    t0 = time.perf_counter()
    best_state = [p.detach().clone() for p in params]
    bad = 0
    losses: list[float] = []

    def evaluate(step: int) -> bool:
        """Validate; keep the best adapters; True when patience ran out."""
        nonlocal bad, best_state
        v0 = time.perf_counter()
        score = validation_ndcg(tower, renderer, documents, sampler, pool)
        report.valid_seconds += time.perf_counter() - v0
        loss = float(np.mean(losses)) if losses else float("nan")
        report.valid.append({"step": step, "ndcg@10": score, "loss": loss})
        losses.clear()
        log.info("two-tower step %d: valid ndcg@10 %.4f, train loss %.4f", step, score, loss)
        if step == 0 or score > report.best_valid:
            report.best_step, report.best_valid, bad = step, score, 0
            best_state = [p.detach().clone() for p in params]
            return False
        bad += 1
        return bad >= cfg.patience

    stop = evaluate(0) if sampler.valid else False
    total = cfg.epochs * sampler.train_users.size * cfg.pairs_per_user // cfg.batch_size
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    bar = tqdm(total=total, desc="lora", disable=not show_progress, leave=False)
    for epoch in range(cfg.epochs):
        if stop:
            break
        pairs = sampler.epoch(epoch)
        for start in range(0, len(pairs) - cfg.batch_size + 1, cfg.batch_size):
            tower.model.train()
            loss = _batch_loss(tower, renderer, documents, sampler, pairs[start : start + cfg.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            report.steps += 1
            report.pairs += cfg.batch_size
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if sampler.valid and report.steps % cfg.eval_every == 0 and evaluate(report.steps):
                stop, report.stopped = True, "patience"
            elif cfg.max_steps is not None and report.steps >= cfg.max_steps:
                stop, report.stopped = True, "max_steps"
            elif cfg.max_train_seconds is not None and time.perf_counter() - t0 > cfg.max_train_seconds:
                stop, report.stopped = True, "time"
            if stop:
                break
    bar.close()
    if sampler.valid and report.valid[-1]["step"] != report.steps:
        evaluate(report.steps)
    if sampler.valid:  # restore the best adapters (without validation: keep the last ones)
        with torch.no_grad():
            for p, best in zip(params, best_state, strict=True):
                p.copy_(best)
    tower.model.eval()
    report.seconds = time.perf_counter() - t0
    log.info(
        "two-tower: %d steps in %.0f s (%s), best step %d valid ndcg@10 %.4f",
        report.steps,
        report.seconds,
        report.stopped,
        report.best_step,
        report.best_valid,
    )
    return report
