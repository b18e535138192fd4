"""Training loop: full-softmax cross-entropy at every position, AdamW, early stopping on validation NDCG@10.

Validation runs through the evaluation harness (:func:`shelfwise.metrics.evaluate_ranking`: full
ranking, history rankable, random ties with seed 0) so the number that stops training is measured the
way the benchmark measures. The weights of the best evaluation are restored at the end.

Typical use on a leave-one-out split (the convention of SASRec and RecBole: train on the train part,
validate on the second-to-last item, test with train + valid as the input)::

    split = LeaveOneOut().split(events)
    data = RankingData.from_split(split)
    model = fit_on_split(SequentialConfig(), split, data, item_vectors=vectors)
    evaluate_ranking(model, data.test_users, data.test_targets, data.train_valid[data.test_users], ["ndcg@10"])
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise.encoded import RankingData, Split
from shelfwise.metrics import evaluate_ranking
from shelfwise.models.sequential.config import SequentialConfig
from shelfwise.models.sequential.data import SequenceBatcher, sequences_from_split
from shelfwise.models.sequential.recommender import SequentialRecommender

__all__ = ["EpochLog", "TrainReport", "ValidationSet", "fit_on_split", "train_sequential"]

log = logging.getLogger(__name__)

VALID_METRICS = ("ndcg@10", "hr@10")


@dataclass(frozen=True)
class ValidationSet:
    """Held-out next items to stop training on.

    Attributes:
        sequences: per evaluated user, the ordered input items.
        targets: int64 ``(n,)`` the item that came next.
    """

    sequences: list[np.ndarray]
    targets: np.ndarray

    def sample(self, n: int | None, seed: int) -> ValidationSet:
        """At most ``n`` users drawn without replacement with ``seed`` (all when ``n`` is ``None``)."""
        if n is None or n >= len(self.sequences):
            return self
        pick = np.sort(np.random.default_rng([seed, 3]).choice(len(self.sequences), n, replace=False))
        return ValidationSet([self.sequences[i] for i in pick], np.asarray(self.targets)[pick])


@dataclass(frozen=True)
class EpochLog:
    """One epoch: mean training loss, wall time, and validation metrics when it was evaluated."""

    epoch: int
    loss: float
    seconds: float
    valid: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainReport:
    """Where a trained model came from."""

    model: str
    epochs_run: int
    best_epoch: int
    best_valid: dict[str, float]
    stopped_early: bool
    train_seconds: float
    eval_seconds: float
    n_sequences: int
    n_positions: int
    n_items: int
    cold_items: int
    threads: int
    final_lr: float
    history: tuple[EpochLog, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _set_threads(n: int | None) -> int:
    import torch

    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    return old


def _bias_note(network: Any) -> str:
    notes = []
    if network.repeat is not None:
        notes.append(f"repeat bias {float(network.repeat.detach()):.2f}")
    if network.neighbour_weights is not None:
        notes.append("neighbour weights " + " ".join(f"{w:.2f}" for w in network.neighbour_weights.tolist()))
    return (" " + ", ".join(notes)) if notes else ""


def _validate(model: SequentialRecommender, valid: ValidationSet) -> dict[str, float]:
    scorer = model.with_user_sequences(valid.sequences)
    users = np.arange(len(valid.sequences), dtype=np.int32)
    result = evaluate_ranking(scorer, users, valid.targets, None, list(VALID_METRICS), split="valid")
    return dict(result.metrics)


def train_sequential(
    config: SequentialConfig,
    sequences: Sequence[np.ndarray],
    n_items: int,
    *,
    item_vectors: np.ndarray | None = None,
    valid: ValidationSet | None = None,
    item_ids: np.ndarray | None = None,
    show_progress: bool = True,
) -> SequentialRecommender:
    """Train a sequential recommender.

    Args:
        config: settings (architecture, item embeddings, optimisation, early stopping).
        sequences: training sequences (dense item indices in time order), one per user; each is also
            the user's held sequence for :meth:`SequentialRecommender.score`.
        n_items: catalogue size.
        item_vectors: float32 ``(n_items, text_dim)`` pretrained text vectors (needed unless
            ``item_embedding="id"``).
        valid: held-out next items for early stopping (without it: all ``epochs``, last weights).
        item_ids: external item ids in index order, kept for serving.
        show_progress: tqdm bars.

    Returns:
        The fitted model (best validation weights), with its :class:`TrainReport` in ``report``.
    """
    import torch

    if config.uses_text and item_vectors is None:
        raise ValueError(f"{config.label} needs item_vectors (text embeddings or text neighbours)")
    old_threads = _set_threads(config.num_threads)
    try:
        return _train(config, sequences, n_items, item_vectors, valid, item_ids, show_progress, torch)
    finally:
        torch.set_num_threads(old_threads)


def init_network(
    config: SequentialConfig, sequences: Sequence[np.ndarray], n_items: int, item_vectors: np.ndarray | None
) -> tuple[Any, np.ndarray]:
    """A freshly initialised (seeded) SASRec and the item counts of ``sequences``; the ID residual applies to
    the items seen in training only."""
    import torch

    from shelfwise.models.sequential.sasrec import SASRec

    torch.manual_seed(config.seed)
    counts = np.zeros(n_items, dtype=np.int64)
    for s in sequences:
        np.add.at(counts, np.asarray(s, dtype=np.int64), 1)
    text = torch.from_numpy(np.asarray(item_vectors, dtype=np.float32)) if config.uses_text else None
    network = SASRec(config, n_items, text)
    network.id_mask.copy_(torch.from_numpy((counts > 0).astype(np.float32)))
    return network, counts


def _train(
    config: SequentialConfig,
    sequences: Sequence[np.ndarray],
    n_items: int,
    item_vectors: np.ndarray | None,
    valid: ValidationSet | None,
    item_ids: np.ndarray | None,
    show_progress: bool,
    torch: Any,
) -> SequentialRecommender:
    network, counts = init_network(config, sequences, n_items, item_vectors)
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, p in network.named_parameters():
        (no_decay if p.ndim < 2 or name in ("repeat_raw", "nbr_raw") else decay).append(p)
    optimiser = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
        fused=True,
    )
    batcher = SequenceBatcher(
        sequences, n_items, config.max_len, config.batch_size, config.augment, config.seed
    )
    model = SequentialRecommender(config, network, counts, sequences, item_ids)
    vset = valid.sample(config.valid_max_users, config.seed) if valid is not None else None
    scheduler = None
    if config.lr_schedule == "linear":  # linear decay to 0 over the epoch budget
        total_steps = max(config.epochs * len(batcher), 1)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda step: max(0.0, 1.0 - step / total_steps)
        )
    keep_gen = torch.Generator().manual_seed(config.seed + 1)
    # batches group similar lengths, so a batch mean would weigh a position of a short sequence more
    # than one of a long sequence; dividing by the mean positions per batch weighs them all the same
    norm = batcher.n_positions / max(len(batcher), 1)
    history: list[EpochLog] = []
    best: tuple[float, int, dict[str, Any], dict[str, float]] | None = None
    stale, stopped, train_s, eval_s = 0, False, 0.0, 0.0
    log.info(
        "training %s: %d sequences, %d positions, %d items (%d cold), %d threads",
        config.label,
        len(batcher.sequences),
        batcher.n_positions,
        n_items,
        int((counts == 0).sum()),
        torch.get_num_threads(),
    )
    bar = tqdm(range(1, config.epochs + 1), desc=f"train {config.label}", disable=not show_progress)
    for epoch in bar:
        network.train()
        t0 = time.perf_counter()
        total, steps = 0.0, 0
        for batch in batcher.epoch(epoch):
            keep = None
            if config.item_embedding == "text+id" and config.id_dropout > 0:
                keep = (torch.rand(n_items, generator=keep_gen) >= config.id_dropout).float()
            loss = network.loss(torch.from_numpy(batch.inputs), torch.from_numpy(batch.targets), keep, norm)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            total, steps = total + float(loss.detach()), steps + 1
        seconds = time.perf_counter() - t0
        train_s += seconds
        metrics: dict[str, float] = {}
        if vset is not None and (epoch % config.eval_every == 0 or epoch == config.epochs):
            network.eval()
            model.clear_cache()
            t1 = time.perf_counter()
            metrics = _validate(model, vset)
            eval_s += time.perf_counter() - t1
            score = metrics["ndcg@10"]
            if best is None or score > best[0]:
                best = (score, epoch, copy.deepcopy(network.state_dict()), metrics)
                stale = 0
            else:
                stale += 1
            log.info(
                "%s epoch %d: loss %.4f (%.1fs) valid ndcg@10 %.4f hr@10 %.4f%s%s",
                config.label,
                epoch,
                total / max(steps, 1),
                seconds,
                score,
                metrics["hr@10"],
                _bias_note(network),
                " *" if stale == 0 else "",
            )
        history.append(EpochLog(epoch, total / max(steps, 1), seconds, metrics))
        bar.set_postfix(loss=f"{total / max(steps, 1):.3f}", ndcg10=f"{best[0]:.4f}" if best else "-")
        if stale >= config.patience:
            stopped = True
            break
    bar.close()
    if best is not None:
        network.load_state_dict(best[2])
    network.eval()
    report = TrainReport(
        model=config.label,
        epochs_run=len(history),
        best_epoch=best[1] if best else len(history),
        best_valid=best[3] if best else {},
        stopped_early=stopped,
        train_seconds=train_s,
        eval_seconds=eval_s,
        n_sequences=len(batcher.sequences),
        n_positions=batcher.n_positions,
        n_items=n_items,
        cold_items=int((counts == 0).sum()),
        threads=torch.get_num_threads(),
        final_lr=float(optimiser.param_groups[0]["lr"]),
        history=tuple(history),
    )
    return SequentialRecommender(config, network, counts, sequences, item_ids, report.to_dict())


def fit_on_split(
    config: SequentialConfig,
    split: Split,
    data: RankingData,
    *,
    item_vectors: np.ndarray | None = None,
    show_progress: bool = True,
) -> SequentialRecommender:
    """Train on the train part, stop on the valid part, and hold train + valid sequences for test scoring.

    Args:
        config: model settings.
        split: a leave-one-out (or temporal / given) split of the events.
        data: ``RankingData.from_split(split)`` (the user and item indices).
        item_vectors: text vectors in ``data.items`` order (unless ``item_embedding="id"``).
        show_progress: tqdm bars.

    Returns:
        The model; ``model.score(data.test_users, ...)`` scores from each user's train + valid items.
    """
    train = sequences_from_split(split, data.users, data.items, ("train",))
    valid = ValidationSet([train[u] for u in data.valid_users], np.asarray(data.valid_targets))
    model = train_sequential(
        config,
        train,
        len(data.items),
        item_vectors=item_vectors,
        valid=valid if len(valid.sequences) else None,
        item_ids=np.asarray(data.items.ids, dtype=str),
        show_progress=show_progress,
    )
    test_input = sequences_from_split(split, data.users, data.items, ("train", "valid"))
    return model.with_user_sequences(test_input)
