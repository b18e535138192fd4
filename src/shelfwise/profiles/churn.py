"""Churn risk: the probability that a shopper has no event within a horizon, from profile state alone.

Features are read from the incremental state at a time ``now`` (recency, tenure, frequency, decayed
activity, funnel shares), so scoring costs microseconds in the serving path. The model is an L2-penalised
logistic regression on standardised features, fitted by Newton's method (IRLS) in numpy: deterministic,
no extra dependency, saved as JSON.

Training uses time cuts: for a cut ``c``, features come from events before ``c`` and the label is "no
event in ``[c, c + horizon)``". Train on earlier cuts, test on a later one whose label window starts
after every training label window ends (see ``benchmarks/bench_profiles.py`` on Taobao UserBehavior).

Example:
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> m = ChurnModel.fit(X, y, feature_names=("x",), horizon_days=1.0)
    >>> bool(m.predict_proba(np.array([[3.0]]))[0] > 0.5)
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa

from shelfwise.profiles.builder import build_states, seconds
from shelfwise.profiles.config import ChurnConfig
from shelfwise.profiles.state import ProfileUpdater, UserState

__all__ = ["FEATURE_NAMES", "ChurnModel", "churn_features", "churn_labels", "feature_matrix", "training_data"]

_DAY = 86_400.0

#: Features of :func:`churn_features`, in order.
FEATURE_NAMES: Final[tuple[str, ...]] = (
    "log_recency_hours",
    "log_tenure_days",
    "log_events",
    "log_sessions",
    "log_active_days",
    "active_day_rate",
    "log_activity_1d",
    "log_activity_7d",
    "purchase_share",
    "cart_share",
    "log_purchases",
    "log_events_per_session",
)
_READABLE: Final[dict[str, str]] = {
    "log_recency_hours": "time since last visit",
    "log_tenure_days": "time since first visit",
    "log_events": "number of events",
    "log_sessions": "number of sessions",
    "log_active_days": "number of active days",
    "active_day_rate": "share of days active",
    "log_activity_1d": "activity in the last day",
    "log_activity_7d": "activity in the last week",
    "purchase_share": "share of purchases",
    "cart_share": "share of cart adds",
    "log_purchases": "number of purchases",
    "log_events_per_session": "events per session",
}


def churn_features(
    state: UserState, now: float, activity_half_lives_days: Sequence[float] = (1.0, 7.0)
) -> np.ndarray:
    """float64 feature vector of one state at time ``now`` (see :data:`FEATURE_NAMES`)."""
    last = state.last_ts if state.last_ts is not None else now
    first = state.first_ts if state.first_ts is not None else now
    n = max(state.n_events, 1)
    tenure_days = max(now - first, 0.0) / _DAY
    purchases = state.type_counts.get("purchase", 0)
    act = state.activity_at(now, tuple(activity_half_lives_days))
    return np.array(
        [
            math.log1p(max(now - last, 0.0) / 3600.0),
            math.log1p(tenure_days),
            math.log1p(state.n_events),
            math.log1p(state.sessions),
            math.log1p(state.active_days),
            state.active_days / max(math.ceil(tenure_days), 1),
            math.log1p(act[0] if act else 0.0),
            math.log1p(act[1] if len(act) > 1 else 0.0),
            purchases / n,
            state.type_counts.get("add_to_cart", 0) / n,
            math.log1p(purchases),
            math.log1p(state.n_events / max(state.sessions, 1)),
        ]
    )


def feature_matrix(
    states: Sequence[UserState], now: float, activity_half_lives_days: Sequence[float] = (1.0, 7.0)
) -> np.ndarray:
    """``(n, len(FEATURE_NAMES))`` features of many states at the same ``now``."""
    if not states:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack([churn_features(s, now, activity_half_lives_days) for s in states])


def churn_labels(events: pa.Table, user_ids: Sequence[str], start: float, horizon_days: float) -> np.ndarray:
    """1 where the user has no event in ``[start, start + horizon)``, else 0 (int8, aligned with ``user_ids``)."""
    ts = seconds(events.column("timestamp"))
    users = np.asarray(events.column("user_id").to_pylist(), dtype=object)
    active = set(users[(ts >= start) & (ts < start + horizon_days * _DAY)].tolist())
    return np.array([0 if u in active else 1 for u in user_ids], dtype=np.int8)


def training_data(
    events: pa.Table, updater: ProfileUpdater, cuts: Sequence[float], horizon_days: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features (state before each cut, read at the cut) and labels (no event within the horizon).

    Returns:
        ``(X, y, recency_hours, user_ids)`` stacked over the cuts; users are those with an event before the cut.
    """
    xs, ys, rec, who = [], [], [], []
    hl = updater.config.activity_half_lives_days
    for cut in cuts:
        states = build_states(events, updater, until=cut)
        ids = sorted(states)
        sts = [states[u] for u in ids]
        xs.append(feature_matrix(sts, cut, hl))
        ys.append(churn_labels(events, ids, cut, horizon_days))
        rec.append(np.array([(cut - (s.last_ts or cut)) / 3600.0 for s in sts]))
        who.extend(ids)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(rec), who


@dataclass(frozen=True)
class ChurnModel:
    """A fitted logistic regression over standardised churn features.

    Attributes:
        feature_names: the features, in column order.
        mean / scale: standardisation.
        coef / intercept: weights on standardised features.
        horizon_days: the horizon the labels used.
        meta: facts about training (cuts, sizes, metrics).
    """

    feature_names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    horizon_days: float
    meta: dict[str, Any]

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        *,
        feature_names: Sequence[str] = FEATURE_NAMES,
        horizon_days: float = 2.0,
        config: ChurnConfig | None = None,
        meta: dict[str, Any] | None = None,
    ) -> ChurnModel:
        """Fit by IRLS (Newton) with an L2 penalty on the weights (not the intercept)."""
        cfg = config or ChurnConfig(horizon_days=horizon_days)
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale < 1e-9] = 1.0
        Z = np.hstack([np.ones((X.shape[0], 1)), (X - mean) / scale])
        beta = np.zeros(Z.shape[1])
        penalty = np.full(Z.shape[1], cfg.l2)
        penalty[0] = 0.0
        for _ in range(cfg.max_iter):
            p = 1.0 / (1.0 + np.exp(-np.clip(Z @ beta, -35, 35)))
            grad = Z.T @ (p - y) + penalty * beta
            hess = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(penalty) + 1e-9 * np.eye(Z.shape[1])
            step = np.linalg.solve(hess, grad)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(
            feature_names=tuple(feature_names),
            mean=tuple(mean.tolist()),
            scale=tuple(scale.tolist()),
            coef=tuple(beta[1:].tolist()),
            intercept=float(beta[0]),
            horizon_days=horizon_days,
            meta=dict(meta or {}, n_train=int(y.size), churn_rate=float(y.mean()) if y.size else None),
        )

    def _z(self, X: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(np.asarray(X, dtype=np.float64)) - np.asarray(self.mean)) / np.asarray(
            self.scale
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(churn) per row of features."""
        logit = self._z(X) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -35, 35)))

    def risk(
        self, state: UserState, now: float, activity_half_lives_days: Sequence[float] = (1.0, 7.0)
    ) -> float:
        """P(churn) of one state at ``now``."""
        return float(self.predict_proba(churn_features(state, now, activity_half_lives_days)[None, :])[0])

    def drivers(
        self, state: UserState, now: float, k: int = 2, activity_half_lives_days: Sequence[float] = (1.0, 7.0)
    ) -> list[str]:
        """Readable names of the ``k`` features pushing this user's risk up the most."""
        contrib = self._z(churn_features(state, now, activity_half_lives_days))[0] * np.asarray(self.coef)
        order = np.argsort(-contrib)[:k]
        return [_READABLE.get(self.feature_names[i], self.feature_names[i]) for i in order if contrib[i] > 0]

    def save(self, directory: Path) -> Path:
        """Write ``churn.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "churn.json"
        payload = {
            k: getattr(self, k)
            for k in ("feature_names", "mean", "scale", "coef", "intercept", "horizon_days", "meta")
        }
        path.write_text(json.dumps(payload, indent=1))
        return path

    @classmethod
    def load(cls, directory: Path) -> ChurnModel:
        """Inverse of :meth:`save`."""
        d = json.loads((directory / "churn.json").read_text())
        return cls(
            feature_names=tuple(d["feature_names"]),
            mean=tuple(d["mean"]),
            scale=tuple(d["scale"]),
            coef=tuple(d["coef"]),
            intercept=float(d["intercept"]),
            horizon_days=float(d["horizon_days"]),
            meta=dict(d["meta"]),
        )
