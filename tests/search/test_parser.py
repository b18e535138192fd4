"""The parser end to end on a small shop whose right answers are known."""

from __future__ import annotations

import pytest

from shelfwise.search.query import Chip, Intent, QueryParser, QueryParserConfig


def test_brand_category_colour_price(parser: QueryParser) -> None:
    q = parser.parse("Puma RED sneakers under $50")
    assert q.brands == ("Puma",)
    assert q.categories == ("Footwear > Shoes > Casual Shoes",)  # "sneakers" by synonym
    assert q.colours == ("red",)
    assert (q.price_min, q.price_max, q.currency) == (None, 50.0, "USD")
    assert q.intent is Intent.SPECIFIC_PRODUCT
    assert q.residual == ""
    assert q.search_text == "puma red sneakers"


def test_brand_typo_is_corrected_against_the_catalogue(parser: QueryParser) -> None:
    q = parser.parse("pumma backpack")
    assert q.brands == ("Puma",)
    assert [(c.original, c.corrected, c.distance) for c in q.corrections] == [("pumma", "puma", 1)]
    assert q.corrected == "puma backpack"
    assert q.categories == ("Accessories > Bags > Backpacks",)


def test_known_words_numbers_and_short_words_are_never_corrected(parser: QueryParser) -> None:
    assert parser.parse("lee top").corrections == ()  # "lee" is short, "top" is known
    assert parser.parse("puma 2019 ps4").corrections == ()


def test_multi_word_brand_beats_the_colour_inside_it(parser: QueryParser) -> None:
    q = parser.parse("red tape formal shoes")
    assert q.brands == ("Red Tape",)
    assert q.colours == ()
    assert q.categories == ("Footwear > Shoes > Formal Shoes",)


def test_joined_and_fuzzy_multi_word_brands(parser: QueryParser) -> None:
    assert parser.parse("carltonlondon flats").brands == ("Carlton London",)
    assert parser.parse("carlten london flats").brands == ("Carlton London",)


def test_ambiguous_brand_yields_to_the_category(parser: QueryParser) -> None:
    q = parser.parse("pipettes")
    assert q.brands == ()
    assert q.categories == ("Lab > Pipettes & Pipettors",)


def test_colour_negation(parser: QueryParser) -> None:
    q = parser.parse("backpack not navy blue")
    assert q.colours == ()
    assert q.colours_excluded == ("navy blue",)
    assert q.filters()["colour_exclude"] == ["navy blue"]
    assert "not" not in q.search_text and "navy" not in q.search_text


def test_relative_price_band_maps_to_catalogue_terciles(parser: QueryParser) -> None:
    q = parser.parse("cheap shoes")
    assert q.price_band == "low"
    assert (q.price_min, q.price_max) == (None, None)  # no made-up number
    assert parser.vocab.prices is not None
    assert q.price_band_range == (None, parser.vocab.prices["low"])
    assert q.filters()["price_max"] == parser.vocab.prices["low"]
    off = QueryParser(parser.vocab, QueryParserConfig(resolve_price_bands=False)).parse("cheap shoes")
    assert off.price_band_range is None and "price_max" not in off.filters()


def test_sizes_and_units(parser: QueryParser) -> None:
    q = parser.parse("quechua water bottle 1 litre")
    assert q.sizes == ("1 l",)
    assert q.brands == ("Quechua",)
    assert "1 l" in q.search_text


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("nike", Intent.NAVIGATIONAL_BRAND),
        ("nike womens under 40", Intent.NAVIGATIONAL_BRAND),  # modifiers and constraints do not count
        ("nike dress", Intent.SPECIFIC_PRODUCT),
        ("nike air max", Intent.SPECIFIC_PRODUCT),
        ("iphone 5", Intent.SPECIFIC_PRODUCT),  # a model number without a brand
        ("red dresses", Intent.CATEGORY_BROWSE),
        ("sweatshirts for men", Intent.CATEGORY_BROWSE),
        ("batman", Intent.OTHER),
    ],
)
def test_intent_rule(parser: QueryParser, query: str, intent: Intent) -> None:
    assert parser.parse(query).intent is intent


def test_chinese_query(parser: QueryParser) -> None:
    q = parser.parse("耐克 粉色连衣裙 500元以下")
    assert q.brands == ("Nike",)
    assert q.colours == ("pink",)
    assert q.categories == ("Apparel > Dress",)
    assert (q.price_max, q.currency) == (500.0, "CNY")
    assert q.intent is Intent.SPECIFIC_PRODUCT


def test_mixed_chinese_english_and_chinese_negation(parser: QueryParser) -> None:
    q = parser.parse("puma 不要红色的运动鞋")
    assert q.brands == ("Puma",)
    assert q.colours_excluded == ("red",)
    assert q.categories == ("Footwear > Shoes > Sports Shoes",)


def test_chinese_colour_prefix_is_split(parser: QueryParser) -> None:
    q = parser.parse("黑鞋")
    assert q.colours == ("black",)
    assert q.categories == ("Footwear > Shoes",)


def test_brand_absent_from_the_catalogue_stays_in_the_residual(parser: QueryParser) -> None:
    q = parser.parse("李宁运动鞋")
    assert q.brands == ()
    assert q.residual == "李宁"


def test_filters_and_chips(parser: QueryParser) -> None:
    q = parser.parse("lee blue shirts between 10 and 30 dollars size xl")
    assert q.filters() == {
        "brand": ["Lee"],
        "category": ["Apparel > Topwear > Shirts"],
        "colour": ["blue"],
        "size": ["XL"],
        "price_min": 10.0,
        "price_max": 30.0,
        "currency": "USD",
    }
    assert q.chips() == [
        Chip("brand", "Lee", "Brand: Lee"),
        Chip("category", "Apparel > Topwear > Shirts", "Category: Shirts"),
        Chip("colour", "blue", "Colour: blue"),
        Chip("size", "XL", "Size: XL"),
        Chip("price", [10.0, 30.0], "$10–$30"),
    ]


def test_extractions_point_into_the_corrected_text(parser: QueryParser) -> None:
    q = parser.parse("pumma red sneakr under 40")
    assert q.corrected == "puma red sneaker under 40"
    for e in q.extractions:
        assert q.corrected[e.start : e.end] == e.text, e
    fields = {e.field for e in q.extractions}
    assert fields == {"brand", "colour", "category", "price"}


def test_to_dict_is_json_ready(parser: QueryParser) -> None:
    import json

    data = parser.parse("nike grey hoodie xl under $60").to_dict()
    assert json.loads(json.dumps(data))["intent"] == "specific_product"
    assert data["filters"]["size"] == ["XL"]
    assert [c["field"] for c in data["chips"]] == ["brand", "category", "colour", "size", "price_max"]


def test_empty_and_punctuation_queries(parser: QueryParser) -> None:
    for text in ("", "   ", "!!!"):
        q = parser.parse(text)
        assert q.intent is Intent.OTHER and q.filters() == {} and q.residual == ""


def test_parse_many_matches_parse(parser: QueryParser) -> None:
    texts = ["nike", "red tape", "cheap socks"]
    assert parser.parse_many(texts) == [parser.parse(t) for t in texts]


def test_a_chinese_catalogue_matches_its_own_chinese_names() -> None:
    from shelfwise.search.query import CatalogueVocabulary

    items = [
        {"title": "李宁 男子 跑步鞋 黑色", "brand": "李宁", "category": "运动鞋服 > 跑步鞋", "price": 299.0},
        {"title": "李宁 女子 运动T恤", "brand": "李宁", "category": "运动鞋服 > T恤", "price": 99.0},
        {"title": "安踏 篮球鞋", "brand": "安踏", "category": "运动鞋服 > 篮球鞋", "price": 399.0},
        {"title": "回力 帆布鞋 白色", "brand": "回力", "category": "休闲鞋 > 帆布鞋", "price": 59.0},
    ]
    parser = QueryParser(CatalogueVocabulary.build(items))
    q = parser.parse("李宁跑步鞋 300元以下")
    assert (q.brands, q.categories, q.price_max) == (("李宁",), ("运动鞋服 > 跑步鞋",), 300.0)
    q = parser.parse("回力白色帆布鞋")
    assert (q.brands, q.categories, q.colours) == (("回力",), ("休闲鞋 > 帆布鞋",), ("white",))
    assert parser.parse("李宁").intent is Intent.NAVIGATIONAL_BRAND
