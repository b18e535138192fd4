"""Brand and product-type mining from titles (catalogues without a brand column or taxonomy)."""

from __future__ import annotations

from shelfwise.search.query.config import VocabularyConfig
from shelfwise.search.query.mining import mine_brands, mine_product_types, title_head

TITLES = [
    "Hamilton Beach 2-Slice Toaster, Black",
    "Hamilton Beach Electric Kettle",
    "Hamilton Beach Hand Mixer",
    "Red Tape Men Brown Formal Shoe",
    "Red Tape Men Black Formal Shoe",
    "Red Cotton Kitchen Towel",
    "Red Ceramic Mug",
    "Women's Skechers Walking Shoe",
    "Skechers Men Running Shoe",
    "Samsung Galaxy S4 Case",
    "Samsung Galaxy S5 Case",
    "Samsung Galaxy Note Case",
    "Samsung Smart TV 40 inch",
    "Samsung Blu-ray Player",
    "Yoga Pants for Women, Black",
    "Yoga Pants Grey",
    "Yoga Pants Navy",
    "Classic Leather Belt",
    "Classic Wool Scarf",
    "Otterbox Defender Case for iPhone",
]


def _names(titles: list[str], **kw: object) -> list[str]:
    return [b.name for b in mine_brands(titles, **kw)]  # type: ignore[arg-type]


def test_multi_word_brands_extend_and_keep_their_short_form_as_alias() -> None:
    brands = {b.name: b for b in mine_brands(TITLES)}
    assert "Hamilton Beach" in brands and "Hamilton" not in brands
    assert "hamilton" in brands["Hamilton Beach"].aliases


def test_brand_starting_with_a_colour_word() -> None:
    names = _names(TITLES)
    assert "Red Tape" in names
    assert "Red" not in names


def test_leading_shopper_modifier_is_skipped() -> None:
    assert "Skechers" in _names(TITLES)
    assert not any(n.startswith("Women") for n in _names(TITLES))


def test_product_line_does_not_replace_the_brand() -> None:
    names = _names(TITLES)
    assert "Samsung" in names  # "Samsung Galaxy" starts 3 of 5 Samsung titles: below the extend share
    assert "Samsung Galaxy" not in names


def test_generic_words_and_product_phrases_are_not_brands() -> None:
    names = _names(TITLES, product_types={"pant"})
    assert "Classic" not in names
    assert "Yoga Pants" not in names


def test_min_count_applies() -> None:
    assert not any(n.startswith("Otterbox") for n in _names(TITLES))
    # one title is enough with min count 1 (and then the whole title prefix up to "Case" reads as the name)
    assert "Otterbox Defender" in _names(TITLES, config=VocabularyConfig(mine_min_count=1))


def test_lower_case_prose_vetoes_a_frequent_low_share_word() -> None:
    kinds = ["Mat", "Block", "Strap", "Towel", "Wheel", "Bolster"]
    titles = [f"Yoga {kinds[i % 6]} Model {i}" for i in range(12)]
    titles += [f"Brand{i} Thick Yoga {kinds[i % 6]}" for i in range(40)]
    descriptions = ["Great for yoga and pilates. Our yoga mat is thick."] * 5
    assert "Yoga" in _names(titles)
    assert "Yoga" not in _names(titles, descriptions=descriptions)


def test_title_head() -> None:
    assert title_head("Kryptonite Evolution Bike Lock, Black") == "lock"
    assert title_head("Samsung Galaxy S4 Case with Stand") == "case"
    assert title_head("Nike Men's Running Shoes - Blue") == "shoe"


def test_product_types_need_count_and_share() -> None:
    titles = ["A Bike Lock", "B Bike Lock", "C Bike Lock", "Lock Cable for Bike", "D Red Case"]
    types = mine_product_types(titles)
    assert types == {"lock": 3}
