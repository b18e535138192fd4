"""The recommender after a restart: manifests name the store state, catch-up replays what came later,
observe is idempotent, and forgetting a shopper reaches every artifact file (on the demo shop)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.recommend import Recommender, RecommendRequest, train_recommender
from shelfwise.retrieval.item2item import CoOccurrenceSource
from shelfwise.retrieval.neighbours import sequence_cooccurrence
from shelfwise.retrieval.popular import PopularSource
from shelfwise.storage import open_store

OVERRIDES = [
    'recommend.sources=["als", "itemknn", "item2item", "popular"]',
    "recommend.ranker_max_users=400",
    "models.als.factors=32",
    "models.als.iterations=5",
]
T0 = 1_738_700_000  # after every demo event (and not in the future: ingest quarantines those)


def _settings() -> Settings:
    return load_settings(overrides=OVERRIDES, environ={})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shelfwise.demo import run_demo

    path = tmp_path_factory.mktemp("live") / "store"
    run_demo(path)
    with open_store(path) as st:
        train_recommender(st, _settings(), show_progress=False)
    return path


@pytest.fixture()
def store_copy(trained: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store"
    shutil.copytree(trained, path)
    return path


def _ingest_events(store_path: Path, rows: list[tuple[str, str, str, str, int]]) -> None:
    with open_store(store_path) as st, Ingestor(st, load_settings(environ={})) as ing:
        ing.ingest_table(
            [
                {"event_id": e, "user_id": u, "item_id": i, "type": t, "timestamp": ts}
                for e, u, i, t, ts in rows
            ],
            "events",
        )


def _manifest(store_path: Path, version: int = 1) -> dict:
    return json.loads(
        (store_path / "artifacts" / "recommender" / f"v{version:04d}" / "manifest.json").read_text()
    )


def test_manifest_names_the_store_state_it_was_trained_on(trained: Path) -> None:
    with open_store(trained) as st:
        assert _manifest(trained)["event_seq"] == st.max_event_seq() > 0
        assert _manifest(trained)["catalogue_seq"] == st.catalogue_seq() > 0
        assert _manifest(trained)["deletion_seq"] == st.deletion_seq() == 0


def test_restart_replays_events_stored_after_training(store_copy: Path) -> None:
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        items = [rec.catalog.ids[k] for k in range(3)]
        before_seq = st.max_event_seq()
    assert rec.recommend(RecommendRequest(user_id="late-shopper", k=5)).fallback == "popular"
    _ingest_events(
        store_copy, [(f"late-{k}", "late-shopper", i, "view", T0 + k) for k, i in enumerate(items)]
    )
    with open_store(store_copy) as st:  # the restart: a fresh process state from the store
        stored = st.read_events(["user_id", "item_id"], after_seq=before_seq).to_pylist()
        uid = stored[0]["user_id"]  # the stored (possibly pseudonymised) id
        rec = Recommender.load(st, _settings())
        assert rec.info()["event_seq"] == st.max_event_seq()
    assert [rec.catalog.ids[int(i)] for i in rec.histories[rec.users[uid]]] == items
    assert rec.recommend(RecommendRequest(user_id=uid, k=5)).fallback is None


def test_catch_up_is_idempotent_with_observe(store_copy: Path) -> None:
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        user = next(u for u, k in rec.users.items() if len(rec.histories[k]) >= 3)
        item = rec.catalog.ids[0]
    _ingest_events(
        store_copy, [("again-1", user, item, "view", T0), ("again-2", user, item, "click", T0 + 1)]
    )
    with open_store(store_copy) as st:
        rows = st.read_events(
            ["event_id", "user_id", "item_id", "type", "value", "timestamp", "seq"],
            after_seq=_manifest(store_copy)["event_seq"],
        ).to_pylist()
        stored_user = rows[0]["user_id"]
        length = len(rec.histories[rec.users[stored_user]]) if stored_user in rec.users else 0
        assert rec.observe(rows) == 2  # applied on write ...
        report = rec.catch_up(st)  # ... and seen again from the store's feed: counted once
        assert report["events_applied"] == 0 and report["event_seq"] == st.max_event_seq()
        assert rec.observe(rows) == 0
        assert rec.catch_up(st)["events_applied"] == 0
    assert len(rec.histories[rec.users[stored_user]]) == length + 2


def test_catalogue_changes_after_training_reach_the_restarted_recommender(store_copy: Path) -> None:
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        user = next(u for u, k in rec.users.items() if len(rec.histories[k]) >= 3)
        last = int(rec.histories[rec.users[user]][-1])
        cat = rec.catalog
        row = {"item_id": "NEW-LIVE", "title": cat.titles[last], "category": cat.categories[last]}
        gone = rec.recommend(RecommendRequest(user_id=user, k=3)).items[0].item_id
        with Ingestor(st, load_settings(environ={})) as ing:
            ing.ingest_table([{**row, "brand": cat.brands[last], "price": 9.5, "available": True}], "items")
            ing.ingest_table(
                [{"item_id": gone, "title": cat.titles[cat.index[gone]], "available": False}], "items"
            )
        report = rec.catch_up(st)  # a follower in the running process
        assert report["items_applied"] == 2 and report["catalogue_seq"] == st.catalogue_seq()
        assert rec.catch_up(st)["items_applied"] == 0
    served = [i.item_id for i in rec.recommend(RecommendRequest(user_id=user, k=10)).items]
    assert "NEW-LIVE" in served and gone not in served


def test_an_old_artifact_without_cursors_catches_up_by_time(store_copy: Path) -> None:
    path = store_copy / "artifacts" / "recommender" / "v0001" / "manifest.json"
    manifest = json.loads(path.read_text())
    for key in ("event_seq", "catalogue_seq", "deletion_seq"):
        manifest.pop(key)
    path.write_text(json.dumps(manifest))
    with open_store(store_copy) as st:
        item = st.read_items(["item_id"]).column(0)[0].as_py()
    _ingest_events(store_copy, [("old-1", "old-art-user", item, "view", T0)])
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        frozen = Recommender.load(st, _settings(), catch_up=False)
        assert rec.cursors.event_seq is None
        assert rec.info()["event_seq"] == st.max_event_seq()
    # only the one event later than the artifact's newest event time was replayed
    assert sum(len(h) for h in rec.histories) == sum(len(h) for h in frozen.histories) + 1


def _pair_only_they_made(src: CoOccurrenceSource, history: np.ndarray) -> tuple[int, int] | None:
    one = _single_log(history, src.n_items)
    cfg = src.config
    mine, _ = sequence_cooccurrence(
        one, cfg.window, backward_weight=cfg.backward_weight, distance_decay=cfg.distance_decay
    )
    assert src.counts is not None
    mine = mine.tocoo()
    for a, b, v in zip(mine.row, mine.col, mine.data, strict=True):
        if abs(float(src.counts[a, b]) - float(v)) < 1e-4 and src.sim[a, b] > 0:
            return int(a), int(b)
    return None


def _single_log(history: np.ndarray, n_items: int):  # type: ignore[no-untyped-def]
    from shelfwise.retrieval.history import EventLog

    n = history.size
    return EventLog(
        np.zeros(n, np.int32),
        history.astype(np.int32),
        np.ones(n, np.float32),
        np.zeros(n),
        np.array([0, n], np.int64),
        n_items,
    )


def test_forget_user_reaches_every_artifact_file(store_copy: Path) -> None:
    folder = store_copy / "artifacts" / "recommender" / "v0001"
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
    others = list(rec.users)
    i2i = rec.pipeline.source("item2item")
    assert isinstance(i2i, CoOccurrenceSource)
    chosen = None
    for user, k in rec.users.items():
        if any(user in o for o in others if o != user):
            continue  # an id inside another id could not be checked byte for byte
        pair = _pair_only_they_made(i2i, rec.histories[k])
        if pair is not None:
            chosen = user, k, pair
            break
    assert chosen is not None, "the demo shop has a pair only one shopper produced"
    user, k, (a, b) = chosen
    history = rec.histories[k].copy()
    pop = rec.pipeline.source("popular")
    assert isinstance(pop, PopularSource)
    pop_before = pop.scores.copy()
    kept = {u: rec.histories[j].copy() for u, j in rec.users.items() if u != user}
    assert rec.recommend(RecommendRequest(user_id=user, k=5)).fallback is None

    report = rec.forget_user(user)

    assert report["user_found"] and user not in json.dumps(report)
    v1 = report["artifacts"][0]
    assert v1["needs_retrain"] and any("ranker" in r for r in v1["reasons"])
    assert set(v1["sources_updated"]) >= {"item2item", "popular"}
    assert rec.recommend(RecommendRequest(user_id=user, k=5)).fallback == "popular"
    for path in folder.rglob("*"):  # numpy stores unicode as UTF-32: look for both encodings
        if path.is_file():
            blob = path.read_bytes()
            assert user.encode() not in blob and user.encode("utf-32-le") not in blob, path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["needs_retrain"] is True and manifest["needs_retrain_reasons"]

    with open_store(store_copy) as st:  # reload from disk: checksums hold, the shopper is unknown
        again = Recommender.load(st, _settings())
    assert user not in again.users
    assert {u: again.histories[j] for u, j in again.users.items()}.keys() == kept.keys()
    assert all(np.array_equal(again.histories[again.users[u]], h) for u, h in kept.items())
    flat = np.load(folder / "history_items.npy")
    assert flat.size == sum(h.size for h in kept.values())
    src = again.pipeline.source("item2item")
    assert isinstance(src, CoOccurrenceSource) and src.counts is not None
    assert src.counts[a, b] == 0 and src.sim[a, b] == 0
    pop_after = again.pipeline.source("popular")
    assert isinstance(pop_after, PopularSource)
    touched = np.unique(history)
    assert np.all(pop_after.scores[touched] < pop_before[touched])
    untouched = np.setdiff1d(np.arange(pop_before.size), touched)
    assert np.array_equal(pop_after.scores[untouched], pop_before[untouched])
    state = again.pipeline.ranker.state
    assert state is not None and state.funnel.user_items(k).size == 0


def test_a_deletion_logged_while_down_is_applied_on_restart(store_copy: Path) -> None:
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        user = next(u for u, k in rec.users.items() if len(rec.histories[k]) >= 3)
        st.delete_user(user)  # the store forgets; this recommender process is gone before it hears
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
        assert user not in rec.users
        assert rec.recommend(RecommendRequest(user_id=user, k=5)).fallback == "popular"
        ids = np.load(store_copy / "artifacts" / "recommender" / "v0001" / "user_ids.npy")
        assert user not in ids.tolist()
        assert _manifest(store_copy)["deletion_seq"] == st.deletion_seq() == 1
        assert rec.catch_up(st)["users_forgotten"] == 0  # applied once


def test_events_stored_before_a_kill_9_are_served_after_the_restart(store_copy: Path) -> None:
    """A process stores a new shopper's events and is killed (-9) while running; the restarted
    recommender serves that shopper from their stored history, not the popular fallback."""
    import signal
    import subprocess
    import sys

    with open_store(store_copy) as st:
        items = st.read_items(["item_id"]).column(0).to_pylist()[:3]
    script = (
        "import sys, time\n"
        "from shelfwise.config import load_settings\n"
        "from shelfwise.data.ingest import Ingestor\n"
        "from shelfwise.storage import open_store\n"
        "st = open_store(sys.argv[1])\n"
        "rows = [{'event_id': f'k9-{k}', 'user_id': 'killed-shopper', 'item_id': i, 'type': 'view',\n"
        f"         'timestamp': {T0} + k}} for k, i in enumerate(sys.argv[2:])]\n"
        "Ingestor(st, load_settings(environ={})).ingest_table(rows, 'events')\n"
        "print('stored', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(store_copy), *items], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "stored"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with open_store(store_copy) as st:
        rec = Recommender.load(st, _settings())
    resp = rec.recommend(RecommendRequest(user_id="killed-shopper", k=5))
    assert resp.fallback is None
    assert [rec.catalog.ids[int(i)] for i in rec.histories[rec.users["killed-shopper"]]] == items
