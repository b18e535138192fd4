"""Adapting the text encoder to the shop's own past questions with LoRA (the recommender's text tower code).

Training pairs are (a past question a shopper asked, the Q&A entry that answered it). The shared
:class:`~shelfwise.models.finetune.TextTower` (MiniLM with LoRA adapters on the top layers' attention
projections, as for the ``lora_text`` recommender source) encodes both sides; each step minimises the
softmax cross-entropy of every past question against the batch's distinct entries' question + answer texts (in-batch
negatives). A seeded fifth of the pairs is held out: top-1 accuracy on it is measured before training (the
frozen encoder: LoRA's ``B`` starts at zero) and after every epoch, and the best adapters are kept, so
training never returns a model worse than the frozen one on validation.

Torch, transformers and peft are needed (``pip install 'shelfwise[finetune]'``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shelfwise._optional import require
from shelfwise.assistant.faq import entry_text
from shelfwise.models.finetune import FinetuneConfig, LoraSettings, TextTower

__all__ = ["TowerQuestions", "TuneReport", "top1_accuracy", "train_faq_tower"]

log = logging.getLogger(__name__)

#: Token cap of a question.
MAX_TOKENS = 48


class TowerQuestions:
    """A :class:`TextTower` with the ``encode_queries`` interface :class:`~shelfwise.assistant.faq.FaqIndex`
    uses."""

    def __init__(self, tower: TextTower) -> None:
        self.tower = tower

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions."""
        return self.tower.encode(list(texts), MAX_TOKENS)

    encode_documents = encode_queries


@dataclass
class TuneReport:
    """What training did: steps, seconds, validation top-1 per epoch (epoch 0 = frozen), the kept epoch."""

    steps: int = 0
    seconds: float = 0.0
    pairs: int = 0
    valid: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def top1_accuracy(encoder: Any, entries: Sequence[Mapping[str, str]], pairs: Sequence[tuple[str, str]]) -> float:
    """Share of ``(question, entry id)`` pairs whose nearest entry question is the right one."""
    if not pairs:
        return 0.0
    ids = [e["id"] for e in entries]
    docs = np.asarray(encoder.encode_queries([entry_text(e) for e in entries]), np.float32)
    qs = np.asarray(encoder.encode_queries([q for q, _ in pairs]), np.float32)
    best = np.argmax(qs @ docs.T, axis=1)
    return float(np.mean([ids[int(b)] == want for b, (_, want) in zip(best, pairs, strict=True)]))


def train_faq_tower(
    entries: Sequence[Mapping[str, str]],
    pairs: Sequence[tuple[str, str]],
    *,
    model: str = "all-MiniLM-L6-v2",
    epochs: int = 8,
    batch_size: int = 16,
    lr: float = 5e-4,
    temperature: float = 0.05,
    seed: int = 0,
    max_seconds: float = 600.0,
) -> tuple[TextTower, TuneReport]:
    """Fine-tune LoRA adapters on (past question, entry id) pairs; returns the tower and a report."""
    torch = require("torch", "finetune")
    known = {e["id"]: entry_text(e) for e in entries}
    pairs = [(q, i) for q, i in pairs if i in known]
    if len(pairs) < 4:
        raise ValueError("fine-tuning needs at least 4 past questions that name a known Q&A entry id")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    n_valid = max(1, len(pairs) // 5)
    valid = [pairs[int(n)] for n in order[:n_valid]]
    train = [pairs[int(n)] for n in order[n_valid:]]
    cfg = FinetuneConfig(model=model, train=True, lora=LoraSettings(), seed=seed)
    tower = TextTower(cfg)
    params = tower.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=lr)
    report = TuneReport(pairs=len(train))
    wrapper = TowerQuestions(tower)
    best_score = top1_accuracy(wrapper, entries, valid)
    report.valid.append({"epoch": 0, "top1": best_score})
    best_state = [p.detach().clone() for p in params]
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        tower.model.train()
        for s in range(0, len(train), batch_size):
            batch = [train[int(n)] for n in rng.permutation(len(train))[s : s + batch_size]]
            ids = list(dict.fromkeys(i for _, i in batch))
            if len(ids) < 2:
                continue
            q = tower.forward([t for t, _ in batch], MAX_TOKENS)
            d = tower.forward([known[i] for i in ids], MAX_TOKENS)
            target = torch.tensor([ids.index(i) for _, i in batch])
            loss = torch.nn.functional.cross_entropy(q @ d.T / temperature, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            report.steps += 1
        tower.model.eval()
        score = top1_accuracy(wrapper, entries, valid)
        report.valid.append({"epoch": epoch, "top1": score})
        log.info("faq tuning epoch %d: valid top-1 %.3f", epoch, score)
        if score > best_score:
            best_score, report.best_epoch = score, epoch
            best_state = [p.detach().clone() for p in params]
        if time.perf_counter() - start > max_seconds:
            break
    with torch.no_grad():
        for p, best in zip(params, best_state, strict=True):
            p.copy_(best)
    report.seconds = time.perf_counter() - start
    return tower, report
