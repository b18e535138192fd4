"""The LightGBM wrapper: objectives, early stopping, contributions, save / load in LightGBM's own format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.ranking import LGBMConfig, LGBMModel


def test_lambdarank_needs_groups_and_orders_by_the_signal(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    groups = np.full(100, 20)
    x = rng.normal(size=(2000, 3)).astype(np.float32)
    y = (x[:, 1] + 0.3 * rng.normal(size=2000) > 1.0).astype(np.float32)
    cfg = LGBMConfig(n_estimators=60, min_child_samples=10, num_threads=1, early_stopping_rounds=5)
    with pytest.raises(ValueError, match="group"):
        LGBMModel(cfg).fit(x, y)
    m = LGBMModel(cfg).fit(x[:1600], y[:1600], groups=groups[:80], valid=(x[1600:], y[1600:], groups[80:]))
    # early stopping stopped early_stopping_rounds past the best round (well before n_estimators) and kept it
    assert len(m.evals) == m.best_iteration + cfg.early_stopping_rounds < cfg.n_estimators
    assert m.evals[m.best_iteration - 1] == max(m.evals)
    assert next(iter(m.importance())) == "f1"
    s = m.predict(x)
    assert np.corrcoef(s, x[:, 1])[0, 1] > 0.5
    contrib = m.contributions(x[:10])
    assert contrib.shape == (10, 4)
    np.testing.assert_allclose(contrib.sum(axis=1), s[:10], rtol=1e-4, atol=1e-5)
    m.save(tmp_path)
    back = LGBMModel.load(tmp_path)
    np.testing.assert_allclose(back.predict(x), s, rtol=1e-6)
    assert back.feature_names == ("f0", "f1", "f2") and back.best_iteration == m.best_iteration
    assert not any(p.suffix == ".pkl" for p in tmp_path.iterdir())


def test_unfitted_model_refuses_to_predict() -> None:
    with pytest.raises(RuntimeError):
        LGBMModel().predict(np.zeros((1, 2), np.float32))
