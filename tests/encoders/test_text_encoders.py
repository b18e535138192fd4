"""The real all-MiniLM-L6-v2 through both backends (loaded / exported once per session; few, small tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shelfwise.encoders import EncoderConfig, build_encoder
from shelfwise.encoders.onnx import OnnxEncoder, _pooling_mode
from shelfwise.encoders.sentence_transformer import SentenceTransformerEncoder

TEXTS = [
    "Nike Pegasus 40 running shoe. Brand: Nike. Category: Shoes > Running. Light road shoe for daily runs.",
    "Espresso machine with milk frother, 15 bar. Category: Kitchen > Coffee.",
    "Stainless steel coffee grinder with 40 settings",
    "Trail running shoes for women, waterproof",
    "",
]


@pytest.fixture(scope="module")
def st_encoder(minilm) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(EncoderConfig(type="sentence-transformers"), model=minilm)


def test_sentence_transformers_contract(st_encoder: SentenceTransformerEncoder) -> None:
    docs = st_encoder.encode_documents(TEXTS)
    queries = st_encoder.encode_queries(["running shoes", "coffee"])
    assert docs.shape == (5, 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    sims = queries @ docs.T
    assert set(np.argsort(-sims[0])[:2]) == {0, 3}
    assert set(np.argsort(-sims[1])[:2]) == {1, 2}
    assert st_encoder.encode_documents([]).shape == (0, 384)
    with pytest.raises(TypeError):
        st_encoder.encode_documents("a single string")


def test_prefixes_change_vectors_and_version(minilm) -> None:
    plain = SentenceTransformerEncoder(EncoderConfig(type="sentence-transformers"), model=minilm)
    pre = SentenceTransformerEncoder(
        EncoderConfig(type="sentence-transformers", query_prefix="query: "), model=minilm
    )
    assert plain.model_version != pre.model_version
    assert not np.allclose(plain.encode_queries(["shoes"]), pre.encode_queries(["shoes"]))
    np.testing.assert_allclose(plain.encode_documents(["shoes"]), pre.encode_documents(["shoes"]), atol=1e-6)


@pytest.fixture(scope="module")
def tiny_st(tiny_bert: Path) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(EncoderConfig(type="sentence-transformers", model=str(tiny_bert)))


def test_onnx_matches_sentence_transformers(
    onnx_cache: Path, tiny_bert: Path, tiny_st: SentenceTransformerEncoder
) -> None:
    ref = tiny_st.encode_documents(TEXTS)
    cfg = EncoderConfig(type="onnx", model=str(tiny_bert), cache_dir=onnx_cache)
    fp32 = OnnxEncoder(cfg.model_copy(update={"quantize": "none"}))
    int8 = OnnxEncoder(cfg)
    assert fp32.export_dir == int8.export_dir  # exported once, reused
    assert fp32.dim == 32
    np.testing.assert_allclose(fp32.encode_documents(TEXTS), ref, atol=1e-4)  # smoothing keeps the function
    quant = int8.encode_documents(TEXTS)
    cos = np.sum(quant * ref, axis=1)
    assert quant.dtype == np.float32 and cos.min() > 0.95
    assert not np.allclose(quant, ref, atol=1e-4)  # really quantised
    assert fp32.model_version != int8.model_version
    mixed = OnnxEncoder(cfg.model_copy(update={"query_quantize": "none"}))
    np.testing.assert_allclose(mixed.encode_queries(TEXTS[:2]), ref[:2], atol=1e-4)
    meta = json.loads((int8.export_dir / "export.json").read_text())
    assert meta["ffn_out"] == ["encoder.layer.0.output.dense", "encoder.layer.1.output.dense"]


def test_onnx_batching_does_not_change_vectors(onnx_cache: Path, tiny_bert: Path) -> None:
    texts = [t * (i + 1) for i, t in enumerate(TEXTS[:4])] * 3  # lengths vary, so batches differ
    cfg = EncoderConfig(type="onnx", model=str(tiny_bert), quantize="none", cache_dir=onnx_cache)
    wide = OnnxEncoder(cfg.model_copy(update={"max_batch_tokens": 100_000}))
    narrow = OnnxEncoder(cfg.model_copy(update={"max_batch_tokens": 16}))
    np.testing.assert_allclose(wide.encode_documents(texts), narrow.encode_documents(texts), atol=1e-5)
    assert len(narrow._batches(np.array([300, 5, 5, 5]))) == 2  # the long text alone, short ones together
    assert [len(b) for b in wide._batches(np.array([10] * 100))] == [64, 36]  # batch_size caps the width


def test_build_encoder_with_cache(onnx_cache: Path, tiny_bert: Path) -> None:
    enc = build_encoder(EncoderConfig(type="onnx", model=str(tiny_bert), cache_dir=onnx_cache))
    enc.encode_documents(TEXTS)
    assert enc.last_misses == 5
    enc.encode_documents(TEXTS)
    assert enc.last_misses == 0
    with pytest.raises(ValueError):
        build_encoder(EncoderConfig.model_construct(type="nope"))


@pytest.mark.slow
def test_minilm_int8_stays_close_to_fp32(st_encoder: SentenceTransformerEncoder, tmp_path: Path) -> None:
    """The real export (SmoothQuant + int8): ~1 min. The benchmark measures it on the whole catalogue."""
    int8 = OnnxEncoder(EncoderConfig(type="onnx", cache_dir=tmp_path), calibration_texts=TEXTS)
    cos = np.sum(int8.encode_documents(TEXTS) * st_encoder.encode_documents(TEXTS), axis=1)
    assert cos.min() > 0.995


def test_onnx_refuses_pipelines_it_cannot_reproduce(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]'
    )
    with pytest.raises(ValueError, match="sentence-transformers"):
        _pooling_mode(tmp_path)
    (tmp_path / "modules.json").write_text(
        '[{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert _pooling_mode(tmp_path) == "cls"
