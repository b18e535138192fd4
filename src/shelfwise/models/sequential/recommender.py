"""A fitted sequential recommender: scoring for the evaluation harness and for serving, save / load.

Two ways to score:

* ``score_sequences(sequences)``: any list of item-index sequences (time order) -> float32
  ``(len(sequences), n_items)``. This is what serving calls with a shopper's recent items.
* ``score(user_indices, history)``: the harness interface. The CSR history has no order, so the
  model scores from the ordered sequences it holds per user (:meth:`with_user_sequences` swaps
  them, e.g. train-only sequences for validation, train + valid for test).

Saved as ``config.json`` (settings, sizes, format version, training report), ``weights.safetensors``
(the network, text vectors and neighbour lists included), ``item_counts.npy`` and optionally
``item_ids.npy`` (unicode array), the user sequences (``user_offsets.npy`` / ``user_items.npy``) and
their ``user_ids.npy``. No pickle.

Example:
    >>> model = SequentialRecommender.load(path)  # doctest: +SKIP
    >>> model.score_sequences([np.array([3, 17, 5])]).shape  # doctest: +SKIP
    (1, 12101)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from shelfwise import __version__
from shelfwise.models.sequential.config import SequentialConfig
from shelfwise.models.sequential.data import concat_sequences, pad_left

if TYPE_CHECKING:
    from shelfwise.models.sequential.sasrec import SASRec

__all__ = ["FORMAT_VERSION", "SequentialHit", "SequentialRecommender"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SequentialHit:
    """One recommended item and where its score came from.

    Attributes:
        item: dense item index.
        score: total score (the sum of ``parts``).
        source: the candidate source, ``"sequential"``.
        parts: score parts: ``sequence`` (transformer state . item vector), ``repeat`` (the learned
            offset of an item already in the input) and ``neighbours`` (the learned boost of items whose
            text is close to a recent input item's), each present when the model has it.
        because: the input item whose vector is most similar to this item's (for "because you
            viewed ..." explanations), ``-1`` for an empty input.
        cold: the item had no training interactions (scored from its text vector alone).
    """

    item: int
    score: float
    source: str = "sequential"
    parts: dict[str, float] = field(default_factory=dict)
    because: int = -1
    cold: bool = False


class SequentialRecommender:
    """A trained :class:`~shelfwise.models.sequential.sasrec.SASRec` with what is needed to use it.

    Args:
        config: the settings it was trained with.
        network: the trained torch module (put in eval mode).
        item_counts: int64 ``(n_items,)`` training interactions per item (0 = cold item).
        user_sequences: per user index, the ordered items scored by :meth:`score`.
        item_ids: external ids in index order (for the serving edge), optional.
        report: training facts (epochs, validation history, seconds), JSON-ready.
        user_ids: external ids of the users of ``user_sequences``, optional.
    """

    def __init__(
        self,
        config: SequentialConfig,
        network: SASRec,
        item_counts: np.ndarray,
        user_sequences: Sequence[np.ndarray] | None = None,
        item_ids: np.ndarray | None = None,
        report: dict[str, Any] | None = None,
        user_ids: np.ndarray | None = None,
    ) -> None:
        self.config, self.network = config, network.eval()
        self.item_counts = np.asarray(item_counts, dtype=np.int64)
        self.user_sequences: list[np.ndarray] = [np.asarray(s, dtype=np.int32) for s in user_sequences or []]
        self.item_ids = item_ids
        self.user_ids = user_ids
        self.report = dict(report or {})
        self.name = config.label
        self._table: np.ndarray | None = None
        self._positions: dict[str, int] | None = None

    @property
    def n_items(self) -> int:
        """Catalogue size (width of the score arrays)."""
        return int(self.network.n_items)

    def with_user_sequences(
        self,
        user_sequences: Sequence[np.ndarray],
        name: str | None = None,
        user_ids: np.ndarray | None = None,
    ) -> SequentialRecommender:
        """The same network scoring from other per-user sequences (shares the weights)."""
        out = SequentialRecommender(
            self.config, self.network, self.item_counts, user_sequences, self.item_ids, self.report, user_ids
        )
        out.name = name or self.name
        return out

    def score_sequences(self, sequences: Sequence[np.ndarray], batch_size: int = 1024) -> np.ndarray:
        """float32 ``(len(sequences), n_items)`` next-item scores; an empty sequence scores from nothing
        but position (a popularity-like prior)."""
        import torch

        out = np.empty((len(sequences), self.n_items), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                chunk = [np.asarray(s, dtype=np.int64) for s in sequences[start : start + batch_size]]
                for s in chunk:
                    if s.size and (s.min() < 0 or s.max() >= self.n_items):
                        raise IndexError(f"item index outside 0..{self.n_items - 1}")
                inputs = torch.from_numpy(pad_left(chunk, self.config.max_len, self.n_items))
                out[start : start + len(chunk)] = self.network.score_last(inputs).numpy()
        return out

    def score_parts(self, sequences: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """The additive parts of :meth:`score_sequences`: ``sequence`` and, when the model has them,
        ``repeat`` and ``neighbours``; each float32 ``(len(sequences), n_items)``."""
        import torch

        chunk = [np.asarray(s, dtype=np.int64) for s in sequences]
        with torch.inference_mode():
            inputs = torch.from_numpy(pad_left(chunk, self.config.max_len, self.n_items))
            table = self.network.item_table()
            parts = {"sequence": self.network.encode(inputs, table)[:, -1] @ table.T}
            parts.update(self.network.bias_scores(inputs))
            return {name: p.numpy().astype(np.float32) for name, p in parts.items()}

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """Harness interface: scores from the held ordered sequences of ``user_indices``.

        ``history`` is not read (it has no order); users without a held sequence raise ``IndexError``.
        """
        users = np.asarray(user_indices, dtype=np.int64)
        if users.size and (users.min() < 0 or users.max() >= len(self.user_sequences)):
            raise IndexError(f"user index outside the {len(self.user_sequences)} held sequences")
        return self.score_sequences([self.user_sequences[u] for u in users])

    def item_vectors(self) -> np.ndarray:
        """float32 ``(n_items, hidden)`` output item vectors (for an ANN index or "similar items")."""
        if self._table is None:
            import torch

            with torch.inference_mode():
                self._table = self.network.item_table().numpy().astype(np.float32)
        return self._table

    def clear_cache(self) -> None:
        """Forget the cached item vectors (call after changing the weights)."""
        self._table = None

    def encode_items(self, external_ids: Sequence[str], unknown: int = -1) -> np.ndarray:
        """int32 indices of external item ids (``unknown`` for ids not in the catalogue); needs ``item_ids``."""
        if self.item_ids is None:
            raise ValueError("this model was trained without item_ids")
        if self._positions is None:
            self._positions = {str(i): k for k, i in enumerate(self.item_ids.tolist())}
        return np.array([self._positions.get(str(i), unknown) for i in external_ids], dtype=np.int32)

    def add_items(self, item_ids: Sequence[str], text_vectors: np.ndarray) -> SequentialRecommender:
        """A copy whose catalogue also holds new items, scored from their text vectors alone.

        New items get index ``n_items, n_items + 1, ...`` (append-only, so stored sequences stay valid);
        they have no ID residual and count as cold. Needs a model that reads text (text embeddings or the
        text-neighbour bias); with ID embeddings only, new items are reached through the neighbour bias.

        Args:
            item_ids: external ids of the new items (must not be known yet).
            text_vectors: float32 ``(len(item_ids), text_dim)`` from the encoder the model was trained with.
        """
        import torch

        from shelfwise.models.sequential.neighbours import merge_neighbours
        from shelfwise.models.sequential.sasrec import SASRec

        if not self.config.uses_text:
            raise ValueError("an ID-only model without text cannot score new items: use 'text+id'")
        vectors = torch.from_numpy(np.asarray(text_vectors, dtype=np.float32))
        if vectors.ndim != 2 or vectors.shape != (len(item_ids), self.network.text.shape[1]):
            raise ValueError(f"text_vectors must be ({len(item_ids)}, {self.network.text.shape[1]})")
        known = set(self.item_ids.tolist()) if self.item_ids is not None else set()
        if known & set(item_ids):
            raise ValueError("some items are already in the catalogue")
        k, n = len(item_ids), self.n_items
        network = SASRec(
            self.config, n + k, torch.cat([self.network.text, vectors]), compute_neighbours=False
        )
        state = dict(self.network.state_dict())
        state["text"] = network.text
        state["id_mask"] = torch.cat([self.network.id_mask, torch.zeros(k)])
        state["nbr_idx"], state["nbr_gain"] = merge_neighbours(
            self.network.nbr_idx, self.network.nbr_gain, network.text
        )
        if "item_emb.weight" in state:
            state["item_emb.weight"] = torch.cat(
                [state["item_emb.weight"], torch.zeros(k, self.config.hidden)]
            )
        network.load_state_dict(state)
        ids = (
            None
            if self.item_ids is None
            else np.concatenate([self.item_ids, np.asarray(item_ids, dtype=str)])
        )
        counts = np.concatenate([self.item_counts, np.zeros(k, dtype=np.int64)])
        out = SequentialRecommender(
            self.config, network, counts, self.user_sequences, ids, self.report, self.user_ids
        )
        out.name = self.name
        return out

    def recommend(
        self, sequences: Sequence[np.ndarray], k: int = 10, *, exclude_input: bool = False
    ) -> list[list[SequentialHit]]:
        """Top-``k`` hits per sequence with their score parts (ties in index order: for serving only).

        Args:
            sequences: ordered item indices per request.
            k: hits per request.
            exclude_input: drop items already in the input (a business rule, not the model).
        """
        parts = self.score_parts(sequences)
        scores = np.sum(list(parts.values()), axis=0)
        table = self.item_vectors()
        out: list[list[SequentialHit]] = []
        for r, (row, seq) in enumerate(zip(scores, sequences, strict=True)):
            s = np.asarray(seq, dtype=np.int64)
            seen = np.zeros(self.n_items, dtype=bool)
            seen[s] = True
            if exclude_input:
                row = np.where(seen, -np.inf, row)
            kk = min(k, self.n_items)
            top = np.argpartition(-row, kk - 1)[:kk]
            top = top[np.argsort(-row[top], kind="stable")]
            top = top[np.isfinite(row[top])]
            sims = table[top] @ table[s].T if s.size else np.zeros((top.size, 0), dtype=np.float32)
            hits = []
            for j, item in enumerate(top):
                hits.append(
                    SequentialHit(
                        item=int(item),
                        score=float(row[item]),
                        parts={name: float(p[r, item]) for name, p in parts.items()},
                        because=int(s[int(np.argmax(sims[j]))]) if s.size else -1,
                        cold=bool(self.item_counts[item] == 0),
                    )
                )
            out.append(hits)
        return out

    # -- persistence -------------------------------------------------------------------------------
    def save(self, directory: Path | str, *, include_user_sequences: bool = True) -> Path:
        """Write the model into ``directory`` (created); returns it."""
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = {
            "format_version": FORMAT_VERSION,
            "shelfwise_version": __version__,
            "name": self.name,
            "config": self.config.model_dump(mode="json"),
            "n_items": self.n_items,
            "text_dim": int(self.network.text.shape[1]) if self.config.uses_text else None,
            "report": self.report,
        }
        (d / "config.json").write_text(json.dumps(meta, indent=2, default=float), encoding="utf-8")
        state = {k: v.detach().contiguous() for k, v in self.network.state_dict().items()}
        save_file(state, str(d / "weights.safetensors"))
        np.save(d / "item_counts.npy", self.item_counts, allow_pickle=False)
        if self.item_ids is not None:
            np.save(d / "item_ids.npy", np.asarray(self.item_ids, dtype=str), allow_pickle=False)
        if include_user_sequences and self.user_sequences:
            offsets, flat = concat_sequences(self.user_sequences)
            np.save(d / "user_offsets.npy", offsets, allow_pickle=False)
            np.save(d / "user_items.npy", flat, allow_pickle=False)
            if self.user_ids is not None:
                np.save(d / "user_ids.npy", np.asarray(self.user_ids, dtype=str), allow_pickle=False)
        return d

    @classmethod
    def load(cls, directory: Path | str) -> SequentialRecommender:
        """Read a model written by :meth:`save`."""
        import torch
        from safetensors.torch import load_file

        from shelfwise.models.sequential.sasrec import SASRec

        d = Path(directory)
        meta = json.loads((d / "config.json").read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{d}: format version {meta.get('format_version')}, expected {FORMAT_VERSION}")
        config = SequentialConfig.model_validate(meta["config"])
        n_items = int(meta["n_items"])
        text = torch.zeros(n_items, int(meta["text_dim"])) if config.uses_text else None
        network = SASRec(config, n_items, text, compute_neighbours=False)
        network.load_state_dict(load_file(str(d / "weights.safetensors")))
        counts = np.load(d / "item_counts.npy", allow_pickle=False)
        ids = np.load(d / "item_ids.npy", allow_pickle=False) if (d / "item_ids.npy").exists() else None
        seqs: list[np.ndarray] = []
        if (d / "user_offsets.npy").exists():
            offsets = np.load(d / "user_offsets.npy", allow_pickle=False)
            flat = np.load(d / "user_items.npy", allow_pickle=False)
            seqs = [flat[offsets[k] : offsets[k + 1]] for k in range(offsets.size - 1)]
        users = np.load(d / "user_ids.npy", allow_pickle=False) if (d / "user_ids.npy").exists() else None
        model = cls(config, network, counts, seqs, ids, meta.get("report"), users)
        model.name = meta.get("name", model.name)
        return model
