"""DP-SGD for the sequential model with Opacus: per-shopper clipping, Gaussian noise, the RDP accountant.

One shopper = one training sequence = one sample, so the guarantee is (epsilon, delta)-DP with respect to
adding or removing a shopper's whole training history (user-level DP). The steps:

* **Sampling**: Opacus's :class:`~opacus.data_loader.DPDataLoader` (Poisson sampling, rate ``q = B / n``), the
  sampling the accountant assumes.
* **Noise multiplier**: :func:`opacus.accountants.utils.get_noise_multiplier` for the target ``(epsilon,
  delta)`` over ``epochs / q`` steps with the RDP accountant: the same call ``PrivacyEngine
  .make_private_with_epsilon`` makes.
* **Clipping and noise**: Opacus's :class:`~opacus.optimizers.DPOptimizer` (flat per-sample clipping to
  ``max_grad_norm``, Gaussian noise of ``noise_multiplier * max_grad_norm``); its step hook feeds the
  :class:`~opacus.accountants.RDPAccountant`, whose ``get_epsilon(delta)`` is what was spent.
* **Per-sample gradients**: ``torch.func.vmap(grad(...))`` over the whole network. ``PrivacyEngine``'s
  :class:`~opacus.GradSampleModule` computes them with per-layer hooks, which cannot see SASRec's parameters:
  the item table is read as ``.weight`` (tied input / output, never through ``Embedding.forward``) and the
  repeat bias is a raw parameter of a module with buffers (Opacus raises ``NotImplementedError`` for it, as
  measured). ``vmap`` over the model's functional form is the per-sample computation Opacus's own
  ``functorch`` mode does per layer, applied to the network as a whole; clipping, noise and accounting stay
  Opacus's.

What is not covered: the text-neighbour bias (``text_neighbours`` must be 0; its sparse terms do not vectorise
per sample), early stopping (validation items are private data too: a DP run trains its fixed epochs), and
the item counts the model keeps (``item_counts``, used for nothing but cold-item masks, are exact).

The spent ``(epsilon, delta)`` is recorded in the shop's privacy ledger (:mod:`shelfwise.privacy.ledger`) as
``trained <model> version <V>`` by :func:`record_training`; :func:`dp_train_sequential` checks the ledger's
remaining budget before it trains and refuses when the target does not fit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from shelfwise.config_base import Section
from shelfwise.privacy.ledger import PrivacyLedger, Release

__all__ = [
    "DPTrainingSettings",
    "check_training_budget",
    "dp_train_sequential",
    "record_trained_model",
    "record_training",
    "training_delta",
]

log = logging.getLogger(__name__)

MECHANISM = "DP-SGD (Opacus: Poisson sampling, per-sample clipping, Gaussian noise, RDP accountant)"


class DPTrainingSettings(Section):
    """Differentially private training of the sequential model (``privacy.dp_training.*``); off by default."""

    enabled: bool = Field(False, description="train the sequential model with DP-SGD (Opacus)")
    epsilon: float = Field(
        8.0, gt=0, description="target epsilon of one training run (inf: no noise, no clipping)"
    )
    delta: float | None = Field(
        None, gt=0, lt=1, description="target delta; default 1 / (number of training shoppers)"
    )
    max_grad_norm: float = Field(1.0, gt=0, description="per-shopper gradient clipping norm")
    batch_size: int = Field(256, ge=1, description="expected shoppers per step (Poisson sampling)")
    epochs: int = Field(5, ge=1, description="passes over the shoppers (fixed: no early stopping under DP)")
    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    max_len: int = Field(20, ge=2, description="most recent items of a shopper's sequence trained on")
    item_embedding: Literal["text", "id", "text+id"] = Field(
        "text",
        description="item vectors of the DP model: text (a projection of frozen text vectors: few parameters to "
        "noise) or with per-item ID vectors (one noisy vector per item)",
    )
    negatives: int = Field(1000, ge=1, description="uniform negatives per step of the sampled softmax")
    chunk_size: int = Field(
        64, ge=1, description="shoppers per vectorised per-sample-gradient chunk (memory)"
    )


def training_delta(settings: DPTrainingSettings, n_shoppers: int) -> float:
    """The run's delta: the setting, else ``1 / n``."""
    return float(settings.delta) if settings.delta is not None else 1.0 / max(n_shoppers, 1)


def _windows(sequences: Sequence[np.ndarray], n_items: int, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 ``(n, max_len)`` left-padded inputs and targets (``-100`` = no loss) of each sequence with at
    least two items (its last ``max_len + 1`` items)."""
    rows = [np.asarray(s, dtype=np.int64)[-(max_len + 1) :] for s in sequences if len(s) >= 2]
    x = np.full((len(rows), max_len), n_items, dtype=np.int64)
    y = np.full((len(rows), max_len), -100, dtype=np.int64)
    for r, s in enumerate(rows):
        n = s.size - 1
        x[r, max_len - n :] = s[:-1]
        y[r, max_len - n :] = s[1:]
    return x, y


def _sequence_loss(torch: Any) -> Any:
    """The per-shopper loss as a module (one unbatched sequence and the step's shared negatives in, a scalar
    out), so ``vmap`` can batch it: sampled softmax of the next item against ``negatives`` (the same uniform
    sample for the whole step: drawn without looking at the data, so it costs no privacy). Only the rows of
    the sequence, its targets and the negatives are computed: a full softmax would give every shopper a
    gradient over the whole item table, and per-sample copies of that cost 20-30x more (measured)."""
    import torch.nn.functional as F
    from torch import nn

    class SequenceLoss(nn.Module):
        def __init__(self, network: Any) -> None:
            super().__init__()
            self.net = network

        def forward(self, inputs: Any, targets: Any, negatives: Any) -> Any:
            net = self.net
            real = inputs < net.n_items
            rows = torch.where(
                real[:, None], net.item_rows(inputs.clamp(max=net.n_items - 1)), net.special.weight[0]
            )
            h = net.encode_vectors(rows[None], real[None])[0]  # (L, d)
            pos_items = targets.clamp(min=0)
            pos = (h * net.item_rows(pos_items)).sum(-1)  # (L,)
            if net.config.item_embedding == "text" and isinstance(net.proj, nn.Linear):
                # (h W) T_neg^T + h b: the per-sample gradient of W then costs L x S x text_dim, not d x S x text_dim
                neg = (h @ net.proj.weight) @ net.text[negatives].T + (h @ net.proj.bias)[:, None]
            else:
                neg = h @ net.item_rows(negatives).T  # (L, S)
            repeat = net.repeat
            if repeat is not None:  # SASRec's repeat term: the item is among the inputs up to this position
                upto = torch.ones(inputs.shape[0], inputs.shape[0], dtype=torch.bool).tril() & real[None]
                pos = pos + repeat * (upto & (inputs[None] == pos_items[:, None])).any(-1).to(h.dtype)
                hit = (inputs[:, None] == negatives[None]) & real[:, None]  # (L, S)
                neg = neg + repeat * (upto.to(h.dtype) @ hit.to(h.dtype) > 0).to(h.dtype)
            neg = neg.masked_fill(negatives[None] == pos_items[:, None], float("-inf"))  # a negative = target
            logits = torch.cat([pos[:, None], neg], dim=1)
            valid = (targets >= 0).to(h.dtype)
            ce = F.cross_entropy(logits, torch.zeros_like(targets), reduction="none")
            return (ce * valid).sum() / valid.sum().clamp(min=1.0)

    return SequenceLoss


def dp_train_sequential(
    config: Any,
    sequences: Sequence[np.ndarray],
    n_items: int,
    dp: DPTrainingSettings,
    *,
    item_vectors: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
    ledger: PrivacyLedger | None = None,
) -> Any:
    """Train a :class:`~shelfwise.models.sequential.SequentialRecommender` with DP-SGD.

    Args:
        config: the model's :class:`~shelfwise.models.sequential.SequentialConfig`; the text-neighbour bias is
            switched off, and item embedding, ``max_len``, epochs and batch size come from ``dp``.
        sequences: one training sequence per shopper (dense item indices in time order).
        n_items: catalogue size.
        dp: the privacy settings; ``epsilon = inf`` trains the same way without clipping or noise.
        item_vectors: text vectors (when the config uses text).
        item_ids: external item ids in index order.
        ledger: when given, the target ``(epsilon, delta)`` must fit its remaining budget (checked before
            training; recording is :func:`record_training`'s job once the model has a version).

    Returns:
        The model; ``report["dp"]`` holds the spent epsilon (from the accountant), delta, noise multiplier,
        sample rate, steps and clipping norm.

    Raises:
        BudgetExhaustedError: the target does not fit the ledger's remaining budget (nothing is trained).
        ValueError: no shopper has two training items.
    """
    import torch

    from shelfwise.models.sequential.recommender import SequentialRecommender
    from shelfwise.models.sequential.train import init_network

    if config.text_neighbours:
        log.info(
            "DP training: the text-neighbour bias is switched off (its terms do not vectorise per shopper)"
        )
    config = config.model_copy(
        update={
            "max_len": dp.max_len,
            "epochs": dp.epochs,
            "batch_size": dp.batch_size,
            "lr": dp.lr,
            "text_neighbours": 0,
            "item_embedding": dp.item_embedding,
        }
    )
    x_np, y_np = _windows(sequences, n_items, dp.max_len)
    n = int(x_np.shape[0])
    if n == 0:
        raise ValueError("no shopper has two or more training items: nothing to train on")
    delta = training_delta(dp, len(sequences))
    private = math.isfinite(dp.epsilon)
    what = f"trained {config.label}"
    if ledger is not None and private:
        ledger.check(dp.epsilon, delta, what)
    old_threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        network, counts = init_network(config, sequences, n_items, item_vectors)
        loss_module = _sequence_loss(torch)(network)
        t0 = time.perf_counter()
        dp_report = _fit(torch, loss_module, x_np, y_np, dp, delta, private)
        dp_report["train_seconds"] = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old_threads)
    network.eval()
    report = {"model": config.label, "epochs_run": dp.epochs, "n_sequences": n, "dp": dp_report}
    return SequentialRecommender(config, network, counts, sequences, item_ids, report)


def _fit(
    torch: Any,
    loss_module: Any,
    x_np: np.ndarray,
    y_np: np.ndarray,
    dp: DPTrainingSettings,
    delta: float,
    private: bool,
) -> dict[str, Any]:
    from opacus.accountants import RDPAccountant
    from opacus.accountants.utils import get_noise_multiplier
    from opacus.data_loader import DPDataLoader
    from opacus.optimizers import DPOptimizer
    from torch.func import functional_call, grad, vmap
    from torch.utils.data import DataLoader, TensorDataset

    n = int(x_np.shape[0])
    n_items = int(loss_module.net.n_items)
    dataset = TensorDataset(torch.from_numpy(x_np), torch.from_numpy(y_np))
    batch = min(dp.batch_size, n)
    gen = torch.Generator().manual_seed(loss_module.net.config.seed)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, generator=gen)
    params = [p for p in loss_module.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=dp.lr)
    q = 1.0 / len(loader)
    losses: list[float] = []
    if not private:
        for _ in range(dp.epochs):
            loss_module.train()
            for xb, yb in loader:
                negs = torch.randint(0, n_items, (dp.negatives,), generator=gen)
                loss = vmap(loss_module, in_dims=(0, 0, None), randomness="different")(xb, yb, negs).mean()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                losses.append(float(loss.detach()))
        return {
            "epsilon": math.inf,
            "delta": 0.0,
            "noise_multiplier": 0.0,
            "max_grad_norm": None,
            "sample_rate": q,
            "steps": len(losses),
            "final_loss": float(np.mean(losses[-20:])),
        }
    sigma = float(
        get_noise_multiplier(
            target_epsilon=dp.epsilon, target_delta=delta, sample_rate=q, epochs=dp.epochs, accountant="rdp"
        )
    )
    accountant = RDPAccountant()
    dp_loader = DPDataLoader.from_data_loader(loader, generator=gen)
    dp_optimiser = DPOptimizer(
        optimiser, noise_multiplier=sigma, max_grad_norm=dp.max_grad_norm, expected_batch_size=batch
    )
    dp_optimiser.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=q))
    names = [name for name, p in loss_module.named_parameters() if p.requires_grad]
    buffers = dict(loss_module.named_buffers())

    def one(p: dict[str, Any], xs: Any, ys: Any, negs: Any) -> Any:
        return functional_call(loss_module, (p, buffers), (xs, ys, negs))

    per_sample = vmap(grad(one), in_dims=(None, 0, 0, None), randomness="different", chunk_size=dp.chunk_size)
    steps = 0
    for _ in range(dp.epochs):
        loss_module.train()
        for xb, yb in dp_loader:
            detached = {k: p.detach() for k, p in zip(names, params, strict=True)}
            if xb.shape[0]:
                negs = torch.randint(0, n_items, (dp.negatives,), generator=gen)
                grads = per_sample(detached, xb, yb, negs)
            else:
                grads = {k: torch.zeros((0, *p.shape)) for k, p in zip(names, params, strict=True)}
            for k, p in zip(names, params, strict=True):
                p.grad_sample = grads[k]
            dp_optimiser.step()
            dp_optimiser.zero_grad(set_to_none=True)
            steps += 1
            if steps % 20 == 0:
                log.info("DP-SGD step %d of about %d", steps, int(dp.epochs / q))
    spent = float(accountant.get_epsilon(delta))
    log.info(
        "DP-SGD: %d steps, noise %.3f, clip %.2f -> epsilon %.3f at delta %.2e",
        accountant.history[0][2] if accountant.history else 0,
        sigma,
        dp.max_grad_norm,
        spent,
        delta,
    )
    return {
        "epsilon": spent,
        "delta": delta,
        "target_epsilon": dp.epsilon,
        "noise_multiplier": sigma,
        "max_grad_norm": dp.max_grad_norm,
        "sample_rate": q,
        "steps": int(sum(h[2] for h in accountant.history)),
        "accountant": "rdp",
    }


def record_training(
    ledger: PrivacyLedger, report: dict[str, Any], model: str, version: str
) -> Release | None:
    """Charge a DP training run to the ledger as ``trained <model> version <version>`` (None when the run was
    not private: epsilon inf is never recorded as a release, it is no guarantee)."""
    dp = report.get("dp") or {}
    if not dp or not math.isfinite(float(dp.get("epsilon", math.inf))):
        return None
    params = {
        k: dp[k]
        for k in ("target_epsilon", "noise_multiplier", "max_grad_norm", "sample_rate", "steps")
        if k in dp
    }
    return ledger.spend(
        float(dp["epsilon"]), float(dp["delta"]), f"trained {model} version {version}", MECHANISM, params
    )


def check_training_budget(
    ledger: PrivacyLedger, settings: DPTrainingSettings, n_shoppers: int, model: str
) -> None:
    """Refuse a DP training run whose target ``(epsilon, delta)`` does not fit the ledger (before any work).

    Raises:
        BudgetExhaustedError: with what is left and how to proceed.
    """
    if settings.enabled and math.isfinite(settings.epsilon):
        ledger.check(settings.epsilon, training_delta(settings, n_shoppers), f"trained {model}")


def record_trained_model(ledger: PrivacyLedger, pipeline: Any, version: int | str) -> Release | None:
    """Charge the pipeline's DP-trained sequential source (if any) to the ledger under the artifact version."""
    try:
        source = pipeline.source("sequential")
    except (KeyError, ValueError, AttributeError):
        return None
    report = getattr(source, "report", None) or {}
    return record_training(ledger, report, "sequential", str(version)) if report.get("dp") else None
