from __future__ import annotations

import pytest

from shelfwise.index.tokenize import Tokenizer, TokenizerConfig


def test_english_stemming_stopwords_possessives_hyphens() -> None:
    tok = Tokenizer()
    assert tok("The Women's Running Shoes") == ["women", "run", "shoe"]
    assert tok("t-shirt") == ["t", "shirt", "tshirt"]
    assert tok("i7-8700K 32GB") == ["i7", "8700k", "i78700k", "32gb"]
    assert tok("") == [] and tok(None) == []
    raw = Tokenizer(TokenizerConfig(stem=None, stopwords=None, join_hyphenated=False))
    assert raw("The t-shirts") == ["the", "t", "shirts"]


def test_full_width_and_case_are_folded() -> None:
    assert Tokenizer()("ＮＩＫＥ　Ａｉｒ") == Tokenizer()("nike air") == ["nike", "air"]


def test_chinese_jieba_and_chars() -> None:
    pytest.importorskip("jieba")
    tok = Tokenizer()
    words = tok("男款防水运动鞋 running")
    assert "运动鞋" in words and "防水" in words and words[-1] == "run"
    chars = Tokenizer(TokenizerConfig(chinese="chars"))("运动鞋")
    assert chars == ["运", "动", "鞋", "运动", "动鞋"]


def test_query_and_document_agree() -> None:
    tok = Tokenizer()
    assert set(tok("running shoe")) <= set(tok("Pegasus: a road-running shoe for runners"))
