from __future__ import annotations

import json

from shelfwise.data.schema import Item
from shelfwise.encoders.item_text import ItemTextConfig, ItemTextTemplate, category_tail, clean_text, cut


def test_full_template_order_and_labels() -> None:
    item = {
        "title": "  Air Zoom   Pegasus 40 ",
        "brand": "Nike",
        "category": "Sports > Shoes > Running",
        "attributes": {"material": "mesh", "colour": "red", "size": [42, 43], "weight": "250 g"},
        "description": "<p>Light &amp; springy<br/>cushioning.</p>",
    }
    text = ItemTextTemplate(ItemTextConfig(max_attributes=3)).render(item)
    assert text == (
        "Air Zoom Pegasus 40. Brand: Nike. Category: Shoes > Running. "
        "colour: red; size: 42, 43; material: mesh. Light & springy cushioning."
    )


def test_brand_skipped_when_in_title_and_missing_parts_dropped() -> None:
    t = ItemTextTemplate()
    assert t.render({"title": "Nike Pegasus", "brand": "nike"}) == "Nike Pegasus."
    assert t.render({"description": "only a description"}) == "only a description"
    assert t.render({}) == ""
    assert (
        t.render({"title": "X", "description": float("nan"), "attributes": json.dumps({"a": 1})})
        == "X. a: 1."
    )


def test_truncation_keeps_the_head_and_cuts_at_words() -> None:
    cfg = ItemTextConfig(max_chars=80, max_title_chars=20)
    text = ItemTextTemplate(cfg).render({"title": "word " * 20, "description": "lorem ipsum " * 100})
    assert len(text) <= 80
    assert text.startswith("word word word word.")  # title cut at 20 chars, at a word boundary
    assert not text.endswith(("lor", "ipsu"))  # description cut at a word boundary
    assert cut("abcdef", 3) == "abc"


def test_accepts_schema_items_and_json_attributes() -> None:
    item = Item(
        item_id="1", title="Mug", brand="Acme", category="Home/Kitchen/Mugs", attributes={"colour": "blue"}
    )
    assert ItemTextTemplate().render(item) == "Mug. Brand: Acme. Category: Kitchen > Mugs. colour: blue."
    assert category_tail("A > B > C", 1) == "C"
    assert clean_text(None) == "" and clean_text("a\n\tb") == "a b"
    assert ItemTextTemplate().render_many([{"title": "a"}, {"title": "b"}]) == ["a.", "b."]
