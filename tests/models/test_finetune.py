"""The LoRA two-tower text source on a tiny synthetic shop, with the real all-MiniLM-L6-v2 (a few steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("peft")
pytest.importorskip("transformers")

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import make_shop
from shelfwise.encoded.data import RecommendData, load_recommend_data
from shelfwise.evaluation.registry import recommender_names
from shelfwise.models.finetune import (
    FinetuneConfig,
    HistoryRenderer,
    PairSampler,
    RenderConfig,
    TextTower,
    TwoTowerTextSource,
)
from shelfwise.retrieval.base import Candidates, CandidateSource, UserContext
from shelfwise.retrieval.history import EventLog
from shelfwise.retrieval.sources_registry import build_source
from shelfwise.storage import open_store

#: A few cheap steps; no validation, so the trained adapters are kept whatever they score.
TINY = {"batch_size": 4, "max_steps": 3, "valid_users": 0, "cache_dir": None, "encode_batch_size": 32}


@pytest.fixture(scope="module")
def shop_data(tmp_path_factory: pytest.TempPathFactory) -> RecommendData:
    shop = make_shop(n_users=30, n_items=40, n_events=400, seed=3)
    folder = tmp_path_factory.mktemp("finetune") / "store"
    with open_store(folder) as store:
        Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
        return load_recommend_data(store)


@pytest.fixture(scope="module")
def contexts(shop_data: RecommendData) -> list:
    return EventLog.from_data(shop_data).contexts(np.arange(6))


@pytest.fixture(scope="module")
def frozen(shop_data: RecommendData) -> TwoTowerTextSource:
    return TwoTowerTextSource(FinetuneConfig(train=False, cache_dir=None)).fit(shop_data)


@pytest.fixture(scope="module")
def trained(shop_data: RecommendData) -> TwoTowerTextSource:
    return TwoTowerTextSource(FinetuneConfig(**TINY)).fit(shop_data)


def test_history_text_is_newest_first_distinct_and_capped() -> None:
    r = HistoryRenderer(["a", "b", "c", "d"], RenderConfig(history_items=3, separator=" | "))
    assert r.render(np.array([0, 1, 2, 1, 3])) == "d | b | c"
    assert r.render(np.array([], dtype=np.int32)) == ""


def test_pairs_never_train_on_the_held_out_item() -> None:
    seqs = [np.arange(10 * u, 10 * u + 6) for u in range(20)]
    sampler = PairSampler(seqs, valid_users=5, pairs_per_user=4, seed=1)
    held = {u: t for u, _, t in sampler.valid}
    assert len(held) == 5 and all(t == seqs[u][-1] for u, t in held.items())
    for user, t, target in sampler.epoch(0):
        assert t >= 1 and target == seqs[user][t]
        assert target != held.get(user, -1)


def test_frozen_tower_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    from shelfwise.encoders.base import resolve_model_path

    texts = ["Red matte lipstick", "Trail running shoes, size 42"]
    tower = TextTower(FinetuneConfig(train=False, cache_dir=None))
    ours = tower.encode(texts, 64)
    ref = st.SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    np.testing.assert_allclose((ours * ref).sum(axis=1), 1.0, atol=1e-4)


def test_the_source_conforms_to_candidate_source(
    frozen: TwoTowerTextSource, shop_data: RecommendData, contexts: list
) -> None:
    assert isinstance(frozen, CandidateSource) and frozen.name == "frozen_text"
    scores = frozen.score_all(contexts)
    assert scores.shape == (len(contexts), shop_data.n_items) and scores.dtype == np.float32
    ctx = contexts[0]
    banned = np.argsort(-scores[0])[:2].astype(np.int32)
    got = frozen.candidates(UserContext(history=ctx.history, exclude=banned), 5)
    assert isinstance(got, Candidates) and got.source == "frozen_text" and got.items.size == 5
    assert not np.isin(got.items, banned).any()
    assert np.all(np.diff(got.scores) <= 0)
    assert frozen.candidates(UserContext(), 5).items.size == 0  # nothing to go on: no candidates
    assert {"lora_text", "frozen_text"} <= set(recommender_names())
    built = build_source("lora_text", load_settings(environ={}))
    assert isinstance(built, TwoTowerTextSource) and built.name == "lora_text" and built.config.train


def test_training_changes_the_scores(
    trained: TwoTowerTextSource, frozen: TwoTowerTextSource, contexts: list
) -> None:
    assert trained.report is not None and trained.report.steps == 3
    diff = np.abs(trained.score_all(contexts) - frozen.score_all(contexts)).max()
    assert diff > 1e-4


def test_save_load_roundtrip(trained: TwoTowerTextSource, contexts: list, tmp_path: Path) -> None:
    trained.save(tmp_path / "art")
    files = {p.name for p in (tmp_path / "art").rglob("*") if p.is_file()}
    assert {"manifest.json", "item_vectors.safetensors", "adapter_model.safetensors"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".bin", ".pt"))]
    loaded = TwoTowerTextSource.load(tmp_path / "art")
    assert loaded.name == "lora_text" and loaded.report is not None
    np.testing.assert_allclose(loaded.score_all(contexts), trained.score_all(contexts), atol=1e-5)


def test_early_stopping_keeps_the_best_validated_adapters(shop_data: RecommendData) -> None:
    cfg = FinetuneConfig(**{**TINY, "valid_users": 4, "valid_pool": 10, "eval_every": 1, "max_steps": 2})
    source = TwoTowerTextSource(cfg).fit(shop_data)
    report = source.report
    assert report is not None and [v["step"] for v in report.valid] == [0, 1, 2]
    best = max(v["ndcg@10"] for v in report.valid)
    assert report.best_valid == best
    assert report.valid[[v["step"] for v in report.valid].index(report.best_step)]["ndcg@10"] == best
