"""Cross-modal item vector: text + image + numeric/categorical features, fused by a learned projection.

::

    fused = normalise( W_text · text  +  MLP([text, image·present, present, numeric, emb(category), emb(brand)]) )

The last MLP layer starts at zero, so before training the fused vector is a (semi-orthogonal) projection
of the text vector: a new catalogue with no behaviour yet still gets sensible vectors. Training pulls
items that co-occur in sessions / purchase sequences together with a symmetric in-batch contrastive loss
(InfoNCE: each pair's partner is the positive, the other pairs in the batch are the negatives). Image
vectors are dropped at random during training (``modality_dropout``) so items without photos are handled
by the same weights; missing prices and ratings arrive as flags from :mod:`shelfwise.encoders.features`.

Saved as ``fusion.json`` (config + sizes), ``features.json`` and ``weights.npz`` (plain arrays, loaded with
``allow_pickle=False``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from shelfwise.encoders._optional import require
from shelfwise.encoders.features import FeatureBatch, ItemFeaturizer

logger = logging.getLogger(__name__)


class FusionConfig(BaseModel):
    """Settings of :class:`FusionProjection`.

    Attributes:
        dim: width of the fused vector.
        hidden: width of the MLP's hidden layer.
        embedding_dim: width of the category and brand embeddings.
        epochs: passes over the co-occurrence pairs.
        batch_size: pairs per step (in-batch negatives = batch_size - 1).
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        temperature: softmax temperature of the contrastive loss.
        modality_dropout: probability of hiding an item's image during training.
        seed: seeds torch and numpy.
        threads: torch threads while training / transforming (restored afterwards). The MLP is tiny: one
            thread was 15x faster than two on this shared 2-core machine (OpenMP spin-waiting).
    """

    model_config = ConfigDict(extra="forbid")

    dim: int = Field(default=256, ge=2)
    hidden: int = Field(default=512, ge=2)
    embedding_dim: int = Field(default=16, ge=1)
    epochs: int = Field(default=5, ge=0)
    batch_size: int = Field(default=512, ge=2)
    lr: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    temperature: float = Field(default=0.05, gt=0)
    modality_dropout: float = Field(default=0.3, ge=0, le=1)
    seed: int = 0
    threads: int | None = Field(default=1, ge=1)


def pairs_from_sequences(sequences: Iterable[Sequence[int]], window: int = 3) -> np.ndarray:
    """Distinct (earlier, later) item pairs that co-occur within ``window`` steps of a session or sequence.

    Args:
        sequences: item indices in order (one sequence per session / user).
        window: how many following items count as co-occurring.

    Returns:
        ``(m, 2)`` int64 array, each unordered pair once, self-pairs dropped.

    Example:
        >>> pairs_from_sequences([[0, 1, 2], [2, 2, 3]], window=1).tolist()
        [[0, 1], [1, 2], [2, 3]]
    """
    seen: set[tuple[int, int]] = set()
    for seq in sequences:
        seq = list(seq)
        for i, a in enumerate(seq):
            for b in seq[i + 1 : i + 1 + window]:
                if a != b:
                    seen.add((min(a, b), max(a, b)))
    return np.array(sorted(seen), dtype=np.int64).reshape(-1, 2)


def _module(
    torch: Any, text_dim: int, image_dim: int, numeric_dim: int, n_cat: int, n_brand: int, cfg: FusionConfig
) -> Any:
    nn = torch.nn

    class _Fusion(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.text = nn.Linear(text_dim, cfg.dim, bias=False)
            nn.init.orthogonal_(self.text.weight)
            self.category = nn.Embedding(n_cat, cfg.embedding_dim)
            self.brand = nn.Embedding(n_brand, cfg.embedding_dim)
            width = text_dim + image_dim + 1 + numeric_dim + 2 * cfg.embedding_dim
            self.mlp = nn.Sequential(nn.Linear(width, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.dim))
            nn.init.zeros_(self.mlp[2].weight)
            nn.init.zeros_(self.mlp[2].bias)

        def forward(self, text: Any, image: Any, present: Any, numeric: Any, cat: Any, brand: Any) -> Any:
            x = torch.cat(
                [text, image * present, present, numeric, self.category(cat), self.brand(brand)], dim=1
            )
            return nn.functional.normalize(self.text(text) + self.mlp(x), dim=-1)

    return _Fusion()


class FusionProjection:
    """Learned fusion of text, image and feature vectors into one unit vector per item.

    Args:
        featurizer: a fitted :class:`~shelfwise.encoders.features.ItemFeaturizer`.
        text_dim: width of the text vectors.
        image_dim: width of the image vectors (0 when no image model is configured).
        config: settings.
    """

    def __init__(
        self,
        featurizer: ItemFeaturizer,
        text_dim: int,
        image_dim: int = 0,
        config: FusionConfig | None = None,
    ) -> None:
        self.config = config or FusionConfig()
        self.featurizer = featurizer
        self.text_dim, self.image_dim = int(text_dim), int(image_dim)
        self._torch = require("torch")
        self._torch.manual_seed(self.config.seed)
        self.net = _module(
            self._torch,
            self.text_dim,
            self.image_dim,
            featurizer.numeric_dim,
            featurizer.n_categories,
            featurizer.n_brands,
            self.config,
        )
        self.history: list[float] = []

    @property
    def dim(self) -> int:
        """Width of the fused vectors."""
        return self.config.dim

    def _tensors(
        self, text: np.ndarray, image: np.ndarray | None, present: np.ndarray | None, feats: FeatureBatch
    ) -> list[Any]:
        torch, n = self._torch, len(text)
        if image is None or self.image_dim == 0:
            image = np.zeros((n, self.image_dim), dtype=np.float32)
            present = np.zeros(n, dtype=bool)
        if present is None:
            present = np.abs(image).sum(1) > 0
        if text.shape[1] != self.text_dim or image.shape[1] != self.image_dim:
            raise ValueError(
                f"expected text dim {self.text_dim} and image dim {self.image_dim}, got {text.shape} / {image.shape}"
            )
        return [
            torch.as_tensor(np.asarray(text, dtype=np.float32)),
            torch.as_tensor(np.asarray(image, dtype=np.float32)),
            torch.as_tensor(np.asarray(present, dtype=np.float32).reshape(-1, 1)),
            torch.as_tensor(feats.numeric),
            torch.as_tensor(feats.category_ids),
            torch.as_tensor(feats.brand_ids),
        ]

    def fit(
        self,
        text: np.ndarray,
        features: FeatureBatch,
        pairs: np.ndarray,
        image: np.ndarray | None = None,
        present: np.ndarray | None = None,
        *,
        show_progress: bool = True,
    ) -> FusionProjection:
        """Train on co-occurring item pairs.

        Args:
            text: ``(n, text_dim)`` text vectors of the catalogue.
            features: features of the same ``n`` items.
            pairs: ``(m, 2)`` item indices that co-occur (see :func:`pairs_from_sequences`).
            image: ``(n, image_dim)`` image vectors, zero rows where missing; ``None`` = no images.
            present: ``(n,)`` which items have an image; ``None`` = rows that are not all zero.
            show_progress: tqdm bar over epochs.

        Returns:
            ``self``; the mean loss of every epoch is in :attr:`history`.
        """
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) < 2:
            logger.warning("fewer than 2 co-occurring pairs: fusion stays at its text-projection start")
            return self
        with self._threads():
            self._fit(text, features, pairs, image, present, show_progress)
        return self

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        torch, before = self._torch, self._torch.get_num_threads()
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _fit(
        self,
        text: np.ndarray,
        features: FeatureBatch,
        pairs: np.ndarray,
        image: np.ndarray | None,
        present: np.ndarray | None,
        show_progress: bool,
    ) -> None:
        torch, cfg = self._torch, self.config
        tensors = self._tensors(text, image, present, features)
        gen = torch.Generator().manual_seed(cfg.seed)
        opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        pair_t = torch.as_tensor(pairs)
        self.net.train()
        for _ in tqdm(range(cfg.epochs), desc="train fusion", disable=not show_progress):
            perm = pair_t[torch.randperm(len(pair_t), generator=gen)]
            total, steps = 0.0, 0
            for start in range(0, len(perm), cfg.batch_size):
                batch = perm[start : start + cfg.batch_size]
                if len(batch) < 2:
                    continue
                a = self._forward_rows(tensors, batch[:, 0], gen, train=True)
                b = self._forward_rows(tensors, batch[:, 1], gen, train=True)
                logits = a @ b.T / cfg.temperature
                target = torch.arange(len(batch))
                loss = (
                    torch.nn.functional.cross_entropy(logits, target)
                    + torch.nn.functional.cross_entropy(logits.T, target)
                ) / 2
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, steps = total + float(loss.detach()), steps + 1
            self.history.append(total / max(steps, 1))
        self.net.eval()
        logger.info(
            "fusion trained on %d pairs; loss per epoch %s", len(pairs), [round(x, 4) for x in self.history]
        )

    def _forward_rows(self, tensors: list[Any], rows: Any, gen: Any, *, train: bool) -> Any:
        text, image, present, numeric, cat, brand = (t[rows] for t in tensors)
        if train and self.config.modality_dropout > 0 and self.image_dim:
            keep = (
                torch_rand := self._torch.rand(len(rows), 1, generator=gen)
            ) >= self.config.modality_dropout
            present = present * keep.to(torch_rand.dtype)
        return self.net(text, image, present, numeric, cat, brand)

    def transform(
        self,
        text: np.ndarray,
        features: FeatureBatch,
        image: np.ndarray | None = None,
        present: np.ndarray | None = None,
        batch_size: int = 4096,
    ) -> np.ndarray:
        """Fused ``(n, dim)`` float32 unit vectors."""
        torch = self._torch
        tensors = self._tensors(text, image, present, features)
        out = np.empty((len(text), self.dim), dtype=np.float32)
        with self._threads(), torch.inference_mode():
            for start in range(0, len(text), batch_size):
                rows = torch.arange(start, min(start + batch_size, len(text)))
                out[start : start + len(rows)] = self._forward_rows(tensors, rows, None, train=False).numpy()
        return out

    def save(self, directory: str | Path) -> None:
        """Write ``fusion.json``, ``features.json`` and ``weights.npz`` into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": self.config.model_dump(),
            "text_dim": self.text_dim,
            "image_dim": self.image_dim,
            "history": self.history,
        }
        (d / "fusion.json").write_text(json.dumps(meta, indent=2))
        self.featurizer.save(d / "features.json")
        arrays = {k: v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        np.savez(d / "weights.npz", **arrays)

    @classmethod
    def load(cls, directory: str | Path) -> FusionProjection:
        """Read what :meth:`save` wrote."""
        d = Path(directory)
        meta = json.loads((d / "fusion.json").read_text())
        out = cls(
            ItemFeaturizer.load(d / "features.json"),
            meta["text_dim"],
            meta["image_dim"],
            FusionConfig(**meta["config"]),
        )
        with np.load(d / "weights.npz", allow_pickle=False) as npz:
            state = {k: out._torch.as_tensor(npz[k]) for k in npz.files}
        out.net.load_state_dict(state)
        out.net.eval()
        out.history = list(meta.get("history", []))
        return out
