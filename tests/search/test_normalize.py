"""Normalisation, keys, plural folding and tokenisation (English and Chinese)."""

from __future__ import annotations

import pytest

from shelfwise.search.query.normalize import compact, fold, fold_key, normalize_text, phrase_key, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＮＩＫＥ  Shoes", "nike shoes"),  # full-width letters, double space
        ("Men’s shirt – blue", "men's shirt - blue"),  # typographic apostrophe and dash
        ("5ML bottle", "5 ml bottle"),
        ("0.5 Fl. Oz perfume", "0.5 fl oz perfume"),
        ("8 ounce mason jars", "8 oz mason jars"),
        ("seagate 2TB", "seagate 2 tb"),
        ('13" macbook case', "13 in macbook case"),
        ("13-inch laptop", "13 in laptop"),
        ("烧杯500毫升", "烧杯500 ml"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_units_inside_words_are_left_alone() -> None:
    # "gb" inside a model code, and "in" as a word, are not quantities
    assert normalize_text("ps4 in black") == "ps4 in black"
    assert normalize_text("iphone 5s") == "iphone 5s"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Levi's", "levis"),
        ("LEVIS", "levis"),
        ("B&C Eagle", "bc eagle"),
        ("Black & Decker", "black and decker"),
        ("Ray-Ban", "ray ban"),
        ("Shop-Vac", "shop vac"),
    ],
)
def test_phrase_key(raw: str, key: str) -> None:
    assert phrase_key(raw) == key


def test_compact_joins_spellings() -> None:
    assert compact(phrase_key("Ray-Ban")) == compact(phrase_key("rayban")) == "rayban"


@pytest.mark.parametrize(
    ("word", "singular"),
    [
        ("batteries", "battery"),
        ("dresses", "dress"),
        ("shoes", "shoe"),
        ("cases", "case"),
        ("boxes", "box"),
        ("watches", "watch"),
        ("glass", "glass"),
        ("bus", "bus"),
        ("pants", "pant"),
        ("3d", "3d"),
        ("袜子", "袜子"),
    ],
)
def test_fold(word: str, singular: str) -> None:
    assert fold(word) == singular


def test_fold_key_folds_every_word() -> None:
    assert fold_key("sports shoes") == "sport shoe"


def test_tokenize_keeps_spans_and_drops_apostrophes() -> None:
    text = normalize_text("Levi's 505 jeans")
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["levis", "505", "jeans"]
    assert text[tokens[0].start : tokens[0].end] == "levi's"
    assert tokens[1].is_number and tokens[1].has_digit and not tokens[0].has_digit


def test_tokenize_chinese_with_jieba_and_skip_spans() -> None:
    text = normalize_text("耐克黑色运动鞋 500元以下")
    tokens = tokenize(text, skip=[(text.index("500"), len(text))])
    words = [t.text for t in tokens]
    assert words == ["耐克", "黑色", "运动鞋"]
    assert all(t.han for t in tokens)
    assert "".join(text[t.start : t.end] for t in tokens) == "耐克黑色运动鞋"
