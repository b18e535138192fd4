"""Settings of the two-tower text model: the pretrained encoder, optionally fine-tuned with LoRA.

One tower (shared weights) encodes both sides: a text rendering of the shopper's recent history (the
query side) and an item's text (the document side); the score is the cosine of the two. With
``train=False`` nothing is learned: the frozen encoder with the same renderings (the ``frozen_text``
baseline). With ``train=True`` LoRA adapters on the attention projections are trained contrastively on
(history -> next item) pairs of the shop's own events (the ``lora_text`` source).

Defaults are sized for the shared 2-core CPU machine: short sequences, a capped number of steps and a
wall-clock budget (see ``benchmarks/bench_lora_text.py`` for the measured cost).

Example:
    >>> cfg = FinetuneConfig()
    >>> cfg.lora.r, cfg.user_max_tokens, cfg.item_max_tokens
    (8, 64, 32)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shelfwise.retrieval.text_vectors import default_cache_dir

__all__ = ["FinetuneConfig", "LoraSettings", "RenderConfig"]


class LoraSettings(BaseModel):
    """The LoRA adapters (``peft.LoraConfig``).

    Attributes:
        r: adapter rank.
        alpha: scaling numerator (the update is scaled by ``alpha / r``).
        dropout: dropout on the adapter input.
        target_modules: names of the linear layers that get adapters (BERT naming).
        layers: transformer layers that get adapters (``None``: all). Adapting only the top layers
            lets the backward pass stop there: training costs ~2x a forward pass instead of ~3x.
    """

    model_config = ConfigDict(extra="forbid")

    r: int = Field(8, ge=1)
    alpha: float = Field(16.0, gt=0)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default_factory=lambda: ["query", "value"])
    layers: list[int] | None = Field(default_factory=lambda: [3, 4, 5])


class RenderConfig(BaseModel):
    """How a history and an item become text.

    Attributes:
        history_items: the most recent this many history items describe the shopper (newest first, so
            truncation drops the oldest).
        item_chars: each history item's text (title, brand, leaf category) is cut at this many characters.
        separator: between history items.
    """

    model_config = ConfigDict(extra="forbid")

    history_items: int = Field(3, ge=1)
    item_chars: int = Field(90, ge=8)
    separator: str = " | "


class FinetuneConfig(BaseModel):
    """Two-tower text model settings (see the module doc).

    Attributes:
        model: the base encoder (name or directory; the default is the bundled all-MiniLM-L6-v2).
        train: fine-tune with LoRA (``False``: the frozen encoder).
        lora: adapter settings.
        render: text renderings.
        user_max_tokens: token cap of the history text.
        item_max_tokens: token cap of the item text.
        batch_size: (history, next item) pairs per step; the other pairs' items are the negatives.
        history_negatives: per pair, the most recent this many history items are added as negatives
            (unless one is the target), to teach whether the shop's shoppers re-buy. Off by default: on
            Beauty (1 per pair) validation NDCG@10 fell from 0.051 to 0.036 in 24 steps, while pure
            in-batch negatives rose to 0.057 (``benchmarks/results/lora_text.md``).
        temperature: softmax temperature of the contrastive loss.
        lr: AdamW learning rate of the adapters.
        weight_decay: AdamW weight decay.
        epochs: passes over the sampled training pairs.
        max_steps: most optimiser steps (``None``: no cap).
        max_train_seconds: stop training after this much wall time (``None``: no cap).
        max_train_users: sample at most this many users to make training pairs from (``None``: all).
        pairs_per_user: training pairs drawn per sampled user and epoch (random positions).
        valid_users: users whose last item is held out for early stopping.
        valid_pool: the validation targets are ranked among this many sampled items plus the targets.
        eval_every: optimiser steps between validation evaluations.
        patience: evaluations without a better validation NDCG@10 before stopping.
        encode_batch_size: texts per forward pass when encoding.
        seed: seed of LoRA initialisation, sampling and batching.
        num_threads: torch intra-op threads (``None``: leave torch's setting).
        cache_dir: embedding cache root for the frozen encoder (``None``: no cache); the fine-tuned
            encoder is never cached (its vectors change with every training).
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "all-MiniLM-L6-v2"
    train: bool = True
    lora: LoraSettings = Field(default_factory=LoraSettings)
    render: RenderConfig = Field(default_factory=RenderConfig)
    user_max_tokens: int = Field(64, ge=8)
    item_max_tokens: int = Field(32, ge=8)
    batch_size: int = Field(32, ge=2)
    history_negatives: int = Field(0, ge=0)
    temperature: float = Field(0.05, gt=0)
    lr: float = Field(3e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    epochs: int = Field(1, ge=1)
    max_steps: int | None = Field(200, ge=1)
    max_train_seconds: float | None = Field(1200.0, gt=0)
    max_train_users: int | None = Field(20_000, ge=1)
    pairs_per_user: int = Field(1, ge=1)
    valid_users: int = Field(150, ge=0)
    valid_pool: int = Field(1000, ge=1)
    eval_every: int = Field(12, ge=1)
    patience: int = Field(2, ge=1)
    encode_batch_size: int = Field(64, ge=1)
    seed: int = 0
    num_threads: int | None = Field(1, ge=1)
    cache_dir: Path | None = Field(default_factory=default_cache_dir)
