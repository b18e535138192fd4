"""Differential privacy: contribution bounding, OpenDP's calibrated noise, the budget ledger and its CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.privacy.dp import bound_contributions, dp_counts, laplace_scale, noisy_vector
from shelfwise.privacy.dp_config import DPSettings
from shelfwise.privacy.ledger import BudgetExhaustedError, PrivacyLedger
from shelfwise.privacy.releases import ledger_of, release_counts
from shelfwise.storage import open_store


def test_each_user_keeps_at_most_the_bound_and_every_user_stays() -> None:
    users = np.array([0] * 50 + [1] * 3 + [2] * 10)
    kept = bound_contributions(users, 5, seed=1)
    counts = np.bincount(users[kept])
    assert counts.tolist() == [5, 3, 5]
    assert len(set(kept.tolist())) == kept.size  # no row twice
    assert not np.array_equal(
        kept, bound_contributions(users, 5, seed=2)
    )  # a random subset, not the first rows


def test_noise_is_calibrated_by_opendp_to_sensitivity_over_epsilon() -> None:
    assert laplace_scale(1.0, 3) == pytest.approx(3.0, rel=1e-6)
    assert laplace_scale(0.5, 3) == pytest.approx(6.0, rel=1e-6)
    noise = noisy_vector(np.zeros(20_000, dtype=np.int64), epsilon=1.0, sensitivity=4)
    assert abs(noise.mean()) < 0.2
    assert noise.std() == pytest.approx(np.sqrt(2) * 4.0, rel=0.05)  # Laplace(b): sd = sqrt(2) b


def test_infinite_epsilon_gives_the_exact_bounded_counts() -> None:
    users = np.array([0, 0, 0, 1, 1, 2])
    keys = np.array([0, 1, 1, 2, 2, 0])
    exact = dp_counts(users, keys, 3, float("inf"), max_contributions=10)
    assert exact.tolist() == [2, 2, 2]
    noisy = dp_counts(users, keys, 3, 0.5, max_contributions=2, seed=0)
    assert noisy.shape == (3,) and (noisy >= 0).all()


class _Meta(dict):
    def get_meta(self, key: str, default: object = None) -> object:
        return self.get(key, default)

    def set_meta(self, key: str, value: object) -> None:
        self[key] = value


def test_the_ledger_refuses_a_release_once_the_budget_is_spent() -> None:
    ledger = PrivacyLedger(_Meta(), epsilon_budget=3.0, delta_budget=1e-6)
    ledger.spend(1.0, 0.0, "a")
    ledger.spend(2.0, 0.0, "b")
    with pytest.raises(BudgetExhaustedError, match="has epsilon 0, delta 1e-06 left of 3"):
        ledger.spend(0.5, 0.0, "c")
    with pytest.raises(BudgetExhaustedError):
        PrivacyLedger(_Meta(), 3.0, 1e-6).spend(0.1, 1e-5, "too much delta")
    assert [r.what for r in ledger.releases()] == ["a", "b"]  # a refusal records nothing


def test_releases_are_recorded_in_the_store_and_survive_reopening(
    tmp_path: Path, shop: SyntheticShop
) -> None:
    settings = DPSettings(epsilon_budget=2.0, epsilon_per_release=1.0, max_contributions=5, seed=0)
    with open_store(tmp_path / "s") as st:
        ing = Ingestor(st, load_settings(environ={}))
        ing.ingest_dataset(shop.dataset)
        by_item = release_counts(st, "item", settings)
        assert len(by_item["counts"]) == st.counts()["items"]
        release_counts(st, "category", settings)
        with pytest.raises(BudgetExhaustedError):
            release_counts(st, "day", settings)
    with open_store(tmp_path / "s", create=False) as st:
        ledger = ledger_of(st, settings).to_dict()
    assert [r["what"] for r in ledger["releases"]] == ["event counts by item", "event counts by category"]
    assert ledger["remaining"]["epsilon"] == 0.0


def test_cli_release_and_budget(tmp_path: Path, shop: SyntheticShop) -> None:
    store = tmp_path / "s"
    with open_store(store) as st:
        ing = Ingestor(st, load_settings(environ={}))
        ing.ingest_dataset(shop.dataset)
    env = {"SHELFWISE__PRIVACY__DP__EPSILON_BUDGET": "5"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        import os

        return subprocess.run(
            [sys.executable, "-m", "shelfwise", *args, "--store", str(store)],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
        )

    first = run("privacy", "release", "item", "--epsilon", "4", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["epsilon"] == 4.0
    second = run("privacy", "release", "day", "--epsilon", "2", "--json")
    assert (
        second.returncode == 2 and "refused" in second.stderr and len(second.stderr.strip().splitlines()) == 1
    )
    ledger = json.loads(run("privacy", "budget", "--json").stdout)
    assert [r["epsilon"] for r in ledger["releases"]] == [4.0] and ledger["remaining"]["epsilon"] == 1.0
