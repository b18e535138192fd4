"""Product cards: a photo when the catalogue has one, a labelled placeholder when not; prices as shops write them."""

from __future__ import annotations

from shelfwise.web.assets import templates
from shelfwise.web.items import ItemView, price_text

ROW = {
    "item_id": "sku-1",
    "title": "Gorilla Glue <8 oz>",
    "category": "Industrial > Adhesives > Urethane Adhesives",
    "brand": "Gorilla",
    "price": 11.99,
    "currency": "USD",
    "available": False,
}


def _card_html(item: ItemView) -> str:
    macros = templates().env.get_template("_cards.html").module
    return str(macros.card(item.card("/shop/product/sku-1?slot=home", "Popular in the shop")))  # type: ignore[attr-defined]


def test_a_card_shows_the_catalogue_photo_with_the_title_as_alt_text() -> None:
    html = _card_html(ItemView.from_row({**ROW, "image": "/media/sku-1.jpg"}))
    assert '<img class="thumb" src="/media/sku-1.jpg" alt="Gorilla Glue &lt;8 oz&gt;"' in html
    assert "<svg" not in html


def test_without_a_photo_the_placeholder_names_the_category_and_the_card_says_out_of_stock() -> None:
    item = ItemView.from_row({**ROW, "image": None})
    html = _card_html(item)
    assert "<img" not in html
    assert 'aria-label="No photo: Urethane Adhesives"' in html and ">UA<" in html
    assert "Out of stock" in html and "Popular in the shop" in html
    assert 'data-price="11.99"' in html and "$11.99" in html


def test_price_text() -> None:
    assert price_text(1234.5, "USD") == "$1,234.50"
    assert price_text(9.0, "EUR") == "€9.00"
    assert price_text(9.0, "CHF") == "9.00 CHF"
    assert price_text(None, "USD") == ""
