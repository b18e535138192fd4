"""Settings of the sequential recommender (SASRec family): architecture, item embeddings, training.

Defaults are what was measured on Amazon Beauty within the time budget
(``benchmarks/bench_beauty_sequential.py``; figures in ``benchmarks/results/beauty_sequential.md``);
architecture sizes follow the SASRec-CE literature for Beauty (2 layers, hidden 64, max length 50).

Example:
    >>> cfg = SequentialConfig(item_embedding="id", epochs=3)
    >>> cfg.type, cfg.hidden, cfg.augment.crop
    ('sasrec', 64, 0.0)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["AugmentConfig", "SequentialConfig"]


class AugmentConfig(BaseModel):
    """Training-sequence augmentation, applied independently per sequence and epoch (seeded).

    Each operation is applied to a training sequence with its probability; all are off by default
    because none measured better on Beauty (see the benchmark's augmentation rows).

    Attributes:
        crop: probability of keeping only a random contiguous part of the sequence.
        crop_ratio: share of the sequence a crop keeps (at least 2 items).
        mask: probability of masking items of the *input* (targets stay the true next items).
        mask_ratio: share of input items replaced by the mask token when masking.
        reorder: probability of shuffling a random contiguous window.
        reorder_ratio: share of the sequence the shuffled window covers.
    """

    model_config = ConfigDict(extra="forbid")

    crop: float = Field(0.0, ge=0.0, le=1.0)
    crop_ratio: float = Field(0.6, gt=0.0, le=1.0)
    mask: float = Field(0.0, ge=0.0, le=1.0)
    mask_ratio: float = Field(0.2, ge=0.0, le=1.0)
    reorder: float = Field(0.0, ge=0.0, le=1.0)
    reorder_ratio: float = Field(0.3, gt=0.0, le=1.0)

    @property
    def active(self) -> bool:
        """Whether any augmentation is switched on."""
        return self.crop > 0 or self.mask > 0 or self.reorder > 0


class SequentialConfig(BaseModel):
    """A causal transformer over the shopper's recent items, trained with full softmax cross-entropy.

    Attributes:
        type: model family (``"sasrec"``: self-attentive sequential recommendation).
        item_embedding: how item vectors are made. ``"id"``: a free embedding per item (classic SASRec;
            new items get nothing useful). ``"text"``: a learned projection of the items' pretrained
            text vectors only. ``"text+id"``: projection of the text vector plus a per-item residual
            (zero-initialised); items without training interactions use the text part alone.
        text_projection: ``"linear"`` or ``"mlp"`` (two layers, GELU) from text width to ``hidden``.
        id_dropout: ``"text+id"`` only: in training, each item's residual is dropped with this
            probability per batch, so text-only vectors stay scoreable (what new items get).
        repeat_bias: learn a score offset for items already in the input sequence (the model can learn
            that shoppers of this shop rarely re-buy, or often do). Learned, not a masking rule.
        text_neighbours: ``k`` of the text-neighbour bias: the ``k`` items whose text is most similar to
            a recent input item get a learned boost (0: off). Needs text vectors, whatever
            ``item_embedding`` is.
        neighbour_window: how many of the most recent input items give text-neighbour boosts (each with
            its own learned weight).
        hidden: embedding / model width.
        layers: transformer blocks.
        heads: attention heads.
        ffn_mult: feed-forward width = ``ffn_mult * hidden``.
        max_len: most recent items the model reads.
        dropout: dropout in the blocks (attention output, feed-forward).
        attn_dropout: dropout on attention weights.
        emb_dropout: dropout on the input embeddings (item + position).
        epochs: most training epochs.
        batch_size: sequences per step.
        lr: AdamW learning rate.
        lr_schedule: ``"constant"``, or ``"linear"`` decay to 0 at the end of ``epochs`` (for a fixed
            epoch budget).
        weight_decay: AdamW weight decay (not applied to norms, biases, the learned score biases).
        logits_dtype: precision of the training logits matmul (the largest cost: positions x items).
            ``"bfloat16"`` measured 1.3x (one thread) to 2.8x (two threads) faster on this machine's
            matmul alone; softmax stays float32, and scoring is always float32 (bf16 scores would tie).
            Default float32: its effect on accuracy was not measured.
        patience: evaluations without a better validation NDCG@10 before stopping.
        eval_every: epochs between validation evaluations.
        valid_max_users: evaluate on a seeded sample of at most this many validation users (``None``:
            all).
        seed: seed of initialisation, batching, augmentation and validation sampling.
        num_threads: torch intra-op threads during training (``None``: leave torch's setting). Default
            1: on the shared 2-core machine, 2 threads ran a training step ~3x *slower* than 1 (OpenMP
            threads spin-waiting for a busy core); with ``OMP_WAIT_POLICY=PASSIVE`` they tied.
        augment: training-sequence augmentation.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["sasrec"] = "sasrec"
    item_embedding: Literal["id", "text", "text+id"] = "text+id"
    text_projection: Literal["linear", "mlp"] = "linear"
    id_dropout: float = Field(0.1, ge=0.0, lt=1.0)
    repeat_bias: bool = True
    text_neighbours: int = Field(50, ge=0)
    neighbour_window: int = Field(3, ge=1)
    hidden: int = Field(64, ge=8)
    layers: int = Field(2, ge=1)
    heads: int = Field(1, ge=1)
    ffn_mult: int = Field(1, ge=1)
    max_len: int = Field(50, ge=2)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    attn_dropout: float = Field(0.3, ge=0.0, lt=1.0)
    emb_dropout: float = Field(0.5, ge=0.0, lt=1.0)
    epochs: int = Field(24, ge=1)
    batch_size: int = Field(128, ge=1)
    lr: float = Field(3e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    lr_schedule: Literal["constant", "linear"] = "constant"
    logits_dtype: Literal["float32", "bfloat16"] = "float32"
    patience: int = Field(4, ge=1)
    eval_every: int = Field(2, ge=1)
    valid_max_users: int | None = Field(10_000, ge=1)
    seed: int = 0
    num_threads: int | None = Field(1, ge=1)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)

    @model_validator(mode="after")
    def _check(self) -> SequentialConfig:
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        return self

    @property
    def uses_text(self) -> bool:
        """Whether the model needs item text vectors (text embeddings or the text-neighbour bias)."""
        return self.item_embedding != "id" or self.text_neighbours > 0

    @property
    def label(self) -> str:
        """Short name for reports, e.g. ``"sasrec[text+id,nbr50]"``."""
        nbr = f",nbr{self.text_neighbours}" if self.text_neighbours else ""
        return f"{self.type}[{self.item_embedding}{nbr}]"
