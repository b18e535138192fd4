"""Settings of query understanding: how the catalogue vocabulary is built and how queries are parsed.

Example:
    >>> QueryParserConfig().max_edits_for(3), QueryParserConfig().max_edits_for(4)
    (0, 1)
    >>> QueryParserConfig().max_edits_for(10)
    2
"""

from __future__ import annotations

from pydantic import Field

from shelfwise.config_base import FrozenSection as _Section


class VocabularyConfig(_Section):
    """How :class:`~shelfwise.search.query.vocabulary.CatalogueVocabulary` reads a catalogue."""

    use_descriptions: bool = Field(
        False, description="add description words to the spelling dictionary (noisier, larger)"
    )
    mine_brands: bool | None = Field(
        None,
        description="mine brands from title prefixes; None = only when the catalogue has no brand column values",
    )
    mine_min_count: int = Field(2, ge=1, description="a mined brand must start at least this many titles")
    mine_min_start_share: float = Field(
        0.5, ge=0, le=1, description="share of a phrase's title occurrences that must be at the title start"
    )
    mine_frequent_count: int = Field(
        10, ge=1, description="a phrase starting this many titles needs only mine_frequent_share"
    )
    mine_frequent_share: float = Field(0.15, ge=0, le=1, description="start share for frequent phrases")
    mine_extend_share: float = Field(
        0.8,
        ge=0,
        le=1,
        description="extend a mined brand by the next word when this share of it continues so",
    )
    min_word_count: int = Field(
        2, ge=1, description="a word must occur this often to be a spelling-correction target"
    )
    type_min_count: int = Field(
        3, ge=1, description="a product-type (title head noun) must head this many titles"
    )
    type_min_share: float = Field(
        0.2, ge=0, le=1, description="share of a word's title occurrences that must be as the head noun"
    )
    max_category_share: float = Field(
        0.9, gt=0, le=1, description="top-level categories holding more than this share of items never match"
    )
    ignored_brands: tuple[str, ...] = Field(
        ("generic", "unknown", "unbranded", "none", "n a", "na", "no brand", "other", "oem", "various"),
        description="brand values that are not brands",
    )


class QueryParserConfig(_Section):
    """How :class:`~shelfwise.search.query.parser.QueryParser` reads a query."""

    max_ngram: int = Field(5, ge=1, description="longest phrase (in tokens) matched against the vocabulary")
    typo_min_len_1: int = Field(4, ge=1, description="shortest word corrected with one edit")
    same_length_below: int = Field(
        5,
        ge=1,
        description="a word shorter than this is corrected only when the catalogue never uses it, and only to "
        "a word of its own length (a swap or a substitution: 'tpae' -> 'tape', but not 'prom' -> 'pro')",
    )
    typo_min_len_2: int = Field(9, ge=1, description="shortest word corrected with two edits")
    known_min_count: int = Field(
        2, ge=1, description="a word seen this often in the catalogue is known and never corrected"
    )
    min_correction_ratio: float = Field(
        10.0,
        ge=1,
        description="a word seen in the catalogue (but rarely) is corrected only to a word this many times commoner",
    )
    fuzzy_brands: bool = Field(
        True, description="match multi-word brands within one edit of their joined form"
    )
    around_tolerance: float = Field(0.2, ge=0, lt=1, description='"around 50" becomes [50*(1-t), 50*(1+t)]')
    bare_amount_is_around: bool = Field(
        True, description='a lone amount with a currency ("$30") is read as "around" it'
    )
    resolve_price_bands: bool = Field(
        True, description="map cheap / premium to the catalogue's price terciles when it has prices"
    )
    default_currency: str | None = Field(
        None, description="currency assumed for amounts without a symbol (None = leave unknown)"
    )
    brand_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="extra alias -> brand (as the catalogue writes it), e.g. Chinese names",
    )
    category_synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description="extra query word -> category names to try, in order"
    )

    def max_edits_for(self, length: int) -> int:
        """Edit distance allowed when correcting a word of ``length`` characters."""
        if length >= self.typo_min_len_2:
            return 2
        if length >= self.typo_min_len_1:
            return 1
        return 0
