"""Fixtures of the search tests: a small synthetic shop whose right answers are known (query
understanding), and the demo shop built with real indexes and the real encoder (the pipeline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shelfwise.config import Settings, load_settings
from shelfwise.search.query import CatalogueVocabulary, QueryParser

#: Encodings are cached across runs next to the ONNX export, so a re-run encodes nothing.
ENCODER_CACHE = Path.home() / ".cache" / "shelfwise"


def search_settings() -> Settings:
    """Default settings with the shared encoder cache."""
    return load_settings(environ={}, overrides=[f"search.encoder.cache_dir={ENCODER_CACHE}"])


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop (`shelfwise demo`) with its search indexes built (read it; copy it to change it)."""
    from shelfwise.build import build_item_artifacts
    from shelfwise.demo import run_demo
    from shelfwise.storage import open_store

    path = tmp_path_factory.mktemp("search") / "demo"
    run_demo(path)
    (path / "shelfwise.toml").write_text(f'[search.encoder]\ncache_dir = "{ENCODER_CACHE}"\n')
    with open_store(path, create=False) as st:
        build_item_artifacts(st, search_settings())
    return path


_ROWS = [  # title | brand | category path | price
    "Puma Men Black Running Sneaker | Puma | Footwear > Shoes > Sports Shoes | 60.0",
    "Puma Women Red Sneaker | Puma | Footwear > Shoes > Casual Shoes | 45.0",
    "Puma Unisex Backpack Navy Blue | Puma | Accessories > Bags > Backpacks | 35.0",
    "Red Tape Men Brown Formal Shoe | Red Tape | Footwear > Shoes > Formal Shoes | 80.0",
    "Red Tape Men Black Formal Shoe | Red Tape | Footwear > Shoes > Formal Shoes | 85.0",
    "Carlton London Women Gold Flats | Carlton London | Footwear > Shoes > Flats | 30.0",
    "Lee Men Blue Denim Shirt | Lee | Apparel > Topwear > Shirts | 25.0",
    "Lee Women White Top | Lee | Apparel > Topwear > Tops | 15.0",
    "Nike Women Pink Dress | Nike | Apparel > Dress > Dresses | 50.0",
    "Nike Men Grey Hooded Sweatshirt | Nike | Apparel > Topwear > Sweatshirts | 55.0",
    "Nike Men White T-Shirt | Nike | Apparel > Topwear > Tshirts | 20.0",
    "Generic Cotton Socks 3 Pack | Generic | Accessories > Socks | 5.0",
    "Quechua Blue Water Bottle 1 Litre | Quechua | Accessories > Water Bottle | 8.0",
    "Kipsta Football Size 5 | Kipsta | Sporting Goods > Footballs | 12.0",
    "Gorilla Glue Original 8 oz | Gorilla | Tools > Tapes, Adhesives & Sealants | 9.0",
    "3M Duct Tape Silver | 3M | Tools > Tapes, Adhesives & Sealants > Duct Tape | 7.0",
    "Pipettes Plastic Transfer Pipettes 100 pcs | Pipettes | Lab > Pipettes & Pipettors | 6.0",
    "Karter Scientific Plastic Transfer Pipettes | Karter Scientific | Lab > Pipettes & Pipettors | 9.0",
    "uxcell Transfer Pipettes 3ml | uxcell | Lab > Pipettes & Pipettors | 4.0",
]


def _item(row: str) -> dict[str, Any]:
    title, brand, category, price = row.split(" | ")
    return {"title": title, "brand": brand, "category": category, "price": float(price)}


SHOP: list[dict[str, Any]] = [_item(row) for row in _ROWS]


@pytest.fixture(scope="session")
def vocab() -> CatalogueVocabulary:
    return CatalogueVocabulary.build(SHOP)


@pytest.fixture(scope="session")
def parser(vocab: CatalogueVocabulary) -> QueryParser:
    return QueryParser(vocab)
