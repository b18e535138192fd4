"""``shelfwise train`` with ``privacy.dp_training.enabled``: the sequential source is trained with DP-SGD, the
release lands in the shop's ledger under the artifact version, the model serves, and a run that no longer fits
the budget is refused before training."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("opacus")

from tests.web.conftest import ENCODER_CACHE

SETTINGS = """[search.encoder]
cache_dir = "{cache}"

[models.als]
factors = 16

[recommend]
sources = ["popular", "item2item", "sequential"]
k_per_source = 50
ranker_max_users = 200

[recommend.sequential]
hidden = 32
layers = 1
heads = 1

[privacy.dp]
epsilon_budget = 5.0
delta_budget = 0.5

[privacy.dp_training]
enabled = true
epsilon = 3.0
epochs = 1
batch_size = 64
negatives = 100
max_len = 10
"""


def test_train_charges_the_ledger_serves_and_refuses_once_the_budget_is_spent(tmp_path: Path) -> None:
    from shelfwise.config import load_settings
    from shelfwise.demo import run_demo
    from shelfwise.privacy.ledger import BudgetExhaustedError
    from shelfwise.privacy.releases import ledger_of
    from shelfwise.recommend import Recommender, RecommendRequest, train_recommender
    from shelfwise.storage import open_store

    store = tmp_path / "shop"
    run_demo(store)
    (store / "shelfwise.toml").write_text(SETTINGS.format(cache=ENCODER_CACHE))
    settings = load_settings(store / "shelfwise.toml", environ={})
    with open_store(store, create=False) as st:
        out = train_recommender(st, settings, show_progress=False)
        ledger = ledger_of(st, settings.privacy.dp)
        (release,) = ledger.releases()
        assert out["privacy_release"] == release.release_id
        assert release.what == f"trained sequential version {out['version']}"
        assert 2.5 < release.epsilon <= 3.0 * 1.05 and release.delta == pytest.approx(1.0 / out["users"])
        assert release.params["noise_multiplier"] > 0 and release.params["steps"] >= 1
        user = st.read_events(["user_id"]).column("user_id")[0].as_py()
        served = Recommender.load(st, settings).recommend(RecommendRequest(user_id=user, k=5))
        assert len(served.items) == 5
        with pytest.raises(BudgetExhaustedError, match="trained sequential"):
            train_recommender(st, settings, show_progress=False)  # 3 more do not fit the 2 left
        assert len(ledger.releases()) == 1
