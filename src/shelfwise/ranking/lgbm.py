"""One LightGBM model — ``lambdarank`` for ordering, ``binary`` for click / conversion probability — with early
stopping on a validation fold and ``save(dir)`` / ``load(dir)`` as LightGBM's own text model + JSON.

LightGBM is an optional dependency (``pip install 'shelfwise[ranking]'``), imported on first use.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 2)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.float32)
    >>> cfg = LGBMConfig(objective="binary", n_estimators=20, min_child_samples=5, num_threads=1)
    >>> m = LGBMModel(cfg).fit(x, y, feature_names=("a", "b"))
    >>> bool(m.predict(np.array([[2.0, 0.0]], np.float32))[0] > 0.5)
    True
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.ranking.config import LGBMConfig

__all__ = ["LGBMModel"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.txt"
META_FILE = "model.json"


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the ranker needs LightGBM: pip install 'shelfwise[ranking]'") from exc
    return lightgbm


class LGBMModel:
    """A LightGBM booster with its configuration and feature names.

    Attributes:
        config: the model settings.
        feature_names: column names, in order.
        best_iteration: boosting rounds kept (early stopping), 0 before fitting.
        evals: the validation metric per round (for reports).
    """

    def __init__(self, config: LGBMConfig | None = None) -> None:
        self.config = config or LGBMConfig()
        self.feature_names: tuple[str, ...] = ()
        self.booster: Any = None
        self.best_iteration = 0
        self.evals: list[float] = []

    def _params(self) -> dict[str, Any]:
        c = self.config
        params: dict[str, Any] = {
            "objective": c.objective,
            "learning_rate": c.learning_rate,
            "num_leaves": c.num_leaves,
            "min_child_samples": c.min_child_samples,
            "feature_fraction": c.feature_fraction,
            "bagging_fraction": c.bagging_fraction,
            "bagging_freq": 1 if c.bagging_fraction < 1 else 0,
            "lambda_l2": c.lambda_l2,
            "num_threads": c.num_threads,
            "seed": c.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        if c.objective == "lambdarank":
            params |= {"metric": "ndcg", "eval_at": [c.eval_at]}
        else:
            params |= {"metric": "binary_logloss"}
        return params

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        groups: np.ndarray | None = None,
        valid: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
        feature_names: tuple[str, ...] | None = None,
    ) -> LGBMModel:
        """Train; with ``valid = (x, y, groups)`` stop when its metric stalls ``early_stopping_rounds``.

        Args:
            x: float32 ``(n, n_features)``, NaN for missing.
            y: labels (0/1; graded relevance for lambdarank).
            groups: rows per request, in order (required for lambdarank).
            valid: the early-stopping fold, same layout.
            feature_names: column names (default ``f0, f1, ...``).
        """
        lgb = _lightgbm()
        if self.config.objective == "lambdarank" and groups is None:
            raise ValueError("lambdarank needs the group sizes")
        self.feature_names = tuple(feature_names or (f"f{k}" for k in range(x.shape[1])))
        names = [_safe(n) for n in self.feature_names]
        train = lgb.Dataset(x, label=y, group=groups, feature_name=names, free_raw_data=True)
        sets, callbacks = [], []
        record: dict[str, Any] = {}
        if valid is not None:
            vx, vy, vg = valid
            sets = [lgb.Dataset(vx, label=vy, group=vg, reference=train, feature_name=names)]
            callbacks = [
                lgb.early_stopping(self.config.early_stopping_rounds, verbose=False),
                lgb.record_evaluation(record),
            ]
        self.booster = lgb.train(
            self._params(),
            train,
            num_boost_round=self.config.n_estimators,
            valid_sets=sets,
            valid_names=["valid"] if sets else None,
            callbacks=callbacks,
        )
        self.best_iteration = int(self.booster.best_iteration or self.booster.current_iteration())
        if record:
            self.evals = [float(v) for v in next(iter(record["valid"].values()))]
        log.info("%s: %d rounds kept", self.config.objective, self.best_iteration)
        return self

    def _check(self) -> Any:
        if self.booster is None:
            raise RuntimeError("the model is not fitted")
        return self.booster

    def predict(self, x: np.ndarray) -> np.ndarray:
        """float32 scores: a relevance score (lambdarank) or a probability (binary)."""
        booster = self._check()
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        out = booster.predict(x, num_iteration=self.best_iteration, num_threads=self.config.num_threads)
        return np.asarray(out, dtype=np.float32)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """float32 ``(n, n_features + 1)`` SHAP contributions (raw score scale); the last column is the bias.

        Each row sums to the raw score (for binary models: the log-odds).
        """
        booster = self._check()
        if x.shape[0] == 0:
            return np.zeros((0, len(self.feature_names) + 1), dtype=np.float32)
        out = booster.predict(
            x, num_iteration=self.best_iteration, pred_contrib=True, num_threads=self.config.num_threads
        )
        return np.asarray(out, dtype=np.float32)

    def importance(self, kind: str = "gain") -> dict[str, float]:
        """``{feature: importance}`` (``"gain"`` or ``"split"``), largest first."""
        values = self._check().feature_importance(importance_type=kind, iteration=self.best_iteration)
        pairs = sorted(zip(self.feature_names, values.tolist(), strict=True), key=lambda p: -p[1])
        return {k: float(v) for k, v in pairs}

    def save(self, folder: Path) -> None:
        """Write ``model.txt`` (LightGBM's text format) and ``model.json`` (config, names, iteration)."""
        lgb = _lightgbm()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._check().save_model(str(folder / MODEL_FILE), num_iteration=self.best_iteration)
        meta = {
            "config": self.config.model_dump(),
            "feature_names": list(self.feature_names),
            "best_iteration": self.best_iteration,
            "evals": self.evals,
            "lightgbm": lgb.__version__,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> LGBMModel:
        """Read what :meth:`save` wrote."""
        lgb = _lightgbm()
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        model = cls(LGBMConfig(**meta["config"]))
        model.feature_names = tuple(meta["feature_names"])
        model.booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
        model.best_iteration = int(meta["best_iteration"])
        model.evals = list(meta.get("evals", []))
        return model


def _safe(name: str) -> str:
    """LightGBM forbids some characters in feature names (JSON specials)."""
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name)
