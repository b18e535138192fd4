"""Conversion prediction with a time split: will a shopper buy an item they have already engaged with?

Protocol (Taobao UserBehavior; any event log with purchases works):

* ``TemporalSplit(cut_time=test_cut, valid_cut_time=last train cut)``: test events (``>= test_cut``) are
  used only as test labels; training windows read nothing at or after ``test_cut`` (checked).
* A window at cut ``c``: the feature state of every event before ``c`` (the same
  :class:`~shelfwise.ranking.features.FeatureSet` as the ranker, built from the same state), one row per
  (user, item) pair the user touched before ``c`` (within ``lookback_days`` when set), label = the user
  bought the item in ``[c, c + horizon)``; ``clicked`` = any event on it in that window.
* LightGBM binary is trained on the windows at ``train_cuts`` (early stopping on a seeded fold of users)
  and scored on the window at ``test_cut``, beside baselines computed from the same state: item
  popularity (events on the item), the item's smoothed conversion rate, and a funnel heuristic
  (``EVENT_WEIGHTS``-weighted count of the user's own events on the item). The multi-objective model
  (p(click) x p(purchase | click)) is scored too.
* AUC, GAUC (grouped by user) and log loss come from the harness metrics; the baselines' probabilities for
  log loss come from a one-feature logistic regression on ``log(1 + score)`` fitted on the training
  windows. AUC intervals: 95% bootstrap over test users.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shelfwise.encoded.interactions import IdIndex
from shelfwise.encoded.splits import LeakageError, TemporalSplit
from shelfwise.metrics import get_metric
from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.config import ConversionConfig, MultiObjectiveConfig
from shelfwise.ranking.events import TYPES, EventBatch
from shelfwise.ranking.feature_base import BUY, TYPE_WEIGHTS, C, V, rate
from shelfwise.ranking.features import FeatureRequest, FeatureSet
from shelfwise.ranking.lgbm import LGBMModel
from shelfwise.ranking.merge import MergedCandidates
from shelfwise.ranking.multi_objective import ExpectedValueRanker
from shelfwise.ranking.state import FeatureState
from shelfwise.retrieval.base import UserContext

__all__ = ["ConversionResult", "PairFrame", "pair_frame", "run_conversion"]

log = logging.getLogger(__name__)

_DAY = 86_400.0
BASELINES = ("popularity", "item_conversion_rate", "funnel_heuristic")


def cut_seconds(cut: Any) -> float:
    """Unix seconds of a cut given as ISO text / datetime (naive = UTC) or a number of seconds."""
    if isinstance(cut, int | float | np.integer | np.floating):
        return float(cut)
    ts = pd.Timestamp(cut)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.value / 1e9


@dataclass(frozen=True, eq=False)
class PairFrame:
    """(user, item) rows of one or more windows.

    Attributes:
        features: float32 ``(n, n_features)``.
        purchased / clicked: float32 labels.
        users / items: int32 indices; ``window``: int32 window number.
        baselines: float64 baseline scores by name.
    """

    features: np.ndarray
    purchased: np.ndarray
    clicked: np.ndarray
    users: np.ndarray
    items: np.ndarray
    window: np.ndarray
    baselines: dict[str, np.ndarray]

    @staticmethod
    def concat(frames: list[PairFrame]) -> PairFrame:
        """Rows of several frames."""

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(f, name) for f in frames])

        return PairFrame(
            cat("features"),
            cat("purchased"),
            cat("clicked"),
            cat("users"),
            cat("items"),
            cat("window"),
            {b: np.concatenate([f.baselines[b] for f in frames]) for b in frames[0].baselines},
        )


def _histories(batch: EventBatch) -> dict[int, np.ndarray]:
    order = np.lexsort((np.arange(len(batch)), batch.users))
    u, i = batch.users[order], batch.items[order]
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]]) if u.size else np.zeros(0, np.int64)
    return {int(u[s]): i[s:e] for s, e in zip(starts, np.r_[starts[1:], u.size], strict=True)}


def pair_frame(
    history: EventBatch,
    labels: EventBatch,
    cut: float,
    state: FeatureState,
    features: FeatureSet,
    config: ConversionConfig,
    window: int = 0,
) -> PairFrame:
    """The rows of one window: pairs touched before ``cut``, labelled from ``labels`` (the label window)."""
    if len(history) and history.times.max() >= cut:
        raise LeakageError("the history of a window reaches past its cut")
    bought = set(
        zip(labels.of_type("purchase").users.tolist(), labels.of_type("purchase").items.tolist(), strict=True)
    )
    touched = set(zip(labels.users.tolist(), labels.items.tolist(), strict=True))
    hist = _histories(history)
    requests, users, ui_blocks = [], [], []
    for u, seq in hist.items():
        items = state.funnel.user_items(u)
        if config.lookback_days is not None:
            _, _, last = state.funnel.lookup(u, items)
            items = items[last >= cut - config.lookback_days * _DAY]
        if not items.size:
            continue
        empty = np.zeros((items.size, 0), dtype=np.float32)
        merged = MergedCandidates(items, (), empty, empty, np.full(items.size, -1, np.int32))
        requests.append(FeatureRequest(UserContext(user_index=u, history=seq), merged, now=cut))
        users.append(np.full(items.size, u, dtype=np.int32))
        ui_blocks.append(state.funnel.lookup(u, items)[0])
    x = features.compute_many(requests, state)
    u_all = np.concatenate(users) if users else np.zeros(0, np.int32)
    i_all = np.concatenate([r.candidates.items for r in requests]) if requests else np.zeros(0, np.int32)
    pairs = list(zip(u_all.tolist(), i_all.tolist(), strict=True))
    counts = state.items.counts[i_all].astype(np.float64)
    tot = state.items.totals
    ui = np.vstack(ui_blocks) if ui_blocks else np.zeros((0, len(TYPES)), np.float32)
    baselines = {
        "popularity": counts.sum(axis=1),
        "item_conversion_rate": rate(
            counts[:, BUY],
            np.maximum(counts[:, V] + counts[:, C], counts[:, BUY]),
            tot[BUY] / max(tot[V] + tot[C], tot[BUY], 1.0),
            config.features.conversion_prior,
        ),
        "funnel_heuristic": ui.astype(np.float64) @ TYPE_WEIGHTS.astype(np.float64),
    }
    return PairFrame(
        x,
        np.fromiter((p in bought for p in pairs), np.float32, len(pairs)),
        np.fromiter((p in touched for p in pairs), np.float32, len(pairs)),
        u_all,
        i_all,
        np.full(len(pairs), window, dtype=np.int32),
        baselines,
    )


@dataclass(frozen=True)
class ConversionResult:
    """Metrics of every model on the test window, with the data behind them."""

    metrics: dict[str, dict[str, float]]
    data: dict[str, Any]
    importance: dict[str, float] = field(default_factory=dict)
    feature_docs: dict[str, str] = field(default_factory=dict)


def _bootstrap_auc(y: np.ndarray, s: np.ndarray, users: np.ndarray, n: int, seed: int) -> tuple[float, float]:
    auc = get_metric("auc")
    uniq, inv = np.unique(users, return_inverse=True)
    rows_of = np.split(np.argsort(inv, kind="stable"), np.cumsum(np.bincount(inv))[:-1])
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        rows = np.concatenate([rows_of[k] for k in rng.integers(0, uniq.size, uniq.size)])
        if 0 < y[rows].sum() < rows.size:
            values.append(auc.compute(y[rows], s[rows]))
    lo, hi = np.percentile(values, [2.5, 97.5]) if values else (np.nan, np.nan)
    return float(lo), float(hi)


def _calibrate(train_score: np.ndarray, train_y: np.ndarray, test_score: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000)
    lr.fit(np.log1p(np.maximum(train_score, 0))[:, None], train_y)
    return np.asarray(lr.predict_proba(np.log1p(np.maximum(test_score, 0))[:, None])[:, 1], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Windows:
    """The labelled windows of one experiment.

    Attributes:
        train: rows of every training window.
        test: rows of the test window.
        features: the feature set that made the rows.
        attributes: catalogue facts aligned with the item index.
        info: sizes of the split and of each window.
    """

    train: PairFrame
    test: PairFrame
    features: FeatureSet
    attributes: ItemAttributes
    info: dict[str, Any]


def build_windows(events: pa.Table, items: pa.Table, config: ConversionConfig) -> Windows:
    """Split ``events`` in time and build the training windows and the test window (no row reads the future)."""
    test_cut = cut_seconds(config.test_cut)
    horizon = config.horizon_days * _DAY
    cuts = sorted(cut_seconds(c) for c in config.train_cuts)
    if any(c + horizon > test_cut for c in cuts):
        raise LeakageError("a training label window runs past the test cut")
    last_train_cut = max(config.train_cuts, key=cut_seconds) if config.train_cuts else None
    split = TemporalSplit(cut_time=config.test_cut, valid_cut_time=last_train_cut).split(events)
    users = IdIndex.from_values(events.column("user_id").to_pylist())
    item_index = IdIndex.from_values(events.column("item_id").to_pylist())
    known = np.sort(np.concatenate([split.train, split.valid]))
    past = EventBatch.from_table(split.table, users, item_index, known)
    test = EventBatch.from_table(split.table, users, item_index, split.test)
    catalogue = {str(r["item_id"]): r for r in items.to_pylist()}
    rows = [catalogue.get(str(i), {"item_id": str(i)}) for i in item_index.ids]
    attributes = ItemAttributes.from_table(pa.Table.from_pylist(rows) if rows else items)
    features = FeatureSet(config.features)
    frames = []
    for w, c in enumerate([*cuts, test_cut]):
        hist = past.before(c)
        label = past.between(c, c + horizon) if c < test_cut else test.between(c, c + horizon)
        state = FeatureState.from_batch(hist, attributes, len(users), config.features)
        frames.append(pair_frame(hist, label, c, state, features, config, w))
        log.info(
            "window %d: %d pairs, %d purchased", w, frames[-1].purchased.size, int(frames[-1].purchased.sum())
        )
    info = {
        "events": events.num_rows,
        "split": split.name,
        "split_sizes": split.sizes(),
        "windows": [
            {
                "cut": str(pd.Timestamp(c, unit="s", tz="UTC")),
                "label_window_days": config.horizon_days,
                "pairs": int(f.purchased.size),
                "purchased": int(f.purchased.sum()),
                "clicked": int(f.clicked.sum()),
                "users": int(np.unique(f.users).size),
                "role": "test" if c == test_cut else "train",
            }
            for c, f in zip([*cuts, test_cut], frames, strict=True)
        ],
    }
    return Windows(PairFrame.concat(frames[:-1]), frames[-1], features, attributes, info)


def _metrics(y: np.ndarray, score: np.ndarray, prob: np.ndarray, users: np.ndarray) -> dict[str, float]:
    return {
        "auc": get_metric("auc").compute(y, score),
        "gauc": get_metric("gauc").compute(y, score, users),
        "logloss": get_metric("logloss").compute(y, prob),
    }


def run_conversion(
    events: pa.Table,
    items: pa.Table,
    config: ConversionConfig | None = None,
    n_bootstrap: int = 200,
    windows: Windows | None = None,
) -> ConversionResult:
    """Run the experiment (see the module docstring) on an events table and its catalogue.

    Returns metrics on the test window and, under ``validation``, on the early-stopping users of the training
    windows (what model choices may be made on; the test window is read once).
    """
    config = config or ConversionConfig()
    w = windows or build_windows(events, items, config)
    train, te, features = w.train, w.test, w.features
    train_users = np.unique(train.users)
    held = np.random.default_rng(config.seed).choice(
        train_users, max(1, round(config.early_stopping_fraction * train_users.size)), replace=False
    )
    es = np.isin(train.users, held)
    model = LGBMModel(config.lgbm).fit(
        train.features[~es],
        train.purchased[~es],
        valid=(train.features[es], train.purchased[es], None),
        feature_names=features.names,
    )
    valid_scores = {"lightgbm": model.predict(train.features[es]).astype(np.float64)}
    if config.refit:  # all training users, the early-stopped number of rounds
        refit_cfg = config.lgbm.model_copy(update={"n_estimators": max(model.best_iteration, 1)})
        model = LGBMModel(refit_cfg).fit(train.features, train.purchased, feature_names=features.names)
    mo_cfg = MultiObjectiveConfig(click=config.lgbm, conversion=config.lgbm, missing_price="one")
    ev = ExpectedValueRanker(mo_cfg).fit(
        train.features,
        train.clicked,
        train.purchased,
        train.users,
        features,
        holdout=config.early_stopping_fraction,
        seed=config.seed,
        refit=config.refit,
    )
    probs: dict[str, np.ndarray] = {
        "lightgbm": model.predict(te.features).astype(np.float64),
        "expected_value": ev.predict(te.features, te.items, w.attributes)["p_purchase"].astype(np.float64),
    }
    scores = dict(probs)
    valid_probs = dict(valid_scores)
    for b in BASELINES:
        scores[b] = te.baselines[b]
        probs[b] = _calibrate(train.baselines[b][~es], train.purchased[~es], te.baselines[b])
        valid_scores[b] = train.baselines[b][es]
        valid_probs[b] = _calibrate(train.baselines[b][~es], train.purchased[~es], train.baselines[b][es])
    y, vy = te.purchased, train.purchased[es]
    metrics, validation = {}, {}
    for name in ["lightgbm", "expected_value", *BASELINES]:
        metrics[name] = _metrics(y, scores[name], probs[name], te.users)
        lo, hi = _bootstrap_auc(y, scores[name], te.users, n_bootstrap, config.seed)
        metrics[name] |= {"auc_ci_low": lo, "auc_ci_high": hi}
        if name in valid_scores:
            validation[name] = _metrics(vy, valid_scores[name], valid_probs[name], train.users[es])
    data = w.info | {
        "early_stopping_users": int(held.size),
        "best_iteration": model.best_iteration,
        "base_rate_test": float(y.mean()) if y.size else float("nan"),
        "validation": validation,
    }
    return ConversionResult(metrics, data, model.importance(), features.describe())
