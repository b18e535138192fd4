"""The product page (issue #20): "Similar items" and "Bought together" are different lists with true reasons,
never "you viewed" about the product on screen; the description and image show when the item has them; an
item nobody bought with anything says so instead of listing look-alikes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ANCHOR = "B000CSS8UE"
NEW = {
    "item_id": "NEW-TAPE-1",
    "title": "Gorilla Tape, Camo Duct Tape, 1.88 x 9 yd",
    "description": "Double-thick adhesive on a tough all-weather shell; camouflage print.",
    "category": "Industrial & Scientific > Tapes, Adhesives & Sealants > Adhesive Tapes > Duct Tape",
    "brand": "Gorilla",
    "price": 8.99,
    "currency": "USD",
    "image": "https://images.example/camo-tape.jpg",
    "available": True,
}


@pytest.fixture(scope="module")
def client(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from shelfwise.api import create_app
    from shelfwise.config import load_settings
    from shelfwise.data.ingest import Ingestor
    from shelfwise.storage import open_store

    path = tmp_path_factory.mktemp("product") / "shop"
    shutil.copytree(demo_store, path)
    settings = load_settings(path / "shelfwise.toml", environ={})
    with open_store(path) as st, Ingestor(st, settings) as ing:
        assert ing.ingest_table([NEW], "items").accepted == 1
    app = create_app(settings, store_path=path, background_load=False)
    with TestClient(app) as c:
        yield c


def _section(html: str, element_id: str) -> str:
    found = re.search(rf'<div id="{element_id}">(.*?)</div>\s*</section>', html, re.S)
    assert found, element_id
    return found.group(1)


def _items(section: str) -> list[str]:
    return re.findall(r'<article class="card" data-item-id="([^"]+)"', section)


def test_similar_and_bought_together_differ_and_say_why(client: TestClient) -> None:
    html = client.get(f"/shop/product/{ANCHOR}").text
    similar, together = _section(html, "similar"), _section(html, "bought-together")
    assert _items(similar) and _items(together) and _items(similar) != _items(together)
    assert re.search(r'class="reason"[^>]*>Bought together by \d+ shoppers?<', together)
    assert all(r.startswith("Similar: ") for r in re.findall(r'<span class="reason"[^>]*>([^<]+)<', similar))
    assert "you viewed" not in html


def test_description_and_image_show_and_an_unbought_item_says_so(client: TestClient) -> None:
    client.cookies.clear()  # a new visitor: nobody has looked at the new item with anything yet
    html = client.get(f"/shop/product/{NEW['item_id']}").text
    assert NEW["description"] in html
    assert f'<img class="thumb" src="{NEW["image"]}"' in html
    assert "No shopper has bought or looked at this together" in _section(html, "bought-together")
    assert _items(_section(html, "similar"))  # look-alikes exist: same category and brand
    # this visitor now looks at the duct tape in the same visit: the new item's page says so at once
    client.get(f"/shop/product/{ANCHOR}")
    together = _section(client.get(f"/shop/product/{NEW['item_id']}").text, "bought-together")
    assert _items(together) == [ANCHOR] and "Looked at together in 1 visit" in together
