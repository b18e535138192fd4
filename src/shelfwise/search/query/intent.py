"""The intent rule: what kind of search a query is, from what the parser found in it.

Constraints (colour, size, price, price band) and shopper modifiers ("men", "womens", "kids") never
change the intent. Of the rest:

========================================================  ====================
what the query names                                      intent
========================================================  ====================
a brand and nothing else                                  navigational_brand
a brand and anything else (product words, a model)        specific_product
no brand, but a model / number token ("iphone 5", "s4")   specific_product
no brand, no model, a category or product type            category_browse
none of these ("batman", "an extremely goofy movie")      other
========================================================  ====================

A *model token* is a word with a digit left over once prices and sizes are taken ("5" in "iphone 5",
"s4", "505"). A *product type* is a catalogue category name or a title head noun ("case", "blender").

Example:
    >>> classify_intent(brand=True, category=False, product_type=False, model=False, other_words=0)
    <Intent.NAVIGATIONAL_BRAND: 'navigational_brand'>
    >>> classify_intent(brand=False, category=True, product_type=True, model=False, other_words=1)
    <Intent.CATEGORY_BROWSE: 'category_browse'>
"""

from __future__ import annotations

from shelfwise.search.query.result import Intent


def classify_intent(
    *, brand: bool, category: bool, product_type: bool, model: bool, other_words: int
) -> Intent:
    """Apply the rule of the module docstring.

    Args:
        brand: a brand was found.
        category: a category path was matched.
        product_type: a product-type word is present (a category name counts too).
        model: a model / number token is present.
        other_words: content words left that are none of the above (fillers and modifiers excluded).
    """
    if brand:
        if not (category or product_type or model or other_words):
            return Intent.NAVIGATIONAL_BRAND
        return Intent.SPECIFIC_PRODUCT
    if model:
        return Intent.SPECIFIC_PRODUCT
    if category or product_type:
        return Intent.CATEGORY_BROWSE
    return Intent.OTHER
