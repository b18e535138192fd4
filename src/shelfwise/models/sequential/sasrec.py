"""The SASRec network: item embeddings (ID, text projection, or both), a causal transformer, tied output.

Item vector of item ``i`` (the same table is used to read the input and to score the output)::

    id:       e_i                          a free embedding
    text:     P(t_i)                       P = learned projection of the frozen text vector t_i
    text+id:  P(t_i) + m_i * e_i           e_i zero-initialised; m_i = 0 for items never trained on

``m_i`` is also 0 with probability ``id_dropout`` per batch during training, so a text-only vector is
something the model has learned to score — which is what a new item gets. The score of item ``i`` after
input ``s_1..s_t`` is::

    h_t . v_i  +  rho * [i in s_1..s_t]  +  sum_{r < R} beta_r * gain(s_{t-r}, i)

``rho`` (repeat bias) and ``beta_r`` (text-neighbour bias of the ``r``-th most recent item) are learned
scalars; ``gain(j, i) > 0`` only when ``i`` is among the ``k`` nearest text neighbours of ``j``
(:mod:`~shelfwise.models.sequential.neighbours`). The neighbour term carries fine-grained title
similarity ("same line, another shade") that a ``hidden``-wide projection blurs, and it reaches new items.

Imported only by code that needs torch (``pip install 'shelfwise[encoders]'``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from shelfwise.models.sequential.config import SequentialConfig
from shelfwise.models.sequential.neighbours import text_neighbours

__all__ = ["BIAS_SCALE", "SASRec"]

#: The repeat and neighbour biases are this times their raw parameters: Adam moves a parameter by about
#: ``lr`` per step, and a useful bias is several logits large, so the scale gets it there in an epoch.
BIAS_SCALE = 10.0


class _Block(nn.Module):
    """Pre-norm transformer block with causal self-attention."""

    def __init__(self, hidden: int, heads: int, ffn: int, dropout: float, attn_dropout: float) -> None:
        super().__init__()
        self.heads, self.attn_dropout = heads, attn_dropout
        self.ln1 = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(
            nn.Linear(hidden, ffn), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn, hidden)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        b, length, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, length, 3, self.heads, d // self.heads).unbind(2)
        a = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            attn_mask=allowed,
            dropout_p=self.attn_dropout if self.training else 0.0,
        )
        x = x + self.drop(self.out(a.transpose(1, 2).reshape(b, length, d)))
        return x + self.drop(self.ffn(self.ln2(x)))


class SASRec(nn.Module):
    """Self-attentive sequential recommender over ``n_items`` items.

    Args:
        config: architecture settings.
        n_items: catalogue size; index ``n_items`` is padding, ``n_items + 1`` the mask token.
        text_vectors: float32 ``(n_items, text_dim)`` frozen text vectors (needed when
            ``config.uses_text``).
        compute_neighbours: build the text-neighbour lists from ``text_vectors`` (off when a state dict
            will be loaded over them).
    """

    def __init__(
        self,
        config: SequentialConfig,
        n_items: int,
        text_vectors: torch.Tensor | None = None,
        compute_neighbours: bool = True,
    ) -> None:
        super().__init__()
        self.config, self.n_items = config, n_items
        d = config.hidden
        mode = config.item_embedding
        if config.uses_text:
            if text_vectors is None or text_vectors.shape[0] != n_items:
                raise ValueError(f"{config.label} needs text vectors for all {n_items} items")
            self.text: torch.Tensor
            self.register_buffer("text", text_vectors.detach().to(torch.float32).clone())
            width = int(text_vectors.shape[1])
        if mode != "id":
            if config.text_projection == "mlp":
                self.proj: nn.Module = nn.Sequential(nn.Linear(width, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
            else:
                self.proj = nn.Linear(width, d)
        if mode != "text":
            self.item_emb = nn.Embedding(n_items, d)
            if mode == "text+id":
                nn.init.zeros_(self.item_emb.weight)
            else:
                nn.init.normal_(self.item_emb.weight, std=1.0 / math.sqrt(d))
        self.special = nn.Embedding(2, d)  # padding, mask token
        self.pos = nn.Embedding(config.max_len, d)
        self.emb_drop = nn.Dropout(config.emb_dropout)
        self.emb_norm = nn.LayerNorm(d)
        self.blocks = nn.ModuleList(
            _Block(d, config.heads, config.ffn_mult * d, config.dropout, config.attn_dropout)
            for _ in range(config.layers)
        )
        self.final_norm = nn.LayerNorm(d)
        self.repeat_raw = nn.Parameter(torch.zeros(1)) if config.repeat_bias else None
        k = config.text_neighbours
        self.nbr_raw = nn.Parameter(torch.zeros(config.neighbour_window)) if k else None
        self.nbr_idx: torch.Tensor
        self.nbr_gain: torch.Tensor
        self.register_buffer("nbr_idx", torch.zeros(n_items, k, dtype=torch.int64))
        self.register_buffer("nbr_gain", torch.zeros(n_items, k))
        if k and compute_neighbours:
            self.nbr_idx, self.nbr_gain = text_neighbours(self.text, k)
        # items the ID residual applies to (1) or not (0: never trained on): set by the trainer
        self.id_mask: torch.Tensor
        self.register_buffer("id_mask", torch.ones(n_items))

    @property
    def repeat(self) -> torch.Tensor | None:
        """The learned score offset of items already in the input (``None`` when switched off)."""
        return None if self.repeat_raw is None else BIAS_SCALE * self.repeat_raw

    @property
    def neighbour_weights(self) -> torch.Tensor | None:
        """``(R,)`` learned weights of the text-neighbour bias, most recent input item first."""
        return None if self.nbr_raw is None else BIAS_SCALE * self.nbr_raw

    def item_table(self, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``(n_items, hidden)`` item vectors; ``keep`` (0/1 per item) overrides the residual mask."""
        mode = self.config.item_embedding
        if mode == "id":
            return self.item_emb.weight
        table = self.proj(self.text)
        if mode == "text+id":
            mask = self.id_mask if keep is None else self.id_mask * keep
            table = table + mask[:, None] * self.item_emb.weight
        return table

    def item_rows(self, items: torch.Tensor) -> torch.Tensor:
        """``item_table()[items]`` computed for those rows only (``items`` in ``[0, n_items)``; no ID dropout):
        what a per-sample gradient needs without touching the whole catalogue."""
        mode = self.config.item_embedding
        if mode == "id":
            return self.item_emb.weight[items]
        rows = self.proj(self.text[items])
        if mode == "text+id":
            rows = rows + self.id_mask[items][..., None] * self.item_emb.weight[items]
        return rows

    def encode(self, inputs: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(B, L, hidden)`` of left-padded inputs ``(B, L)`` (``L <= max_len``)."""
        full = torch.cat([table, self.special.weight], dim=0)
        return self.encode_vectors(full[inputs], inputs != self.n_items)

    def encode_vectors(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(B, L, hidden)`` of input vectors ``x`` ``(B, L, hidden)``; ``real`` ``(B, L)`` is
        False at padding."""
        length = x.shape[1]
        x = x + self.pos.weight[self.config.max_len - length :][None]
        x = self.emb_drop(self.emb_norm(x))
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).tril()
        allowed = causal[None] & real[:, None, :]
        allowed = allowed | torch.eye(length, dtype=torch.bool, device=x.device)[None]
        allowed = allowed[:, None]  # (B, 1, L, L): broadcast over heads
        for block in self.blocks:
            x = block(x, allowed)
        return self.final_norm(x)

    def loss(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        keep: torch.Tensor | None = None,
        norm: float | None = None,
    ) -> torch.Tensor:
        """Cross-entropy over all items at every non-padded position.

        Args:
            inputs: ``(B, L)`` left-padded item indices.
            targets: ``(B, L)`` next items, ``-100`` where there is no loss.
            keep: optional 0/1 per item: ID residuals kept this step (``id_dropout``).
            norm: divide the summed loss by this (e.g. the mean number of positions per batch, so that
                every position weighs the same whichever batch it is in); ``None``: the batch mean.
        """
        table = self.item_table(keep)
        h = self.encode(inputs, table)
        valid = targets.reshape(-1) >= 0
        hv = h.reshape(-1, h.shape[-1])[valid]
        if self.config.logits_dtype == "bfloat16":
            logits = (hv.to(torch.bfloat16) @ table.to(torch.bfloat16).T).float()
        else:
            logits = hv @ table.T
        repeat = self.repeat
        if repeat is not None:
            rows, cols = self._seen_pairs(inputs, valid)
            logits.index_put_((rows, cols), repeat.expand(rows.numel()), accumulate=True)
        if self.nbr_raw is not None:
            rows, cols, vals = self._neighbour_terms(inputs, valid)
            logits.index_put_((rows, cols), vals, accumulate=True)
        if norm is None:
            return F.cross_entropy(logits, targets.reshape(-1)[valid])
        return F.cross_entropy(logits, targets.reshape(-1)[valid], reduction="sum") / norm

    def _seen_pairs(self, inputs: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(row, item)`` pairs: the distinct input items up to each valid position (rows count valid
        positions in order)."""
        b, length = inputs.shape
        real = inputs < self.n_items
        same = inputs[:, :, None] == inputs[:, None, :]
        earlier = torch.ones(length, length, dtype=torch.bool, device=inputs.device).tril(-1)
        first = real & ~(same & earlier[None]).any(-1)  # first occurrence of a real item
        upto = torch.ones(length, length, dtype=torch.bool, device=inputs.device).tril()
        pairs = upto[None] & first[:, None, :] & valid.view(b, length, 1)  # (b, t, j)
        bi, ti, ji = pairs.nonzero(as_tuple=True)
        row_of = torch.cumsum(valid.long(), 0) - 1  # flat position -> valid row
        return row_of[bi * length + ti], inputs[bi, ji]

    def _neighbour_terms(
        self, inputs: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(row, item, value)`` of the text-neighbour bias at each valid position (rows as in
        :meth:`_seen_pairs`)."""
        assert self.nbr_raw is not None
        b, length = inputs.shape
        window = self.nbr_raw.shape[0]
        src = torch.full((b, length, window), self.n_items, dtype=inputs.dtype, device=inputs.device)
        for r in range(min(window, length)):
            src[:, r:, r] = inputs[:, : length - r]  # the r-th most recent input item at position t
        ok = (src < self.n_items) & valid.view(b, length, 1)
        bi, ti, ri = ok.nonzero(as_tuple=True)
        items = src[bi, ti, ri]
        row_of = torch.cumsum(valid.long(), 0) - 1
        k = self.nbr_idx.shape[1]
        rows = row_of[bi * length + ti][:, None].expand(-1, k)
        vals = (BIAS_SCALE * self.nbr_raw)[ri][:, None] * self.nbr_gain[items]
        return rows.reshape(-1), self.nbr_idx[items].reshape(-1), vals.reshape(-1)

    def bias_scores(self, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The repeat and text-neighbour terms ``(B, n_items)`` of the next-item scores (present ones)."""
        out: dict[str, torch.Tensor] = {}
        b = inputs.shape[0]
        repeat = self.repeat
        if repeat is not None:
            seen = torch.zeros(b, self.n_items + 1, device=inputs.device)
            seen.scatter_(1, torch.where(inputs >= self.n_items, self.n_items, inputs), 1.0)
            out["repeat"] = repeat * seen[:, : self.n_items]
        if self.nbr_raw is not None:
            last = torch.zeros_like(inputs, dtype=torch.bool)
            last[:, -1] = True
            rows, cols, vals = self._neighbour_terms(inputs, last.reshape(-1))
            nbr = torch.zeros(b, self.n_items, device=inputs.device)
            nbr.index_put_((rows, cols), vals, accumulate=True)
            out["neighbours"] = nbr
        return out

    def score_last(self, inputs: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, n_items)`` of the next item after each left-padded input sequence."""
        table = self.item_table()
        scores = self.encode(inputs, table)[:, -1] @ table.T
        for part in self.bias_scores(inputs).values():
            scores = scores + part
        return scores
