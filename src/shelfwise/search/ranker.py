"""The learned search re-ranker: LightGBM lambdarank over the features of :mod:`~shelfwise.search.features`,
with the fine-tuned cross-encoder(s) of :mod:`~shelfwise.search.cross_encoder` as one feature.

At request time the pipeline hands over the top ``config.depth`` candidates; the cross-encoder scores the
best ``cross_encoder.depth`` of them (by fused retrieval score, the rest get the lowest score seen), the
features are assembled and LightGBM orders them. Several cross-encoders (the halves of a cross-fit) are
averaged.

Saved as ``save(dir)``: ``lgbm.txt`` (LightGBM's text model), ``ce-0/``, ``ce-1/``... and ``ranker.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise._optional import require
from shelfwise.search.config import CrossEncoderConfig, RankerConfig
from shelfwise.search.features import FEATURES, feature_matrix, prf_cosine

log = logging.getLogger(__name__)

_MODEL = "lgbm.txt"
_MAX_GAIN = 3


def _lightgbm() -> Any:
    return require("lightgbm", "ranking")


def constraint_matches(pipe: Any, parsed: Any, item_ids: Sequence[str]) -> np.ndarray:
    """``(n, 3)``: item meets the query's brand / colour / category (1 or 0; 0.5 when the query names none)."""
    out = np.full((len(item_ids), 3), 0.5, np.float32)
    if parsed is None:
        return out
    checks = [
        ("brand", list(parsed.brands)),
        ("colour", list(parsed.colours)),
        ("category", list(parsed.categories)),
    ]
    for col, (key, values) in enumerate(checks):
        if values:
            test = pipe.catalog.predicate({key: values})
            out[:, col] = [float(test(i)) for i in item_ids]
    return out


class SearchRanker:
    """LightGBM over search features, with optional cross-encoders.

    Args:
        config: ranker settings.
        ce_config: cross-encoder settings (``depth``, ``enabled``).
        model: a fitted LightGBM booster, or ``None`` (fused order).
        cross_encoders: fine-tuned cross-encoders (averaged), possibly none.
        fusion_weights: learned linear fusion weights of the retrieval scores (``None`` = RRF).
    """

    def __init__(
        self,
        config: RankerConfig | None = None,
        ce_config: CrossEncoderConfig | None = None,
        model: Any = None,
        cross_encoders: Sequence[Any] = (),
        fusion_weights: Sequence[float] | None = None,
    ) -> None:
        self.config = config or RankerConfig()
        self.ce_config = ce_config or CrossEncoderConfig()
        self.model = model
        self.cross_encoders = list(cross_encoders)
        self.fusion_weights = list(fusion_weights) if fusion_weights is not None else None
        self.best_iteration = 0

    @property
    def uses_cross_encoder(self) -> bool:
        """Whether a cross-encoder score is computed at request time."""
        return bool(self.cross_encoders) and self.ce_config.enabled

    # -- features --------------------------------------------------------------------------------------
    def cross_scores(
        self,
        pipe: Any,
        text: str,
        cands: Any,
        encoders: Sequence[Any] | None = None,
        depth: int | None = -1,
        positions: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Mean cross-encoder score of the best ``depth`` candidates by fused score (default
        ``ce_config.depth``; ``None`` = every candidate) or of the given ``positions``; the others get
        the lowest score seen."""
        encoders = self.cross_encoders if encoders is None else encoders
        if not encoders or not self.ce_config.enabled or not len(cands):
            return None
        depth = self.ce_config.depth if depth == -1 else depth
        if positions is not None:
            top = np.asarray(positions, dtype=np.int64)
        else:
            top = cands.order()[:depth] if depth is not None else np.arange(len(cands))
        titles = [pipe.catalog.title(cands.ids[i]) for i in top]
        scored = np.mean([ce.score(text, titles) for ce in encoders], axis=0)
        out = np.full(len(cands), float(scored.min()) if len(scored) else 0.0, np.float32)
        out[top] = scored
        return out

    def features(
        self, pipe: Any, text: str, parsed: Any, cands: Any, affinity: np.ndarray, ce: np.ndarray | None
    ) -> np.ndarray:
        """The feature matrix of one query's candidates."""
        matched = pipe.matcher.match(text, cands.ids)
        pop = np.array(
            [pipe.catalog.items[i].popularity if i in pipe.catalog.items else 0.0 for i in cands.ids],
            np.float32,
        )
        title_cos = np.zeros(len(cands), np.float32)
        prf: dict[str, np.ndarray] = {}
        if len(cands):
            order = cands.order()
            prf["dense"] = prf_cosine(pipe.retriever.vector_index.get_vectors(cands.ids), order)
            if pipe.title_index is not None:
                known = np.array([i in pipe.title_index for i in cands.ids], bool)
                ids = [i for i, k in zip(cands.ids, known, strict=True) if k]
                if ids:
                    titles = np.zeros((len(cands), pipe.title_index.dim), np.float32)
                    titles[known] = pipe.title_index.get_vectors(ids)
                    title_cos = titles @ pipe.retriever.encode([text])[0]
                    prf["title"] = prf_cosine(titles, order)
        return feature_matrix(
            cands, title_cos, matched, constraint_matches(pipe, parsed, cands.ids), pop, affinity, ce, prf
        )

    def score(
        self, pipe: Any, text: str, parsed: Any, cands: Any, affinity: np.ndarray, ce_depth: int | None = -1
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores of the candidates (higher = better) and the parts shown in the breakdown.

        ``ce_depth``: candidates the cross-encoder reads (default ``ce_config.depth``, ``None`` = all).
        """
        ce = self.cross_scores(pipe, text, cands, depth=ce_depth)
        x = self.features(pipe, text, parsed, cands, affinity, ce)
        scores = self.predict(x) if self.model is not None else cands.fused.astype(np.float32)
        extra = {"ranker": scores}
        if ce is not None:
            extra["cross_encoder"] = ce
        return scores.astype(np.float64), extra

    # -- training --------------------------------------------------------------------------------------
    def fit(
        self, groups: Sequence[tuple[np.ndarray, np.ndarray]], owners: Sequence[str] | None = None
    ) -> SearchRanker:
        """Fit LightGBM lambdarank on ``(features, gains)`` groups, gains linear in ``[0, MAX_GAIN]``.

        Labels are gains in thirds (``rint(3 * gain)``) with a linear label gain, so the objective is the
        graded NDCG the judgements define. A ``valid_fraction`` of the owners (queries; several groups may
        share one) is held out for early stopping.
        """
        lgb = _lightgbm()
        c = self.config
        owners = list(owners) if owners is not None else [str(n) for n in range(len(groups))]
        names = sorted(set(owners))
        rng = np.random.default_rng(c.seed)
        held = (
            set(rng.permutation(names)[: max(1, round(len(names) * c.valid_fraction))])
            if len(names) > 4 and c.valid_fraction > 0
            else set()
        )

        def dataset(idx: list[int], reference: Any = None) -> Any:
            x = np.concatenate([groups[i][0] for i in idx])
            y = np.concatenate(
                [np.clip(np.rint(3 * np.asarray(groups[i][1])), 0, 3 * _MAX_GAIN) for i in idx]
            )
            return lgb.Dataset(
                x,
                label=y,
                group=[len(groups[i][0]) for i in idx],
                feature_name=list(FEATURES),
                reference=reference,
                free_raw_data=True,
            )

        train = dataset([i for i, o in enumerate(owners) if o not in held])
        valid_idx = [i for i, o in enumerate(owners) if o in held]
        params = {
            "objective": "lambdarank",
            "label_gain": [g / 3 for g in range(3 * _MAX_GAIN + 1)],
            "metric": "ndcg",
            "eval_at": [10],
            "learning_rate": c.learning_rate,
            "num_leaves": c.num_leaves,
            "min_child_samples": c.min_child_samples,
            "feature_fraction": c.feature_fraction,
            "num_threads": c.threads,
            "seed": c.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        callbacks, sets = [], []
        if valid_idx:
            sets = [dataset(valid_idx, train)]
            callbacks = [lgb.early_stopping(c.early_stopping_rounds, verbose=False)]
        self.model = lgb.train(
            params, train, num_boost_round=c.n_estimators, valid_sets=sets, callbacks=callbacks
        )
        self.best_iteration = int(self.model.best_iteration or self.model.current_iteration())
        log.info("search ranker: %d boosting rounds kept", self.best_iteration)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """LightGBM scores of feature rows."""
        if self.model is None or not len(x):
            return np.zeros(len(x), np.float32)
        return np.asarray(
            self.model.predict(x, num_iteration=self.best_iteration, num_threads=self.config.threads),
            np.float32,
        )

    def importance(self) -> dict[str, float]:
        """Gain importance per feature, largest first (empty before fitting)."""
        if self.model is None:
            return {}
        values = self.model.feature_importance(importance_type="gain", iteration=self.best_iteration)
        return dict(sorted(zip(FEATURES, map(float, values), strict=True), key=lambda kv: -kv[1]))

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write the LightGBM model, the cross-encoders and the settings."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save_model(str(d / _MODEL), num_iteration=self.best_iteration)
        for n, ce in enumerate(self.cross_encoders):
            ce.save(d / f"ce-{n}")
        meta = {
            "config": self.config.model_dump(),
            "cross_encoder": self.ce_config.model_dump(),
            "cross_encoders": len(self.cross_encoders),
            "features": list(FEATURES),
            "best_iteration": self.best_iteration,
            "fusion_weights": self.fusion_weights,
        }
        (d / "ranker.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> SearchRanker:
        """Read what :meth:`save` wrote."""
        d = Path(directory)
        meta = json.loads((d / "ranker.json").read_text())
        if meta.get("features") != list(FEATURES):
            raise ValueError(f"{d}: the ranker was trained on other features; retrain it")
        model = None
        if (d / _MODEL).is_file():
            model = _lightgbm().Booster(model_file=str(d / _MODEL))
        ces = []
        if meta.get("cross_encoders"):
            from shelfwise.search.cross_encoder import CrossEncoder

            ces = [CrossEncoder.load(d / f"ce-{n}") for n in range(meta["cross_encoders"])]
        out = cls(
            RankerConfig(**meta["config"]),
            CrossEncoderConfig(**meta["cross_encoder"]),
            model,
            ces,
            meta.get("fusion_weights"),
        )
        out.best_iteration = int(meta.get("best_iteration", 0))
        return out
