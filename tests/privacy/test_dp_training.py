"""DP-SGD on the sequential model (Opacus): the budget spent is the accountant's, recorded in the ledger,
refused when the ledger's budget is gone; the DP-trained model saves, loads and serves like any other."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("opacus")

from shelfwise.models.sequential import SequentialConfig, SequentialRecommender, sequences_from_split
from shelfwise.privacy.dp_training import DPTrainingSettings, dp_train_sequential, record_training
from shelfwise.privacy.ledger import BudgetExhaustedError, PrivacyLedger
from tests.models.conftest import TINY, ShopData, shop_data  # noqa: F401 - the fixture

DP = DPTrainingSettings(enabled=True, epsilon=3.0, epochs=2, batch_size=24, max_len=10, negatives=64, lr=1e-2)


class Meta(dict):  # type: ignore[type-arg]
    """The metadata part of a store (what the ledger uses)."""

    def get_meta(self, key: str, default: object = None) -> object:
        return self.get(key, default)

    def set_meta(self, key: str, value: object) -> None:
        self[key] = value


def _train(
    data: ShopData, dp: DPTrainingSettings, ledger: PrivacyLedger | None = None
) -> SequentialRecommender:
    train = sequences_from_split(data.split, data.data.users, data.data.items, ("train",))
    config = SequentialConfig.model_validate({**TINY, "text_neighbours": 0})
    return dp_train_sequential(config, train, len(data.data.items), dp, item_vectors=data.text, ledger=ledger)


def test_a_run_spends_what_the_rdp_accountant_reports_and_the_ledger_records_it(
    shop_data: ShopData,  # noqa: F811
    tmp_path: Path,
) -> None:
    from opacus.accountants import RDPAccountant

    ledger = PrivacyLedger(Meta(), epsilon_budget=10.0, delta_budget=0.1)
    model = _train(shop_data, DP, ledger)
    dp = model.report["dp"]
    n = len(shop_data.data.users)
    assert dp["delta"] == pytest.approx(1.0 / n) and dp["noise_multiplier"] > 0.3 and dp["steps"] > 0
    # the accountant's epsilon for this (noise, sampling rate, steps), recomputed independently
    check = RDPAccountant()
    check.history = [(dp["noise_multiplier"], dp["sample_rate"], dp["steps"])]
    assert dp["epsilon"] == pytest.approx(check.get_epsilon(dp["delta"]), rel=1e-9)
    assert 2.0 < dp["epsilon"] <= DP.epsilon * 1.05  # near the target Opacus calibrated the noise for
    release = record_training(ledger, model.report, "sequential", "7")
    assert release is not None and release.what == "trained sequential version 7"
    assert ledger.spent() == {"epsilon": dp["epsilon"], "delta": dp["delta"]}
    # the DP-trained model saves, loads and scores the same
    model.save(tmp_path / "m", include_user_sequences=False)
    loaded = SequentialRecommender.load(tmp_path / "m")
    seqs = [np.array([1, 2, 3]), np.array([5])]
    np.testing.assert_allclose(loaded.score_sequences(seqs), model.score_sequences(seqs), rtol=1e-5)


def test_a_run_that_does_not_fit_the_budget_is_refused_before_training(shop_data: ShopData) -> None:  # noqa: F811
    ledger = PrivacyLedger(Meta(), epsilon_budget=4.0, delta_budget=0.1)
    ledger.spend(2.0, 0.0, "event counts by item")
    with pytest.raises(BudgetExhaustedError, match="the shop has epsilon 2,"):
        _train(shop_data, DP, ledger)
    assert len(ledger.releases()) == 1


def test_epsilon_inf_trains_without_noise_and_is_never_a_release(shop_data: ShopData) -> None:  # noqa: F811
    model = _train(shop_data, DP.model_copy(update={"epsilon": math.inf}))
    assert model.report["dp"]["noise_multiplier"] == 0.0
    ledger = PrivacyLedger(Meta(), epsilon_budget=1.0, delta_budget=0.0)
    assert record_training(ledger, model.report, "sequential", "1") is None and not ledger.releases()
