"""Consent honoured end to end on the sample shop: a shopper without training consent is absent from the trained
recommender (artifact: user index and history rows) while their events stay stored; over real HTTP a shopper
without personalisation consent gets the anonymous list and no profile, a change of consent made by another
process (the CLI) takes effect at the service's next follower tick, and the scheduled retention purge runs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

from shelfwise.storage import open_store
from tests.api.conftest import ADMIN_KEY, NO_LIMITS, serving
from tests.web.conftest import ENCODER_CACHE, TEST_SETTINGS

PLANTED = "retention-marker-zx81-quokka"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The sample shop with one active shopper withholding training consent, built and trained."""
    pytest.importorskip("fastapi")
    from shelfwise.build import build_item_artifacts
    from shelfwise.config import load_settings
    from shelfwise.demo import run_demo
    from shelfwise.recommend import train_recommender

    path = tmp_path_factory.mktemp("consent") / "shop"
    run_demo(path)
    (path / "shelfwise.toml").write_text(TEST_SETTINGS.format(cache=ENCODER_CACHE))
    settings = load_settings(path / "shelfwise.toml", environ={})
    with open_store(path, create=False) as st:
        counts = Counter(st.read_events(["user_id"]).column("user_id").to_pylist())
        active = [u for u, n in counts.most_common() if n >= 5]
        no_training, no_personal = active[0], active[1]
        st.set_consent(no_training, '{"training": false}')
        build_item_artifacts(st, settings)
        train_recommender(st, settings, show_progress=False)
    return path, no_training, no_personal


def test_a_shopper_without_training_consent_is_absent_from_the_trained_model(
    shop: tuple[Path, str, str],
) -> None:
    path, no_training, other = shop
    folder = max((path / "artifacts" / "recommender").iterdir())
    ids = [str(u) for u in np.load(folder / "user_ids.npy", allow_pickle=False)]
    offsets = np.load(folder / "history_offsets.npy", allow_pickle=False)
    assert no_training not in ids and other in ids
    with open_store(path, create=False) as st:
        events = st.read_events(["user_id", "item_id"])
    with_items = events.filter(pa.compute.is_valid(events.column("item_id")))
    theirs = with_items.filter(pa.compute.equal(with_items.column("user_id"), no_training)).num_rows
    assert theirs >= 5, "their events are still stored"
    assert int(offsets[-1]) == with_items.num_rows - theirs  # history rows: everyone's events but theirs


def _rec(c: httpx.Client, user: str | None) -> dict:
    body = {"k": 10} if user is None else {"user_id": user, "k": 10}
    r = c.post("/v1/recommendations", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _plant_old_impression(path: Path) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with open_store(path, create=False) as st:
        st.write_impressions(
            pa.table(
                {
                    "request_id": ["old-request"],
                    "user_id": [None],
                    "timestamp": [old],
                    "context": [f'{{"query": "{PLANTED}"}}'],
                    "item_ids": [["x"]],
                    "scores": [[1.0]],
                    "arm": [None],
                }
            )
        )


def _holding(folder: Path, needle: str) -> list[str]:
    data = [needle.encode(e) for e in ("utf-8", "utf-16-le", "utf-32-le")]
    return [str(p) for p in folder.rglob("*") if p.is_file() and any(d in p.read_bytes() for d in data)]


def test_consent_over_http_takes_effect_at_the_next_request_and_the_purge_runs(
    shop: tuple[Path, str, str], tmp_path: Path
) -> None:
    import shutil

    path = tmp_path / "shop"
    shutil.copytree(shop[0], path)
    shopper = shop[2]
    _plant_old_impression(path)
    assert _holding(path, PLANTED)
    overrides = [*NO_LIMITS, "privacy.purge_every_hours=0.0005", "privacy.retention_days.impressions=1"]
    with (
        serving(path, overrides) as (server, app),
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as c,
    ):
        before = _rec(c, shopper)
        assert (
            before["personalised"] and before["fallback"] is None and before["personalisation_note"] is None
        )
        assert c.get(f"/v1/users/{shopper}/profile").status_code == 200

        r = c.put(f"/v1/users/{shopper}/consent", json={"personalisation": False})
        assert r.status_code == 200, r.text
        assert r.json()["effective"] == {"personalisation": False, "analytics": True, "training": True}
        after = _rec(c, shopper)
        anonymous = _rec(c, None)
        assert not after["personalised"] and "consent" in after["personalisation_note"]
        assert [i["item_id"] for i in after["items"]] == [i["item_id"] for i in anonymous["items"]]
        assert [i["item_id"] for i in after["items"]] != [i["item_id"] for i in before["items"]]
        profile = c.get(f"/v1/users/{shopper}/profile")
        assert profile.status_code == 404 and profile.json()["error"]["code"] == "no_consent"
        search = c.post("/v1/search", json={"query": "lipstick", "user_id": shopper, "k": 5})
        assert search.status_code == 200 and search.json()["personalised"] is False
        with open_store(path, create=False, read_only=True) as st:
            assert st.read_profiles([app.state.services.feedback.user_key(shopper)]).num_rows == 0

        item = after["items"][0]["item_id"]
        posted = c.post(
            "/v1/events", json={"events": [{"user_id": shopper, "item_id": item, "type": "view"}]}
        )
        assert posted.status_code == 200 and posted.json()["accepted"] == 1  # training, analytics still allow
        assert c.get(f"/v1/users/{shopper}/profile").status_code == 404  # and no profile is built from it
        nobody = "consents-to-nothing-5521"
        none = {"personalisation": False, "analytics": False, "training": False}
        assert c.put(f"/v1/users/{nobody}/consent", json=none).status_code == 200
        posted = c.post("/v1/events", json={"events": [{"user_id": nobody, "item_id": item, "type": "view"}]})
        assert posted.status_code == 200, posted.text
        assert (posted.json()["accepted"], posted.json()["not_recorded"]) == (0, 1)
        with open_store(path, create=False, read_only=True) as st:
            assert st.read_events(["event_id"], user_ids=[nobody]).num_rows == 0

        bad = c.put(f"/v1/users/{shopper}/consent", json={"marketing": True})
        assert bad.status_code == 422, bad.text
        empty = c.put(f"/v1/users/{shopper}/consent", json={})
        assert empty.status_code == 422 and "personalisation" in empty.json()["error"]["fix"]
        anon = httpx.put(f"{server.url}/v1/users/{shopper}/consent", json={"personalisation": True})
        assert anon.status_code in (401, 403)

        # another process changes it back: this service applies it at its next follower tick
        args = ["consent", shopper, "--personalisation", "yes", "--store", str(path), "--json"]
        cli = subprocess.run(
            [sys.executable, "-m", "shelfwise", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 0, cli.stderr
        deadline = time.monotonic() + 30
        again = _rec(c, shopper)
        while not again["personalised"] and time.monotonic() < deadline:
            time.sleep(0.2)
            again = _rec(c, shopper)
        assert again["personalised"] and again["fallback"] is None

        purge = app.state.services.purge
        deadline = time.monotonic() + 60
        while purge.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert purge.runs >= 1, "the scheduled purge did not run"
        assert purge.removed["impressions"] >= 1 and purge.last["cutoffs"]["events"] is None
        ids = app.state.services.store.read_impressions().column("request_id").to_pylist()
        assert "old-request" not in ids and ids, "new impressions are kept"
    assert not _holding(path, PLANTED)


def test_live_events_without_training_consent_feed_no_shared_statistics(shop: tuple[Path, str, str]) -> None:
    from shelfwise.config import load_settings
    from shelfwise.recommend import Recommender

    path = shop[0]
    with open_store(path, create=False) as st:
        rec = Recommender.load(st, load_settings(path / "shelfwise.toml", environ={}))
    rec.trainable = lambda user: user != "withholds"
    counts = rec.pipeline.ranker.state.items.counts
    item = next(i for i, k in rec.live.catalog.index.items() if k < rec.live.catalog.n_trained)
    now = time.time()

    def event(user: str, n: int) -> dict:
        return {
            "event_id": f"live-{n}",
            "user_id": user,
            "item_id": item,
            "type": "purchase",
            "timestamp": now,
        }

    before = float(counts.sum())
    assert rec.observe([event("withholds", 1)]) == 1  # their history grows: personalisation
    assert float(counts.sum()) == before  # the shared item statistics do not
    assert len(rec.live.histories[rec.live.users["withholds"]]) == 1
    assert rec.observe([event("counts", 2)]) == 1
    assert float(counts.sum()) == before + 1
