"""Building, querying, saving and loading the catalogue vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from shelfwise.search.query import CatalogueVocabulary, VocabularyConfig

from .conftest import SHOP


def test_brands_from_the_brand_column(vocab: CatalogueVocabulary) -> None:
    names = {b.name for b in vocab.brands}
    assert {"Puma", "Red Tape", "Carlton London", "Lee", "Nike", "3M"} <= names
    assert "Generic" not in names  # an ignored brand value
    assert all(b.source == "column" for b in vocab.brands)  # no mining when the column has values


def test_brand_lookup_by_key_and_joined_key(vocab: CatalogueVocabulary) -> None:
    assert [b.name for b in vocab.brands_for("carlton london")] == ["Carlton London"]
    assert [b.name for b in vocab.brands_for("carltonlondon")] == ["Carlton London"]
    assert vocab.brands_for("carlton") == []


def test_a_brand_that_is_also_a_product_word_is_ambiguous(vocab: CatalogueVocabulary) -> None:
    (pipettes,) = vocab.brands_for("pipettes")
    assert pipettes.ambiguous
    assert not vocab.brands_for("puma")[0].ambiguous


def test_category_lookup_folds_plurals_and_keeps_the_most_general(vocab: CatalogueVocabulary) -> None:
    assert vocab.categories_for("casual shoe") == ("Footwear > Shoes > Casual Shoes",)
    assert vocab.categories_for("shoes") == ("Footwear > Shoes",)
    assert vocab.categories_for("tshirt") == ("Apparel > Topwear > Tshirts",)


def test_compound_category_names_match_by_their_plural_parts(vocab: CatalogueVocabulary) -> None:
    assert vocab.categories_for("adhesives") == ("Tools > Tapes, Adhesives & Sealants",)
    assert vocab.categories_for("tape") == ("Tools > Tapes, Adhesives & Sealants",)


def test_roots_holding_almost_everything_do_not_match() -> None:
    items = [{"title": f"Thing {i}", "category": f"Everything > Kind {i % 3}"} for i in range(30)]
    vocab = CatalogueVocabulary.build(items)
    assert vocab.categories_for("everything") == ()
    assert vocab.categories_for("kind 1") == ("Everything > Kind 1",)


def test_price_terciles_and_bands(vocab: CatalogueVocabulary) -> None:
    assert vocab.prices is not None
    low, high = vocab.prices["low"], vocab.prices["high"]
    assert vocab.prices["min"] <= low < high <= vocab.prices["max"]
    assert vocab.price_band_range("low") == (None, low)
    assert vocab.price_band_range("high") == (high, None)
    assert CatalogueVocabulary.build([{"title": "x"}]).price_band_range("low") == (None, None)


def test_words_and_product_types(vocab: CatalogueVocabulary) -> None:
    assert vocab.word_count("sneaker") == 2
    assert vocab.word_count("tshirt") >= 1  # joined form of "T-Shirt"
    assert vocab.is_product_type("shoes")  # a category name's head
    assert not vocab.is_product_type("blue")


def test_colours_from_titles_and_attributes() -> None:
    vocab = CatalogueVocabulary.build(
        [{"title": "Plain Mug", "attributes": json.dumps({"colour": "Navy Blue"})}, {"title": "Grey Mug"}]
    )
    assert vocab.colours == {"navy blue": 1, "grey": 1}


def test_build_from_an_arrow_table_matches_build_from_dicts() -> None:
    table = pa.Table.from_pylist(SHOP)
    a, b = CatalogueVocabulary.build(table), CatalogueVocabulary.build(SHOP)
    assert a.to_dict() == b.to_dict()


def test_brands_are_mined_when_the_column_is_empty() -> None:
    items = [
        {"title": t}
        for t in ("Zippo Lighter Black", "Zippo Hand Warmer", "Zippo Lighter Fluid", "Bic Lighter")
    ]
    vocab = CatalogueVocabulary.build(items)
    (zippo,) = vocab.brands_for("zippo")
    assert zippo.source == "mined"
    assert vocab.brands_for("bic") == []  # one title is not enough evidence
    assert CatalogueVocabulary.build(items, VocabularyConfig(mine_brands=False)).brands == ()


def test_save_load_round_trip(vocab: CatalogueVocabulary, tmp_path: Path) -> None:
    path = vocab.save(tmp_path / "vocab.json")
    again = CatalogueVocabulary.load(path)
    assert again.to_dict() == vocab.to_dict()
    assert again.categories_for("casual shoes") == vocab.categories_for("casual shoes")
    assert [b.name for b in again.brands_for("red tape")] == ["Red Tape"]
    assert CatalogueVocabulary.load(vocab.save(tmp_path)).n_items == vocab.n_items  # a folder works too
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "shelfwise/query-vocabulary" and data["version"] == 1


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a shelfwise query vocabulary"):
        CatalogueVocabulary.load(bad)
