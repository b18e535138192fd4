"""The symmetric-delete spelling corrector and its distance."""

from __future__ import annotations

import pytest

from shelfwise.search.query.spelling import SpellCorrector, osa_distance


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("nike", "nike", 0),
        ("nkie", "nike", 1),
        ("fragance", "fragrance", 1),
        ("refrigirator", "refrigerator", 1),
        ("gorrila", "gorilla", 2),
        ("abc", "xyz", 3),
        ("", "abc", 3),
    ],
)
def test_osa_distance(a: str, b: str, d: int) -> None:
    assert osa_distance(a, b, limit=3) == d


def test_distance_is_capped() -> None:
    assert osa_distance("aaaaaaaa", "bbbbbbbb", limit=2) == 3


@pytest.fixture()
def speller() -> SpellCorrector:
    return SpellCorrector(
        {"reebok": 12, "puma": 34, "pumas": 1, "backpack": 7, "sweatshirt": 6, "hard": 9, "disk": 4}
    )


def test_corrects_within_the_allowed_edits(speller: SpellCorrector) -> None:
    assert speller.correct("raebok", 1) == ("reebok", 1)
    assert speller.correct("backpak", 1) == ("backpack", 1)
    assert speller.correct("sweatshrt", 2) == ("sweatshirt", 1)
    assert speller.correct("swetshrt", 2) == ("sweatshirt", 2)


def test_respects_the_edit_limit(speller: SpellCorrector) -> None:
    assert speller.correct("swetshrt", 1) is None
    assert speller.correct("raebok", 0) is None


def test_prefers_fewer_edits_then_higher_count(speller: SpellCorrector) -> None:
    assert speller.correct("pumma", 1) == ("puma", 1)
    assert [w for w, _ in speller.candidates("pumaz", 1)] == ["puma", "pumas"]


def test_does_not_return_the_word_itself(speller: SpellCorrector) -> None:
    assert "puma" not in [w for w, _ in speller.candidates("puma", 2)]


def test_split_run_together_words(speller: SpellCorrector) -> None:
    assert speller.split("harddisk") == ("hard", "disk")
    assert speller.split("hardisk") is None
