"""The two-tower text model as a candidate source: ``lora_text`` (fine-tuned) and ``frozen_text`` (not).

``fit`` renders the catalogue's texts, trains the LoRA adapters on the shopper sequences of the data
(``lora_text`` only) and encodes every item once; ``score_all`` renders each request's recent history as
text, encodes it with the same tower and scores ``cos(history vector, item vector)``. A request with no
history gets no candidates (the pipeline falls back to popular / content). New items can be added by
text after fitting (:meth:`TwoTowerTextSource.add_items`): they are scored like any other item.

Saved as ``manifest.json`` (config, report, versions), ``item_vectors.safetensors``, ``labels.json``
(the short item texts histories are rendered from) and ``adapter/`` (peft's ``adapter_config.json`` +
``adapter_model.safetensors``) — no pickle.

Example:
    >>> source = TwoTowerTextSource(FinetuneConfig(max_steps=100)).fit(data)  # doctest: +SKIP
    >>> source.candidates(UserContext(history=np.array([3, 17])), k=10).items  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from shelfwise.encoded.data import RecommendData
from shelfwise.encoders.base import Encoder
from shelfwise.models.finetune.config import FinetuneConfig
from shelfwise.models.finetune.text import HistoryRenderer, item_documents, item_labels
from shelfwise.models.finetune.tower import TextTower, TowerEncoder
from shelfwise.models.finetune.train import TrainReport, train_tower
from shelfwise.retrieval.base import Candidates, UserContext
from shelfwise.retrieval.scoring import ScoredSource

__all__ = ["FORMAT_VERSION", "TwoTowerTextSource"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class TwoTowerTextSource(ScoredSource):
    """History text -> item text cosine through one shared (LoRA-adapted or frozen) tower.

    Args:
        config: settings; ``config.train`` picks fine-tuned or frozen.
        name: the source name (default ``"lora_text"`` when training, ``"frozen_text"`` when not).
    """

    def __init__(self, config: FinetuneConfig | None = None, name: str | None = None) -> None:
        self.config = config or FinetuneConfig()
        super().__init__(self.config.seed)
        self.name = name or ("lora_text" if self.config.train else "frozen_text")
        self.tower: TextTower | None = None
        self.renderer: HistoryRenderer | None = None
        self.item_vectors: np.ndarray | None = None
        self.report: TrainReport | None = None
        self._encoder: Encoder | None = None

    # -- fitting -----------------------------------------------------------------------------------
    def fit(self, data: RecommendData) -> Self:
        """Train the adapters on ``data``'s train + valid sequences (when ``config.train``), then encode
        the catalogue."""
        documents = item_documents(data.items)
        self.renderer = HistoryRenderer(item_labels(data.items), self.config.render)
        self.tower = TextTower(self.config)
        if self.config.train:
            self.report = train_tower(self.tower, data.train_valid_sequences, documents, self.renderer)
        self._encoder = None
        self.item_vectors = self.encoder.encode_documents(documents, show_progress=True)
        self._set_items(self.item_vectors.shape[0])
        return self

    @property
    def encoder(self) -> Encoder:
        """The tower as an encoder (the frozen one behind the embedding cache when configured)."""
        if self.tower is None:
            raise RuntimeError(f"{self.name} is not fitted")
        if self._encoder is None:
            enc: Encoder = TowerEncoder(self.tower)
            if not self.tower.adapted and self.config.cache_dir is not None:
                from shelfwise.encoders.cache import CachedEncoder

                enc = CachedEncoder(enc, self.config.cache_dir)
            self._encoder = enc
        return self._encoder

    def add_items(self, labels: Sequence[str], documents: Sequence[str]) -> np.ndarray:
        """Append new items (their short label and document text); returns their int32 indices."""
        self._check_fitted()
        assert self.renderer is not None and self.item_vectors is not None
        vectors = self.encoder.encode_documents(list(documents))
        n_old = self.item_vectors.shape[0]
        self.item_vectors = np.vstack([self.item_vectors, vectors])
        self.renderer = HistoryRenderer([*self.renderer.labels, *labels], self.renderer.config)
        self._set_items(self.item_vectors.shape[0])
        return np.arange(n_old, self.item_vectors.shape[0], dtype=np.int32)

    # -- scoring -----------------------------------------------------------------------------------
    def user_vectors(self, contexts: Sequence[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), dim)`` history vectors (zero rows for empty histories)."""
        self._check_fitted()
        assert self.renderer is not None
        texts = self.renderer.render_many([c.history for c in contexts])
        return self.encoder.encode_queries(texts, show_progress=len(texts) >= 1024)

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)`` cosines (rows of zeros for requests with no history)."""
        self._check_fitted()
        assert self.item_vectors is not None
        users = self.user_vectors(contexts)
        return np.asarray(users @ self.item_vectors.T, dtype=np.float32)

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """The ``k`` items closest to the history text (none for an empty history)."""
        self._check_fitted()
        assert self.renderer is not None
        if not self.renderer.render(context.history):
            empty = np.zeros(0, dtype=np.int32)
            return Candidates(self.name, empty, np.zeros(0, dtype=np.float32))
        return super().candidates(context, k)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = self.config.model_dump(mode="json", exclude={"cache_dir"})
        if self.report is not None:
            out["training"] = {k: v for k, v in self.report.as_dict().items() if k != "valid"}
        return out

    # -- persistence -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the fitted source into ``folder`` (see the module doc)."""
        from safetensors.numpy import save_file

        from shelfwise import __version__

        self._check_fitted()
        assert self.tower is not None and self.renderer is not None and self.item_vectors is not None
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {
            "kind": type(self).__name__,
            "format": FORMAT_VERSION,
            "shelfwise": __version__,
            "name": self.name,
            "config": self.config.model_dump(mode="json"),
            "adapted": self.tower.adapted,
            "report": self.report.as_dict() if self.report is not None else None,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        save_file(
            {"item_vectors": np.ascontiguousarray(self.item_vectors)},
            str(folder / "item_vectors.safetensors"),
        )
        (folder / "labels.json").write_text(json.dumps(self.renderer.labels), encoding="utf-8")
        if self.tower.adapted:
            self.tower.save_adapter(folder / "adapter")

    @classmethod
    def load(cls, folder: Path) -> TwoTowerTextSource:
        """Read what :meth:`save` wrote (the base encoder is loaded from ``config.model``)."""
        from safetensors.numpy import load_file

        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("kind") != cls.__name__ or manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: not a {cls.__name__} of format {FORMAT_VERSION}")
        config = FinetuneConfig.model_validate(manifest["config"])
        source = cls(config, manifest["name"])
        source.tower = TextTower(config, folder / "adapter" if manifest["adapted"] else None)
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        source.renderer = HistoryRenderer(labels, config.render)
        source.item_vectors = load_file(str(folder / "item_vectors.safetensors"))["item_vectors"]
        if manifest.get("report"):
            source.report = TrainReport(**manifest["report"])
        source._set_items(source.item_vectors.shape[0])
        return source
