"""The shared text tower: a pretrained transformer (mean pooling, unit vectors), optionally with LoRA.

:class:`TextTower` owns the tokenizer and the torch module. ``forward`` is differentiable (training);
:meth:`TextTower.encode` is batched inference (texts sorted by length so padding is small, tqdm bar).
:class:`TowerEncoder` presents the tower as a shelfwise :class:`~shelfwise.encoders.base.Encoder` — queries
are history texts (``user_max_tokens``), documents are item texts (``item_max_tokens``) — so the frozen
tower's vectors go through the shared embedding cache.

Torch, transformers and peft are imported when a tower is built (``pip install 'shelfwise[finetune]'``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise._optional import require
from shelfwise.encoders.base import Encoder, TextKind, model_fingerprint, resolve_model_path
from shelfwise.models.finetune.config import FinetuneConfig

__all__ = ["TextTower", "TowerEncoder"]

log = logging.getLogger(__name__)


class TextTower:
    """Tokenizer + transformer (+ LoRA adapters when ``config.train``), mean-pooled unit vectors.

    Args:
        config: settings (``model``, ``lora``, token caps).
        adapter_dir: load trained adapters from this directory instead of initialising new ones.
    """

    def __init__(self, config: FinetuneConfig, adapter_dir: Path | None = None) -> None:
        torch = require("torch", "finetune")
        transformers = require("transformers", "finetune")
        self.config = config
        path = resolve_model_path(config.model)
        if Path(path).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.model_path = path
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        base = transformers.AutoModel.from_pretrained(path)
        self.adapted = bool(config.train or adapter_dir is not None)
        if adapter_dir is not None:
            peft = require("peft", "finetune")
            self.model = peft.PeftModel.from_pretrained(base, str(adapter_dir))
        elif config.train:
            peft = require("peft", "finetune")
            torch.manual_seed(config.seed)
            lora = config.lora
            self.model = peft.get_peft_model(
                base,
                peft.LoraConfig(
                    r=lora.r,
                    lora_alpha=lora.alpha,
                    lora_dropout=lora.dropout,
                    target_modules=list(lora.target_modules),
                    layers_to_transform=lora.layers,
                    layers_pattern="layer" if lora.layers is not None else None,
                ),
            )
        else:
            self.model = base
            for p in self.model.parameters():
                p.requires_grad_(False)
        self.model.eval()
        self.dim = int(base.config.hidden_size)

    def trainable_parameters(self) -> list[Any]:
        """The parameters training updates (the adapters)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def tokenize(self, texts: Sequence[str], max_tokens: int) -> dict[str, Any]:
        """Padded torch tensors of ``texts``, cut at ``max_tokens``."""
        return dict(
            self.tokenizer(
                list(texts), truncation=True, max_length=max_tokens, padding=True, return_tensors="pt"
            )
        )

    def forward(self, texts: Sequence[str], max_tokens: int) -> Any:
        """Differentiable float32 ``(len(texts), dim)`` unit vectors (mean over non-pad tokens)."""
        torch = require("torch", "finetune")
        batch = self.tokenize(texts, max_tokens)
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str], max_tokens: int, *, show_progress: bool = False) -> np.ndarray:
        """float32 ``(len(texts), dim)`` unit vectors, inference mode; empty texts give zero rows."""
        torch = require("torch", "finetune")
        from tqdm.auto import tqdm

        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        filled = [i for i, t in enumerate(texts) if t.strip()]
        filled.sort(key=lambda i: len(texts[i]))
        size = self.config.encode_batch_size
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            starts = range(0, len(filled), size)
            for s in tqdm(starts, desc="encode", disable=not show_progress, leave=False):
                rows = filled[s : s + size]
                out[rows] = self.forward([texts[i] for i in rows], max_tokens).float().numpy()
        self.model.train(was_training)
        return out

    def adapter_digest(self) -> str:
        """A short hash of the adapter weights ("" without adapters): part of the model version."""
        if not self.adapted:
            return ""
        h = hashlib.sha256()
        for name, p in sorted(self.model.named_parameters()):
            if "lora_" in name:
                h.update(name.encode())
                h.update(p.detach().float().numpy().tobytes())
        return h.hexdigest()[:12]

    def save_adapter(self, folder: Path) -> None:
        """Write the adapters (``adapter_config.json`` + ``adapter_model.safetensors``)."""
        if not self.adapted:
            raise ValueError("a frozen tower has no adapters to save")
        self.model.save_pretrained(str(folder), safe_serialization=True)


class TowerEncoder(Encoder):
    """A :class:`TextTower` as a shelfwise encoder: queries = history texts, documents = item texts.

    Args:
        tower: the tower.
    """

    def __init__(self, tower: TextTower) -> None:
        self.tower = tower
        self.dim = tower.dim
        cfg = tower.config
        settings = {
            "backend": "shelfwise-two-tower",
            "user_max_tokens": cfg.user_max_tokens,
            "item_max_tokens": cfg.item_max_tokens,
            "pooling": "mean",
            "adapter": tower.adapter_digest(),
        }
        self.model_version = "tt-" + model_fingerprint(resolve_model_path(cfg.model), settings)

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        cfg = self.tower.config
        cap = cfg.user_max_tokens if kind == "query" else cfg.item_max_tokens
        return self.tower.encode(texts, cap, show_progress=show_progress)
