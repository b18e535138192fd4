"""The A/B traffic simulator through the real serving path: A/A finds nothing, an injected lift is found."""

from __future__ import annotations

from pathlib import Path

from shelfwise.cli_serving import run_simulation
from shelfwise.config import load_settings


def _run(store: Path, lift: float, seed: int) -> dict:
    settings = load_settings(store / "shelfwise.toml", environ={})
    return run_simulation(
        store, settings, users=300, rounds=2, lift=lift, params_b={}, name=f"sim{seed}", seed=seed
    )


def test_aa_shows_no_difference_and_an_injected_lift_is_detected(api_store: Path) -> None:
    aa = _run(api_store, 0.0, seed=1)
    res = aa["result"]
    users = {a: res["arms"][a]["users"] for a in ("a", "b")}
    assert sum(users.values()) == aa["users"] == 300 and aa["requests"] == 600
    assert res["srm"]["passed"] and min(users.values()) > 110  # 50/50 within noise
    ctr = next(c for c in res["comparisons"] if c["metric"] == "ctr")
    assert not ctr["significant"] and ctr["low"] < 0 < ctr["high"]
    assert res["attributed_events"] > 0 and aa["events_sent"] > 0

    ab = _run(api_store, 2.0, seed=2)  # arm b: every click probability x3 (300 users: >= 100 per arm)
    ctr = next(c for c in ab["result"]["comparisons"] if c["metric"] == "ctr")
    assert ctr["significant"] and ctr["diff"] > 0 and ab["result"]["srm"]["passed"], str(ctr)
